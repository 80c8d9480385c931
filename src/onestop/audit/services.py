"""Write use case of the audit trail: appending entries to the hash chain.

Call `record` inside the transaction of the change it records, as its last write: the
change and its entry commit together or not at all. Appending takes the chain's lock,
which is held until that transaction ends, so every statement after `record` lengthens
the time other writers wait (docs/decisions/0004-audit-chain.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connections, router, transaction
from django.utils import timezone

from onestop.audit import chain
from onestop.audit.chain import Head
from onestop.audit.models import AuditEntry

# The key of the transaction-level advisory lock that serialises appends on PostgreSQL:
# "onestopA" in ASCII. Other advisory locks in onestop must use other keys.
CHAIN_LOCK_KEY = 0x6F6E6573746F7041

_TEXT_FIELDS = ("actor_username", "actor_role", "action", "subject_type", "subject_id")
_REQUIRED = ("action", "subject_type")
_MAX_LENGTH = {
    name: int(getattr(AuditEntry._meta.get_field(name), "max_length", 0)) for name in _TEXT_FIELDS
}


@dataclass(frozen=True)
class NewEntry:
    """An entry to append with `record_many`: the arguments of `record`."""

    actor_username: str
    actor_role: str
    action: str
    subject_type: str
    subject_id: str
    data: Mapping[str, Any] = field(default_factory=dict)


def _checked(entry: NewEntry) -> NewEntry:
    """The entry with its data normalised; a clear error for what the table cannot hold."""
    for name in _TEXT_FIELDS:
        value = getattr(entry, name)
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a string, not {type(value).__name__}")
        limit = _MAX_LENGTH[name]
        if len(value) > limit:
            raise ValueError(f"{name} is longer than {limit} characters: {value[:40]!r}…")
    for name in _REQUIRED:
        if not getattr(entry, name):
            raise ValueError(f"an audit entry needs a non-empty {name}")
    return NewEntry(
        entry.actor_username, entry.actor_role, entry.action, entry.subject_type,
        entry.subject_id, chain.normalise_data(entry.data),
    )


def _lock_and_read_head(db: str) -> Head:
    """Take the chain's lock (PostgreSQL; SQLite writers are already serialised by BEGIN
    IMMEDIATE) and read the head it protects. Two statements: a statement's snapshot is
    taken when it starts, so the head must be read after the lock is granted."""
    connection = connections[db]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    row = (
        AuditEntry.objects.using(db)
        .order_by("-sequence")
        .values_list("sequence", "hash")
        .first()
    )
    return chain.GENESIS if row is None else Head(*row)


def record(
    *,
    actor_username: str,
    actor_role: str,
    action: str,
    subject_type: str,
    subject_id: str,
    data: Mapping[str, Any],
) -> AuditEntry:
    """Append one entry to the chain, inside the caller's transaction (or a new one).

    `data` holds the facts of the change as JSON values; floats are refused (see
    `chain.normalise_data`). The entry's time is taken under the chain's lock, so times
    never go backwards along the chain on one clock.
    """
    entry = _checked(
        NewEntry(actor_username, actor_role, action, subject_type, subject_id, data)
    )
    db = router.db_for_write(AuditEntry)
    with transaction.atomic(using=db, savepoint=False):
        head = _lock_and_read_head(db)
        sealed = _seal(entry, head)
        return AuditEntry.objects.using(db).create(**sealed._asdict())


def record_many(entries: Iterable[NewEntry], *, batch_size: int = 2000) -> Head:
    """Append many entries under one lock, in one transaction (generators, imports).

    Returns the new head. All entries are validated before the lock is taken.
    """
    checked = [_checked(entry) for entry in entries]
    db = router.db_for_write(AuditEntry)
    with transaction.atomic(using=db, savepoint=False):
        head = _lock_and_read_head(db)
        rows = []
        for entry in checked:
            sealed = _seal(entry, head)
            rows.append(AuditEntry(**sealed._asdict()))
            head = Head(sealed.sequence, sealed.hash)
        AuditEntry.objects.using(db).bulk_create(rows, batch_size=batch_size)
    return head


def _seal(entry: NewEntry, head: Head) -> chain.Record:
    return chain.seal(
        sequence=head.sequence + 1,
        recorded_at=timezone.now(),
        actor_username=entry.actor_username,
        actor_role=entry.actor_role,
        action=entry.action,
        subject_type=entry.subject_type,
        subject_id=entry.subject_id,
        data=entry.data,
        prev_hash=head.hash,
    )
