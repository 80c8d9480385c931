"""onestop: an open-source platform on which a country runs its public services."""

__version__ = "0.1.0"
