"""The pledge engine: purchases, clicks and refunds become pledges and reversals, exactly once.

`engine.py` holds the guarantees (see its docstring), `batch.py` the unit of work it writes
through, `model.py` what it takes and gives back."""
