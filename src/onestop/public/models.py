"""Models of public monitoring."""
