"""The delivery loop on the real database, with a fake channel and a fake clock."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from onestop.notifications.backoff import retry_delay
from onestop.notifications.channels import FileChannel
from onestop.notifications.conf import NotifyConfig
from onestop.notifications.delivery import Worker
from onestop.notifications.models import Message, Status
from onestop.notifications.rendering import render
from onestop.notifications.services import INTERRUPTED_ON_LAST_ATTEMPT, claim_due
from tests.notifications.fakes import FakeChannel, FakeClock

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def worker_with(
    channel: object, config: NotifyConfig, clock: FakeClock, name: str = "w1"
) -> Worker:
    channels = dict.fromkeys(["email", "sms", "webhook", "file"], channel)
    return Worker(
        channels=channels,  # type: ignore[arg-type]
        config=config,
        name=name,
        rng=random.Random(7),
        clock=clock,
    )


def reload(message: Message) -> Message:
    return Message.objects.get(pk=message.pk)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def due(queue: Callable[..., Message]) -> Callable[..., Message]:
    """Queue a message that is due at START."""

    def make(**overrides: object) -> Message:
        message = queue(**overrides)
        Message.objects.filter(pk=message.pk).update(
            next_attempt_at=START, created_at=START
        )
        return reload(message)

    return make


def test_a_due_message_is_sent_once_and_marked_sent(
    due: Callable[..., Message], config: NotifyConfig, clock: FakeClock
) -> None:
    message = due()
    channel = FakeChannel()
    tally = worker_with(channel, config, clock).run_batch(batch=10)
    assert (tally.claimed, tally.sent) == (1, 1)
    assert [key for key, _ in channel.sent] == [str(message.idempotency_key)]
    assert channel.sent[0][1].subject == "Заявка KZ-2026-000123 принята"
    stored = reload(message)
    assert (stored.status, stored.attempts, stored.sent_at) == (Status.SENT, 1, START)
    assert worker_with(channel, config, clock).run_batch(batch=10).claimed == 0


def test_temporary_failures_retry_with_growing_backoff_then_send(
    due: Callable[..., Message], config: NotifyConfig, clock: FakeClock
) -> None:
    message = due()
    channel = FakeChannel(fail_times=2)
    worker = worker_with(channel, config, clock)
    waits = []
    for attempt in (1, 2):
        assert worker.run_batch(batch=10).retrying == 1
        stored = reload(message)
        assert (stored.status, stored.attempts) == (Status.FAILED, attempt)
        assert stored.last_error == "the fake is down"
        wait = (stored.next_attempt_at - clock()).total_seconds()
        ceiling = min(config.backoff_cap_seconds, config.backoff_seconds * 2 ** (attempt - 1))
        assert ceiling / 2 <= wait <= ceiling
        waits.append(wait)
        clock.advance(wait - 1)
        assert worker.run_batch(batch=10).claimed == 0  # not due yet
        clock.advance(1)
    assert waits[1] > waits[0]
    assert worker.run_batch(batch=10).sent == 1
    stored = reload(message)
    assert (stored.status, stored.attempts, stored.last_error) == (Status.SENT, 3, "")
    assert len(channel.sent) == 1


def test_a_permanent_failure_is_dead_at_once_and_never_sent(
    due: Callable[..., Message], config: NotifyConfig, clock: FakeClock
) -> None:
    message = due()
    channel = FakeChannel(permanent=True)
    assert worker_with(channel, config, clock).run_batch(batch=10).dead == 1
    stored = reload(message)
    assert (stored.status, stored.attempts, stored.sent_at) == (Status.DEAD, 1, None)
    assert stored.last_error == "the fake refuses this recipient"
    clock.advance(10**6)
    assert worker_with(channel, config, clock).run_batch(batch=10).claimed == 0
    assert channel.sent == []


def test_after_the_last_attempt_a_message_is_dead(
    due: Callable[..., Message], config: NotifyConfig, clock: FakeClock
) -> None:
    message = due()
    channel = FakeChannel(fail_times=100)
    worker = worker_with(channel, config, clock)
    statuses = []
    for _ in range(config.max_attempts):
        worker.run_batch(batch=10)
        statuses.append(reload(message).status)
        clock.advance(config.backoff_cap_seconds)
    assert statuses == [Status.FAILED] * (config.max_attempts - 1) + [Status.DEAD]
    assert channel.attempts == config.max_attempts
    assert reload(message).sent_at is None


def test_an_exception_the_channel_did_not_expect_is_retried_without_its_text(
    due: Callable[..., Message], config: NotifyConfig, clock: FakeClock
) -> None:
    class Broken:
        def send(self, message: Message, rendered: object) -> None:
            raise KeyError(message.recipient)

    message = due()
    assert worker_with(Broken(), config, clock).run_batch(batch=10).retrying == 1
    stored = reload(message)
    assert (stored.status, stored.last_error) == (Status.FAILED, "unexpected KeyError")


def test_a_missing_template_is_dead(
    due: Callable[..., Message], config: NotifyConfig, clock: FakeClock
) -> None:
    message = due()
    Message.objects.filter(pk=message.pk).update(template="withdrawn_template")
    assert worker_with(FakeChannel(), config, clock).run_batch(batch=10).dead == 1
    assert "no template 'withdrawn_template'" in reload(message).last_error


def test_a_claim_past_its_lease_is_taken_over_and_the_file_is_written_once(
    due: Callable[..., Message], config: NotifyConfig, clock: FakeClock
) -> None:
    """The crash, simulated in one process: worker w1 claimed and wrote the line, then
    died before recording `sent`; after the lease, w2 retries with the same key."""
    message = due()
    file = FileChannel(config.outbox_dir, echo=lambda _: None)
    [claimed] = claim_due(worker="w1", batch=10, now=clock(), config=config)
    file.send(claimed, render(template=claimed.template, language="ru", context=claimed.context))
    clock.advance(config.lease_seconds - 1)
    assert worker_with(file, config, clock, name="w2").run_batch(batch=10).claimed == 0
    clock.advance(1)
    fresh_file = FileChannel(config.outbox_dir, echo=lambda _: None)  # a new process
    assert worker_with(fresh_file, config, clock, name="w2").run_batch(batch=10).sent == 1
    stored = reload(message)
    assert (stored.status, stored.attempts, stored.claimed_by) == (Status.SENT, 2, "w2")
    lines = (config.outbox_dir / "email.jsonl").read_text().splitlines()
    assert len(lines) == 1
    assert str(message.idempotency_key) in lines[0]


def test_a_claim_interrupted_on_the_last_attempt_is_dead(
    due: Callable[..., Message], config: NotifyConfig, clock: FakeClock
) -> None:
    message = due()
    Message.objects.filter(pk=message.pk).update(
        status=Status.SENDING, attempts=config.max_attempts, claimed_at=START, claimed_by="w1"
    )
    clock.advance(config.lease_seconds)
    channel = FakeChannel()
    assert worker_with(channel, config, clock).run_batch(batch=10).claimed == 0
    stored = reload(message)
    assert (stored.status, stored.last_error) == (Status.DEAD, INTERRUPTED_ON_LAST_ATTEMPT)
    assert channel.sent == []


def test_the_outcome_of_a_worker_that_lost_its_claim_does_not_count(
    due: Callable[..., Message], config: NotifyConfig, clock: FakeClock
) -> None:
    message = due()
    [slow] = claim_due(worker="w1", batch=10, now=clock(), config=config)
    clock.advance(config.lease_seconds)
    claim_due(worker="w2", batch=10, now=clock(), config=config)
    worker_with(FakeChannel(fail_times=1), config, clock, name="w1").deliver(slow)
    stored = reload(message)
    assert (stored.status, stored.claimed_by, stored.last_error) == (Status.SENDING, "w2", "")


def test_a_stop_hands_back_the_messages_not_yet_attempted(
    due: Callable[..., Message], config: NotifyConfig, clock: FakeClock
) -> None:
    first, second, third = due(), due(), due()
    Message.objects.filter(pk=third.pk).update(status=Status.FAILED, attempts=1)

    class StopsAfterOne(FakeChannel):
        def send(self, message: Message, rendered: object) -> None:
            super().send(message, rendered)  # type: ignore[arg-type]
            worker.request_stop()

    worker = worker_with(StopsAfterOne(), config, clock)
    tally = worker.run(batch=10, sleep=60, once=False)
    assert (tally.claimed, tally.sent, tally.released) == (3, 1, 2)
    assert [(reload(m).status, reload(m).attempts) for m in (first, second, third)] == [
        (Status.SENT, 1), (Status.QUEUED, 0), (Status.FAILED, 1)
    ]


def test_once_drains_everything_due_in_batches(
    due: Callable[..., Message], config: NotifyConfig, clock: FakeClock
) -> None:
    messages = [due() for _ in range(5)]
    channel = FakeChannel()
    tally = worker_with(channel, config, clock).run(batch=2, sleep=0, once=True)
    assert (tally.claimed, tally.sent) == (5, 5)
    assert sorted(k for k, _ in channel.sent) == sorted(str(m.idempotency_key) for m in messages)


def test_retry_delay_grows_to_the_cap_with_jitter() -> None:
    rng = random.Random(1)
    delays = [retry_delay(n, base=30, cap=3600, rng=rng) for n in range(1, 12)]
    assert 15 <= delays[0] <= 30
    assert all(1800 <= d <= 3600 for d in delays[8:])
    assert retry_delay(10_000, base=30, cap=3600, rng=rng) <= 3600


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SKIP LOCKED is PostgreSQL's; SQLite serialises"
)
@pytest.mark.django_db(transaction=True)
def test_two_workers_claim_disjoint_messages_without_waiting(
    queue: Callable[..., Message],
) -> None:
    config = dataclasses.replace(NotifyConfig(), max_attempts=4)
    for _ in range(10):
        queue()
    now = timezone.now() + dt.timedelta(seconds=1)
    holding = threading.Barrier(2, timeout=10)
    done = threading.Barrier(2, timeout=10)
    claims: dict[str, list[int]] = {}

    def first() -> None:
        try:
            with transaction.atomic():  # keeps its rows locked until the second has claimed
                claims["a"] = [m.pk for m in claim_due(worker="a", batch=6, now=now, config=config)]
                holding.wait()
                done.wait()
        finally:
            connections.close_all()

    def second() -> None:
        try:
            holding.wait()
            claims["b"] = [m.pk for m in claim_due(worker="b", batch=10, now=now, config=config)]
            done.wait()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert len(claims["a"]) == 6
    assert len(claims["b"]) == 4
    assert not set(claims["a"]) & set(claims["b"])
