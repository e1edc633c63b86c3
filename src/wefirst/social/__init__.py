"""Public social actions as pledge events: sources (Mastodon, Bluesky AppView), the poll that
feeds them to the engine (pledges/social.py), and re-counting for `wefirst verify social`."""
