"""Reads of the outbox."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from onestop.notifications.models import Message, Status


def messages_about(*, subject_type: str, subject_id: str) -> QuerySet[Message]:
    """The messages about one subject (e.g. an application), newest first."""
    return Message.objects.filter(subject_type=subject_type, subject_id=subject_id)


def status_counts() -> dict[str, int]:
    """How many messages are in each delivery status (every status, zeros included)."""
    counts = dict.fromkeys(Status.values, 0)
    rows = Message.objects.order_by().values_list("status").annotate(n=Count("pk"))
    counts.update(dict(rows))
    return counts
