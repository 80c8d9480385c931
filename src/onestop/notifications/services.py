"""Writes to the outbox: queue a message, and the worker's claim and outcome records."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Case, F, Q, Value, When

from onestop.accounts.models import User
from onestop.audit.services import record
from onestop.core.inserts import insert_new
from onestop.notifications.backoff import retry_delay
from onestop.notifications.conf import NotifyConfig, is_http_url
from onestop.notifications.models import Channel, Message, Status
from onestop.notifications.rendering import is_language_code, is_template_code, template_exists

INTERRUPTED_ON_LAST_ATTEMPT = "interrupted on the last attempt (the worker stopped mid-send)"


class NotificationError(ValueError):
    """A message that cannot be queued; the text names the problem, never the recipient."""


def enqueue(
    *,
    channel: str,
    recipient: str,
    template: str,
    language: str,
    context: Mapping[str, Any],
    subject_type: str,
    subject_id: str,
) -> Message:
    """Queue one message and return it; the worker sends it.

    Only inserts a row: call it inside the transaction of the change the message
    announces, so the message exists if and only if that change commits. `context` is
    what the template reads (see rendering.py) and must be JSON; `context["languages"]`,
    the pack's language order, picks the fallback when the template is missing in
    `language`. Raises NotificationError for an unknown channel, template or language,
    an empty recipient, a webhook recipient that is not an http(s) URL, or a context
    that is not JSON.
    """
    message = prepare(
        channel=channel, recipient=recipient, template=template, language=language,
        context=context, subject_type=subject_type, subject_id=subject_id,
    )
    message.save(force_insert=True)
    return message


def prepare(
    *,
    channel: str,
    recipient: str,
    template: str,
    language: str,
    context: Mapping[str, Any],
    subject_type: str,
    subject_id: str,
) -> Message:
    """The message `enqueue` would queue, checked the same way but not yet saved: for a
    use case that queues its messages together with `enqueue_many` (one INSERT).
    Raises NotificationError as `enqueue` does."""
    if channel not in Channel.values:
        raise NotificationError(f"unknown channel {channel!r}: one of {', '.join(Channel.values)}")
    if not recipient.strip():
        raise NotificationError(f"a {channel} message needs a recipient")
    if channel == Channel.WEBHOOK and not is_http_url(recipient):
        raise NotificationError("a webhook recipient must be an http(s) URL")
    if not is_template_code(template) or not template_exists(template):
        raise NotificationError(f"unknown template {template!r}")
    if not is_language_code(language):
        raise NotificationError(f"{language!r} is not a language code")
    try:
        json.dumps(context, cls=DjangoJSONEncoder)
    except (TypeError, ValueError) as exc:
        raise NotificationError(f"the context of {template!r} is not JSON: {exc}") from None
    return Message(
        channel=channel,
        recipient=recipient.strip(),
        template=template,
        language=language,
        context=dict(context),
        subject_type=subject_type,
        subject_id=subject_id,
    )


def enqueue_many(messages: Sequence[Message]) -> list[Message]:
    """Queue messages made by `prepare`, in one INSERT; the same contract as `enqueue`:
    call it inside the transaction of the change they announce."""
    return insert_new(messages)


def account_address(user: User) -> tuple[str, str] | None:
    """Where a message to `user`'s account goes, as (channel, recipient): the e-mail when
    there is one, else the mobile phone by SMS; None when the account has neither."""
    if user.email:
        return Channel.EMAIL, user.email
    if user.phone:
        return Channel.SMS, user.phone
    return None


def enqueue_for_user(
    *,
    user: User,
    template: str,
    language: str,
    context: Mapping[str, Any],
    subject_type: str,
    subject_id: str,
) -> Message | None:
    """Queue a message to `user` by email when they have an address, else by SMS when they
    have a phone number; None (nothing queued) when they have neither.

    The same contract as `enqueue`: call it inside the caller's transaction.
    """
    address = account_address(user)
    if address is None:
        return None
    channel, recipient = address
    return enqueue(
        channel=channel,
        recipient=recipient,
        template=template,
        language=language,
        context=context,
        subject_type=subject_type,
        subject_id=subject_id,
    )


def claim_due(
    *, worker: str, batch: int, now: dt.datetime, config: NotifyConfig
) -> list[Message]:
    """Take up to `batch` messages due at `now` for `worker`, marked `sending`.

    Due: queued, or failed and past `next_attempt_at`, or `sending` under a claim older
    than the lease (its worker died mid-send; the retry carries the same idempotency
    key). Each claim counts as an attempt, so a message that kills its worker every time
    still reaches the maximum: one interrupted on its last attempt becomes dead.

    A short transaction of its own. On PostgreSQL, SKIP LOCKED lets many workers claim
    side by side without waiting on each other; SQLite ignores it, and its
    `BEGIN IMMEDIATE` (settings.py) makes claims take turns instead.
    """
    stale = now - dt.timedelta(seconds=config.lease_seconds)
    due = Q(status__in=[Status.QUEUED, Status.FAILED], next_attempt_at__lte=now) | Q(
        status=Status.SENDING, claimed_at__lte=stale
    )
    with transaction.atomic():
        rows = list(
            Message.objects.filter(due)
            .order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", "status", "attempts")[:batch]
        )
        exhausted = [
            pk
            for pk, status, attempts in rows
            if status == Status.SENDING and attempts >= config.max_attempts
        ]
        claimed = [pk for pk, *_ in rows if pk not in exhausted]
        if exhausted:
            Message.objects.filter(pk__in=exhausted).update(
                status=Status.DEAD, last_error=INTERRUPTED_ON_LAST_ATTEMPT
            )
        Message.objects.filter(pk__in=claimed).update(
            status=Status.SENDING, claimed_at=now, claimed_by=worker, attempts=F("attempts") + 1
        )
    return list(Message.objects.filter(pk__in=claimed).order_by("next_attempt_at", "pk"))


def record_sent(message: Message, *, now: dt.datetime) -> None:
    """The channel accepted `message`. Recorded whoever holds the claim now: it was sent."""
    Message.objects.filter(pk=message.pk).exclude(status=Status.SENT).update(
        status=Status.SENT, sent_at=now, last_error=""
    )


def record_failure(
    message: Message,
    *,
    worker: str,
    error: str,
    permanent: bool,
    now: dt.datetime,
    config: NotifyConfig,
    rng: random.Random,
) -> str:
    """The send of `message` failed: retry later with backoff, or give up (`dead`) after a
    permanent error or the last attempt. Returns the new status.

    Only while `worker` still holds the claim: if its lease ran out and another worker
    took the message over, that worker's outcome is the one that counts.
    """
    if permanent or message.attempts >= config.max_attempts:
        status, next_attempt_at = Status.DEAD, message.next_attempt_at
    else:
        delay = retry_delay(
            message.attempts,
            base=config.backoff_seconds,
            cap=config.backoff_cap_seconds,
            rng=rng,
        )
        status, next_attempt_at = Status.FAILED, now + dt.timedelta(seconds=delay)
    Message.objects.filter(pk=message.pk, status=Status.SENDING, claimed_by=worker).update(
        status=status, next_attempt_at=next_attempt_at, last_error=error[:500]
    )
    return status


def release(messages: Iterable[Message], *, worker: str) -> int:
    """Hand back messages claimed but not attempted (the worker is stopping): they are due
    again at once, and the claim does not count as an attempt."""
    return (
        Message.objects.filter(
            pk__in=[m.pk for m in messages], status=Status.SENDING, claimed_by=worker
        ).update(
            status=Case(
                When(attempts__lte=1, then=Value(Status.QUEUED)), default=Value(Status.FAILED)
            ),
            attempts=F("attempts") - 1,
            claimed_at=None,
        )
    )


# --- the outbox's upkeep (`onestop outbox`) ---------------------------------------------

# Messages done with: the worker will not look at them again.
FINISHED = (Status.SENT, Status.DEAD)


class OutboxError(ValueError):
    """An upkeep request that cannot be carried out; the text says why."""


def retry_dead(
    *,
    now: dt.datetime,
    ids: Sequence[int] = (),
    channel: str = "",
    template: str = "",
    since: dt.datetime | None = None,
    actor: str,
    dry_run: bool = False,
) -> tuple[int, int]:
    """Queue dead messages again, once the reason they died is mended (a mail server back
    up, a gateway's credentials renewed): each is due at once with a fresh count of
    attempts and its own idempotency key, so a channel that honours the key still
    delivers a message once even if its last attempt did reach it. Only the dead messages
    chosen by `ids`, `channel`, `template` and `since` (created at or after), all of them
    when none is given. Messages whose personal data was purged cannot be sent and are
    left as they are. Returns (queued again, left because purged); recorded in the audit
    chain with the numbers and the choice, unless `dry_run`."""
    if channel and channel not in Channel.values:
        raise OutboxError(f"unknown channel {channel!r}: one of {', '.join(Channel.values)}")
    if template and not is_template_code(template):
        raise OutboxError(f"{template!r} is not a template code")
    if any(pk < 1 for pk in ids):
        raise OutboxError("message ids are positive whole numbers")
    dead = Message.objects.filter(status=Status.DEAD)
    if ids:
        unknown = set(ids) - set(Message.objects.filter(pk__in=ids).values_list("pk", flat=True))
        if unknown:
            raise OutboxError(f"no message {', '.join(map(str, sorted(unknown)))}")
        not_dead = sorted(set(ids) - set(dead.filter(pk__in=ids).values_list("pk", flat=True)))
        if not_dead:
            raise OutboxError(
                f"message {', '.join(map(str, not_dead))} is not dead: only messages the "
                "worker gave up on are queued again"
            )
        dead = dead.filter(pk__in=ids)
    if channel:
        dead = dead.filter(channel=channel)
    if template:
        dead = dead.filter(template=template)
    if since is not None:
        dead = dead.filter(created_at__gte=since)
    with transaction.atomic():
        purged = dead.filter(recipient="").count()
        chosen = dead.exclude(recipient="")
        if dry_run:
            return chosen.count(), purged
        queued = chosen.update(
            status=Status.QUEUED, attempts=0, next_attempt_at=now, claimed_at=None,
            claimed_by="",
        )
        if queued or purged:
            _record_upkeep(actor, "outbox.retry", {
                "queued": queued, "left_purged": purged, "ids": sorted(ids),
                "channel": channel, "template": template,
                "since": since.isoformat() if since is not None else None,
            })
    return queued, purged


def purge_personal_data(
    *, before: dt.datetime, actor: str, dry_run: bool = False
) -> int:
    """Remove the personal data of messages done with (sent, or dead) that were queued
    before `before`: the recipient and the template's context (names, numbers, codes)
    are emptied; the row stays, with its channel, template, subject, status and times,
    for delivery statistics and the application's history. Messages still to be sent
    are never touched. Returns how many were purged; recorded in the audit chain unless
    `dry_run`."""
    chosen = Message.objects.filter(status__in=FINISHED, created_at__lt=before).exclude(
        recipient="", context={}
    )
    with transaction.atomic():
        if dry_run:
            return chosen.count()
        purged = chosen.update(recipient="", context={})
        if purged:
            _record_upkeep(actor, "outbox.purge", {
                "purged": purged, "before": before.isoformat(),
            })
    return purged


def _record_upkeep(actor: str, action: str, data: Mapping[str, Any]) -> None:
    record(actor_username=actor, actor_role="admin", action=action, subject_type="outbox",
           subject_id="", data=data)
