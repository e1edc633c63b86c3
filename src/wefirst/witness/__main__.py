"""`python -m wefirst.witness`: the witness alone, without importing the rest of wefirst."""

from wefirst.witness.cli import app

app()
