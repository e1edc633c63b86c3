"""A standalone C2SP tlog-witness: anyone (a charity receiving the money, a watchdog, another
deployment) runs it to cosign the log's checkpoints only while the log stays append-only.

It imports nothing of wefirst beyond the pure log formats (``wefirst.tlog``'s note, checkpoint,
proofs and cosignature modules), keeps its own small SQLite state and needs no database server."""
