"""What onestop's management commands share."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db import DatabaseError


def database_problem(exc: DatabaseError) -> CommandError:
    """The one line a command prints when the database cannot be used (unreachable, or
    not migrated), instead of a traceback: `raise database_problem(exc) from None`."""
    return CommandError(
        f"database problem ({str(exc).strip()}); is it reachable and migrated "
        "(`onestop migrate`)?"
    )
