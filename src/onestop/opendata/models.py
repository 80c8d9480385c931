"""Models of open data."""
