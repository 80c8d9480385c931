"""Models of interchange formats."""
