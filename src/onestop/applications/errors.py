"""What a submission or an action can be refused for; each maps to one HTTP status."""

from __future__ import annotations


class ApplicationError(Exception):
    """Base class: the message is safe to show to the user who asked."""


class SubmissionInvalid(ApplicationError):
    """422: the form or its documents do not meet the standard; every problem per field."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        self.problems = problems
        super().__init__(
            "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in problems.items())
        )


class NotFound(ApplicationError):
    """404: no such thing, or not visible to this user (never say which)."""


class Forbidden(ApplicationError):
    """403: visible, but this user may not do this."""


class Conflict(ApplicationError):
    """409: contradicts what is recorded (an idempotency key reused for another request)."""
