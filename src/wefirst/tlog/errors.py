"""One error family for the log, so that no parser or verifier ever leaks a raw ValueError,
IndexError or binascii.Error to the caller: a bad checkpoint, tile, bundle, key or proof is
always answered with a message that names what was wrong."""


class TlogError(Exception):
    """Base of every log error; catch this one at the edges (CLI, HTTP)."""


class LogFormatError(TlogError):
    """Bytes or text that do not follow the formats pinned in TLOG.md (malformed input)."""


class VerificationError(TlogError):
    """Well-formed input that does not check out: bad signature, wrong root, failed proof."""


class NotFoundError(TlogError):
    """Something the log should publish (tile, bundle, checkpoint) is absent."""


class PendingError(TlogError):
    """The entry is queued but no signed checkpoint covers it yet: try again shortly."""
