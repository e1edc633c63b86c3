"""Accountability cases: consumers open a case against (or in praise of) a brand, others
co-sign it, the brand answers in public, and every step lands in the transparency log.

The pure rules (model, text, states, duplicates, signals, messages) do no I/O; `service`
applies them to the database and `api/cases.py` / `cases/cli.py` are thin edges over it."""
