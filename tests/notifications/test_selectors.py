from __future__ import annotations

from collections.abc import Callable

from onestop.notifications.models import Message, Status
from onestop.notifications.selectors import messages_about, status_counts


def test_messages_about_one_subject(queue: Callable[..., Message]) -> None:
    mine = [queue(), queue(template="result_issued")]
    queue(subject_id="KZ-2026-000999")
    found = messages_about(subject_type="application", subject_id="KZ-2026-000123")
    assert sorted(m.pk for m in found) == sorted(m.pk for m in mine)


def test_status_counts_include_every_status(queue: Callable[..., Message]) -> None:
    sent = queue()
    queue()
    Message.objects.filter(pk=sent.pk).update(status=Status.SENT)
    assert status_counts() == {"queued": 1, "sending": 0, "sent": 1, "failed": 0, "dead": 0}
