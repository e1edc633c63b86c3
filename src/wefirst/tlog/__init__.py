"""The public, append-only Merkle log (RFC 6962 hashing, C2SP tlog-tiles, tlog-checkpoint and
signed-note). The pure modules (hashing, tiles, note, checkpoint, proofs, integrate) do no I/O so
that the verifier CLI, the server and tests share exactly the same format code."""
