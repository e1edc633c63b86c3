"""Model files shipped with the package (data only; see MODEL_CARD.md)."""
