"""Models of integrity and optimisation."""
