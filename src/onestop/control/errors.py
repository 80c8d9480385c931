"""What handling a violation can be refused for; each maps to one HTTP status."""

from __future__ import annotations


class ControlError(Exception):
    """Base class: the message is safe to show to the user who asked."""


class Invalid(ControlError):
    """422: bad input (a missing note, an unknown action)."""


class NotFound(ControlError):
    """404: no such violation, or not visible to this user (never say which)."""


class Forbidden(ControlError):
    """403: this user may not read violations or may not do this."""


class Conflict(ControlError):
    """409: contradicts the violation's state (a closed violation handled again)."""


STATUS: dict[type[ControlError], int] = {Invalid: 422, NotFound: 404, Forbidden: 403,
                                         Conflict: 409}


def status_of(exc: ControlError) -> int:
    return STATUS.get(type(exc), 400)
