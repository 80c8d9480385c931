"""What a rating or a complaint can be refused for; each maps to one HTTP status."""

from __future__ import annotations


class FeedbackError(Exception):
    """Base class: the message is safe to show to the user who asked."""


class Invalid(FeedbackError):
    """422: the input breaks the pack's rules (criteria, scores, grounds, limits)."""


class NotFound(FeedbackError):
    """404: no such thing, or not visible to this user (never say which)."""


class Forbidden(FeedbackError):
    """403: visible, but this user may not do this."""


class Conflict(FeedbackError):
    """409: contradicts what is recorded (a rating past its change window, a decided
    complaint decided again)."""


class RatingChangeClosed(Conflict):
    """409: a rating asked to change after the pack's change window closed."""


STATUS: dict[type[FeedbackError], int] = {
    Invalid: 422, NotFound: 404, Forbidden: 403, Conflict: 409, RatingChangeClosed: 409,
}


def status_of(exc: FeedbackError) -> int:
    return STATUS.get(type(exc), 400)
