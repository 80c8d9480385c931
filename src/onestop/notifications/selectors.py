"""Reads of the outbox."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Min, QuerySet

from onestop.notifications.models import PENDING, Channel, Message, Status


def messages_about(*, subject_type: str, subject_id: str) -> QuerySet[Message]:
    """The messages about one subject (e.g. an application), newest first."""
    return Message.objects.filter(subject_type=subject_type, subject_id=subject_id)


def status_counts() -> dict[str, int]:
    """How many messages are in each delivery status (every status, zeros included)."""
    counts = dict.fromkeys(Status.values, 0)
    rows = Message.objects.order_by().values_list("status").annotate(n=Count("pk"))
    counts.update(dict(rows))
    return counts


@dataclass(frozen=True)
class DeadGroup:
    """Dead messages alike: one channel, one template, one last error."""

    channel: str
    template: str
    last_error: str
    count: int
    first_id: int


@dataclass(frozen=True)
class OutboxSummary:
    """The outbox at a glance, for whoever keeps the worker running."""

    by_status: dict[str, dict[str, int]]  # status -> channel -> count, zeros included
    oldest_due: dt.datetime | None  # since when the longest-waiting message due is due
    dead: list[DeadGroup]  # largest groups first
    purged: int  # messages done with whose personal data was removed


def outbox_summary(*, now: dt.datetime, dead_groups: int = 20) -> OutboxSummary:
    """Counts per status and channel, since when the longest-waiting message due at
    `now` has been due (a failed one waiting for its retry is not due yet), and why
    messages died (grouped by channel, template and last error, which never holds a
    recipient). No recipient or context is read."""
    by_status = {status: dict.fromkeys(Channel.values, 0) for status in Status.values}
    rows = Message.objects.order_by().values_list("status", "channel").annotate(n=Count("pk"))
    for status, channel, n in rows:
        by_status.setdefault(status, dict.fromkeys(Channel.values, 0))[channel] = n
    oldest = Message.objects.filter(status__in=PENDING, next_attempt_at__lte=now).aggregate(
        at=Min("next_attempt_at"))
    dead = [
        DeadGroup(channel, template, error, n, first)
        for channel, template, error, n, first in Message.objects.filter(status=Status.DEAD)
        .order_by()
        .values_list("channel", "template", "last_error")
        .annotate(n=Count("pk"), first=Min("pk"))
        .order_by("-n", "channel", "template", "last_error")[:dead_groups]
    ]
    purged = Message.objects.filter(recipient="").count()
    return OutboxSummary(by_status, oldest["at"], dead, purged)
