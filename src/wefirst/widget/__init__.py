"""Click-to-give widget: challenge tokens, fraud checks, publishers and the click service.

The pure modules (`challenge`, `pow`, `origins`, `fraud`, `hashing`) do no I/O so the rules
that decide whether a click counts can be tested exhaustively without a server.
"""
