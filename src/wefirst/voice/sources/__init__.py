"""Post sources. Each is a small adapter that turns one network's payloads into `Post`s (and
`Deletion`s); parsers are pure functions, fetchers/streamers wrap them with the I/O."""
