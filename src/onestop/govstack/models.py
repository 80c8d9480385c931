"""Models of GovStack Registration."""
