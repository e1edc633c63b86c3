"""The promise ledger: double-entry, append-only postings of pledged → paid → delivered."""
