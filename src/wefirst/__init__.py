"""wefirst: brands\x27 social promises, real and checkable."""

__version__ = "0.1.0"
