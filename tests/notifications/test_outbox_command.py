"""`onestop outbox status|retry|purge` on the real database: dead messages queued again
once their channel is mended, and delivered once; personal data of old messages purged;
every change in the audit chain; bad requests refused with a message, changing nothing."""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Callable

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from onestop.audit.models import AuditEntry
from onestop.notifications.channels import FileChannel
from onestop.notifications.conf import NotifyConfig
from onestop.notifications.delivery import Worker
from onestop.notifications.models import Message, Status
from tests.notifications.conftest import CONTEXT
from tests.notifications.fakes import FakeChannel, FakeClock


def outbox(*args: str) -> str:
    out = io.StringIO()
    call_command("outbox", *args, stdout=out)
    return out.getvalue()


def worker_with(channel: object, config: NotifyConfig) -> Worker:
    return Worker(
        channels=dict.fromkeys(["email", "sms", "webhook", "file"], channel),  # type: ignore[arg-type]
        config=config, name="w1", rng=random.Random(3), clock=FakeClock(timezone.now()),
    )


def dead(queue: Callable[..., Message], *, error: str = "SMTP 421 try later",
         **overrides: object) -> Message:
    message = queue(**overrides)
    Message.objects.filter(pk=message.pk).update(status=Status.DEAD, attempts=4,
                                                 last_error=error)
    return Message.objects.get(pk=message.pk)


def test_status_counts_per_status_and_channel_and_groups_dead_messages(
    queue: Callable[..., Message],
) -> None:
    first = dead(queue)
    dead(queue)
    dead(queue, channel="sms", recipient="+77011234567", error="gateway said 403")
    queue()
    text = outbox("status")
    lines = text.splitlines()
    assert lines[0].split() == ["status", "email", "sms", "webhook", "file", "total"]
    assert lines[1].split() == ["queued", "1", "0", "0", "0", "1"]
    assert lines[5].split() == ["dead", "2", "1", "0", "0", "3"]
    assert "oldest message waiting: due since" in text
    assert f"email    application_submitted              2 #{first.pk}" in text
    assert "SMTP 421 try later" in text
    assert "gateway said 403" in text
    assert "aigerim@example.kz" not in text
    assert "+77011234567" not in text


def test_status_of_an_empty_outbox(db: None) -> None:
    text = outbox("status")
    assert "nothing due to be sent now" in text
    assert "dead messages" not in text


def test_a_message_waiting_for_its_retry_is_not_due_yet(queue: Callable[..., Message]) -> None:
    later, due = queue(), queue()
    Message.objects.filter(pk=later.pk).update(
        status=Status.FAILED, next_attempt_at=timezone.now() + dt.timedelta(minutes=30))
    assert "oldest message waiting: due since" in outbox("status")
    Message.objects.filter(pk=due.pk).update(status=Status.SENT)
    text = outbox("status")
    assert "nothing due to be sent now" in text
    assert text.splitlines()[4].split() == ["failed", "1", "0", "0", "0", "1"]


def test_retry_after_the_channel_is_mended_delivers_once_with_the_same_key(
    queue: Callable[..., Message], config: NotifyConfig
) -> None:
    message = queue()
    down = FakeChannel(permanent=True)
    assert worker_with(down, config).run_batch(batch=10).dead == 1
    assert "queued 1 dead message again" in outbox("retry", "--id", str(message.pk))
    stored = Message.objects.get(pk=message.pk)
    assert (stored.status, stored.attempts, stored.claimed_by) == (Status.QUEUED, 0, "")
    assert stored.idempotency_key == message.idempotency_key
    file = FileChannel(config.outbox_dir, echo=lambda _: None)
    assert worker_with(file, config).run_batch(batch=10).sent == 1
    assert Message.objects.get(pk=message.pk).status == Status.SENT
    lines = (config.outbox_dir / "email.jsonl").read_text().splitlines()
    assert len(lines) == 1
    assert str(message.idempotency_key) in lines[0]
    entry = AuditEntry.objects.get(action="outbox.retry")
    assert entry.actor_role == "admin"
    assert entry.actor_username.startswith("cli")
    assert entry.data["queued"] == 1
    assert entry.data["ids"] == [message.pk]
    call_command("audit", "verify", stdout=io.StringIO())


def test_retry_chooses_by_channel_template_and_day(queue: Callable[..., Message]) -> None:
    email = dead(queue)
    sms = dead(queue, channel="sms", recipient="+77011234567")
    other = dead(queue, template="result_issued")
    old = dead(queue, channel="sms", recipient="+77011234568")
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=9))
    since = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    assert "would queue 1 dead message again" in outbox(
        "retry", "--channel", "sms", "--since", since, "--dry-run")
    assert Message.objects.filter(status=Status.DEAD).count() == 4  # a dry run changes nothing
    assert not AuditEntry.objects.filter(action="outbox.retry").exists()
    outbox("retry", "--channel", "sms", "--since", since)
    outbox("retry", "--template", "result_issued")
    statuses = dict(Message.objects.values_list("pk", "status"))
    assert statuses == {email.pk: Status.DEAD, sms.pk: Status.QUEUED, other.pk: Status.QUEUED,
                        old.pk: Status.DEAD}
    assert "queued 2 dead messages again" in outbox("retry", "--all")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["retry"], "choose the dead messages"),
        (["retry", "--id", "999999"], "no message 999999"),
        (["retry", "--id", "0"], "positive whole numbers"),
        (["retry", "--since", "2026-13-01"], "--since takes a date as YYYY-MM-DD"),
        (["retry", "--since", "yesterday"], "--since takes a date as YYYY-MM-DD"),
        (["retry", "--template", "Result Issued!"], "is not a template code"),
        (["purge", "--older-than", "0"], "--older-than must be at least 1"),
        (["status", "--groups", "-1"], "--groups must not be negative"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    queue: Callable[..., Message], args: list[str], message: str
) -> None:
    kept = dead(queue)
    with pytest.raises(CommandError, match=message):
        outbox(*args)
    assert Message.objects.get(pk=kept.pk).status == Status.DEAD
    assert not AuditEntry.objects.exists()


def test_retry_refuses_a_message_that_is_not_dead(queue: Callable[..., Message]) -> None:
    waiting, gone = queue(), dead(queue)
    with pytest.raises(CommandError, match=f"message {waiting.pk} is not dead"):
        outbox("retry", "--id", str(waiting.pk), "--id", str(gone.pk))
    assert Message.objects.get(pk=gone.pk).status == Status.DEAD  # nothing half done


def test_purge_empties_old_finished_messages_only_and_retry_leaves_them(
    queue: Callable[..., Message],
) -> None:
    long_ago = timezone.now() - dt.timedelta(days=400)
    sent, gone, waiting, recent = queue(), dead(queue), queue(), queue()
    Message.objects.filter(pk=sent.pk).update(status=Status.SENT, sent_at=long_ago)
    Message.objects.filter(pk__in=[sent.pk, gone.pk, waiting.pk]).update(created_at=long_ago)
    Message.objects.filter(pk=recent.pk).update(status=Status.SENT)
    assert "would purge the recipients and contents of 2 sent or dead messages" in outbox(
        "purge", "--older-than", "365", "--dry-run")
    assert Message.objects.filter(recipient="").count() == 0
    assert "purged the recipients and contents of 2" in outbox("purge", "--older-than", "365")
    rows = {m.pk: m for m in Message.objects.all()}
    for pk in (sent.pk, gone.pk):
        assert (rows[pk].recipient, rows[pk].context) == ("", {})
        assert rows[pk].template == "application_submitted"  # the statistics stay
    assert rows[sent.pk].status == Status.SENT
    assert rows[sent.pk].sent_at == long_ago
    for pk in (waiting.pk, recent.pk):  # still to send, or too recent
        assert (rows[pk].recipient, rows[pk].context) == ("aigerim@example.kz", CONTEXT)
    entry = AuditEntry.objects.get(action="outbox.purge")
    assert entry.data["purged"] == 2
    assert "purged the recipients and contents of 0" in outbox("purge", "--older-than", "365")
    assert AuditEntry.objects.filter(action="outbox.purge").count() == 1
    text = outbox("retry", "--all")
    assert "queued 0 dead messages again" in text
    assert "left 1 whose personal data was purged" in text
    assert Message.objects.get(pk=gone.pk).status == Status.DEAD
    assert "messages whose personal data was purged: 2" in outbox("status")
