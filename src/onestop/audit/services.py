"""Write use case of the audit trail: appending entries to the hash chain.

Call `record` inside the transaction of the change it records, as its last write: the
change and its entry commit together or not at all. Appending locks the chain's head row
until that transaction ends, so every statement after `record` lengthens the time other
writers wait (docs/decisions/0004-audit-chain.md).

On PostgreSQL one statement locks the head, chains the entries onto it, inserts them and
moves the head, with the hashes computed by the database from the canonical forms that
Python prepared before; Python then recomputes each hash and refuses (rolls back) on any
difference. The lock is held for that statement and the commit. On SQLite, where BEGIN
IMMEDIATE already serialises writers, Python does it all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connections, router, transaction
from django.utils import timezone

from onestop.audit import chain
from onestop.audit.chain import Head, Record
from onestop.audit.models import AuditEntry, ChainHead

HEAD_ID = 1
_TEXT_FIELDS = ("actor_username", "actor_role", "action", "subject_type", "subject_id")
_REQUIRED = ("action", "subject_type")
_MAX_LENGTH = {
    name: int(getattr(AuditEntry._meta.get_field(name), "max_length", 0)) for name in _TEXT_FIELDS
}

# PostgreSQL, one statement for a list of entries: wait for the head row's lock, chain
# the entries onto it (each hash over its canonical form with the previous hash and its
# sequence spliced in: chain.canonical_parts), insert them, move the head to the last.
# SELECT ... FOR UPDATE returns the head as its last writer committed it, and the UPDATE
# follows that row to the same version, so READ COMMITTED (Django's default) is what
# makes this correct; under REPEATABLE READ a concurrent append fails with a
# serialisation error instead of forking the chain.
_APPEND_SQL = f"""
WITH RECURSIVE
given AS (SELECT %s::jsonb AS entries),
head AS (
    SELECT sequence, hash FROM {ChainHead._meta.db_table} WHERE id = {HEAD_ID} FOR UPDATE
),
chained (n, sequence, prev_hash, hash) AS (
    SELECT 0, sequence, ''::text, hash::text FROM head
    UNION ALL
    SELECT c.n + 1, c.sequence + 1, c.hash, encode(sha256(convert_to(
               (g.entries -> c.n ->> 'before') || c.hash || (g.entries -> c.n ->> 'middle')
               || (c.sequence + 1)::text || (g.entries -> c.n ->> 'after'), 'UTF8')), 'hex')
      FROM chained c, given g
     WHERE c.n < jsonb_array_length(g.entries)
),
appended AS (
    INSERT INTO {AuditEntry._meta.db_table}
        (sequence, recorded_at, actor_username, actor_role, action, subject_type,
         subject_id, data, prev_hash, hash)
    SELECT c.sequence, (e ->> 'recorded_at')::timestamptz, e ->> 'actor_username',
           e ->> 'actor_role', e ->> 'action', e ->> 'subject_type', e ->> 'subject_id',
           e -> 'data', c.prev_hash, c.hash
      FROM chained c, given g, LATERAL (SELECT g.entries -> (c.n - 1) AS e) AS entry
     WHERE c.n > 0
    RETURNING sequence, prev_hash, hash
),
moved AS (
    UPDATE {ChainHead._meta.db_table}
       SET sequence = last.sequence, prev_hash = last.prev_hash, hash = last.hash
      FROM (SELECT sequence, prev_hash, hash FROM chained ORDER BY n DESC LIMIT 1) AS last
     WHERE id = {HEAD_ID}
)
SELECT sequence, prev_hash, hash FROM appended ORDER BY sequence
"""  # noqa: S608 (table names are the models' own; every value is a parameter)


class AuditError(RuntimeError):
    """The database computed a different hash than the chain's definition: nothing is
    written, so that the chain never holds an entry `audit verify` would reject."""


@dataclass(frozen=True)
class NewEntry:
    """An entry to append with `record_many`: the arguments of `record`."""

    actor_username: str
    actor_role: str
    action: str
    subject_type: str
    subject_id: str
    data: Mapping[str, Any] = field(default_factory=dict)


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

    `data` holds the facts of the change as JSON values: strings, integers, booleans,
    None, lists and objects; a Decimal, date, datetime or UUID is stored as its string; a
    float is refused (see `chain.normalise_data`). Everything is validated and serialised
    before the chain is locked.
    """
    entry = _checked(
        NewEntry(actor_username, actor_role, action, subject_type, subject_id, data)
    )
    db = router.db_for_write(AuditEntry)
    recorded_at = timezone.now()
    with transaction.atomic(using=db, savepoint=False):
        if connections[db].vendor == "postgresql":
            return _saved(db, _append_in_database(db, [_unsealed(entry, recorded_at)])[0])
        head = lock_head(db)
        sealed = _seal(entry, head, recorded_at)
        saved = AuditEntry.objects.using(db).create(**sealed._asdict())
        move_head(db, sealed)
        return saved


def record_many(entries: Iterable[NewEntry], *, batch_size: int = 2000) -> Head:
    """Append many entries under one lock, in one transaction (a use case's entries,
    generators, imports); returns the new head. All entries are validated before the
    lock is taken.

    On PostgreSQL one statement per batch locks the head, inserts the entries and moves
    the head, so the lock is held for the statements and the commit; a batch is
    serialised just before its statement (under the lock for the batches after the
    first)."""
    checked = [_checked(entry) for entry in entries]
    db = router.db_for_write(AuditEntry)
    if not checked:
        with transaction.atomic(using=db, savepoint=False):
            return lock_head(db)
    if connections[db].vendor == "postgresql":
        unsealed = [_unsealed(entry, timezone.now()) for entry in checked]
        with transaction.atomic(using=db, savepoint=False):
            for start in range(0, len(unsealed), batch_size):
                last = _append_in_database(db, unsealed[start : start + batch_size])[-1]
        return Head(last.sequence, last.hash)
    with transaction.atomic(using=db, savepoint=False):
        head = lock_head(db)
        rows = []
        for entry in checked:
            sealed = _seal(entry, head, timezone.now())
            rows.append(AuditEntry(**sealed._asdict()))
            head = Head(sealed.sequence, sealed.hash)
        AuditEntry.objects.using(db).bulk_create(rows, batch_size=batch_size)
        move_head(db, rows[-1].as_record())
    return head


def _checked(entry: NewEntry) -> NewEntry:
    """The entry with its data normalised; a clear error for what the table cannot hold."""
    for name in _TEXT_FIELDS:
        value = getattr(entry, name)
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a string, not {type(value).__name__}")
        if len(value) > _MAX_LENGTH[name]:
            raise ValueError(
                f"{name} is longer than {_MAX_LENGTH[name]} characters: {value[:40]!r}…"
            )
    for name in _REQUIRED:
        if not getattr(entry, name):
            raise ValueError(f"an audit entry needs a non-empty {name}")
    return NewEntry(
        entry.actor_username, entry.actor_role, entry.action, entry.subject_type,
        entry.subject_id, chain.normalise_data(entry.data),
    )


def _unsealed(entry: NewEntry, recorded_at: datetime) -> Record:
    """The entry without its place in the chain (sequence, prev_hash, hash)."""
    return chain.seal(
        sequence=0, recorded_at=recorded_at, actor_username=entry.actor_username,
        actor_role=entry.actor_role, action=entry.action, subject_type=entry.subject_type,
        subject_id=entry.subject_id, data=entry.data, prev_hash=chain.GENESIS_HASH,
    )


def _seal(entry: NewEntry, head: Head, recorded_at: datetime) -> Record:
    unsealed = _unsealed(entry, recorded_at)._replace(
        sequence=head.sequence + 1, prev_hash=head.hash
    )
    return unsealed._replace(hash=chain.compute_hash(unsealed))


def _append_in_database(db: str, entries: list[Record]) -> list[Record]:
    """Chain `entries` (unsealed) onto the head in one statement (PostgreSQL); the sealed
    records, each hash checked against the chain's definition."""
    given = []
    for entry in entries:
        before, middle, after = chain.canonical_parts(entry)
        given.append({
            "before": before, "middle": middle, "after": after,
            "recorded_at": chain.format_time(entry.recorded_at),
            "actor_username": entry.actor_username, "actor_role": entry.actor_role,
            "action": entry.action, "subject_type": entry.subject_type,
            "subject_id": entry.subject_id, "data": entry.data,
        })
    # one parameter: the entries as a JSON array (strings in arrays would be escaped
    # one by one by the driver, in Python)
    params = [json.dumps(given, ensure_ascii=False, separators=(",", ":"))]
    with connections[db].cursor() as cursor:
        cursor.execute(_APPEND_SQL, params)
        rows = cursor.fetchall()
        if not rows:  # no head row (a new database, or emptied by a test): create it
            _ensure_head(db)
            cursor.execute(_APPEND_SQL, params)
            rows = cursor.fetchall()
    if len(rows) != len(entries):
        raise AuditError(f"{len(entries)} entries to append, {len(rows)} appended")
    sealed = []
    for entry, (sequence, prev_hash, digest) in zip(entries, rows, strict=True):
        record = entry._replace(sequence=sequence, prev_hash=prev_hash, hash=digest)
        if chain.compute_hash(record) != digest:
            raise AuditError(
                f"the database hashed entry {sequence} as {digest}, the chain's "
                f"definition as {chain.compute_hash(record)}: nothing was written"
            )
        sealed.append(record)
    return sealed


def _ensure_head(db: str) -> None:
    """Create the head row from the last entry (the genesis when there is none)."""
    last = (
        AuditEntry.objects.using(db)
        .order_by("-sequence")
        .values_list("sequence", "prev_hash", "hash")
        .first()
    )
    sequence, prev_hash, digest = last or (0, "", chain.GENESIS_HASH)
    ChainHead.objects.using(db).get_or_create(
        id=HEAD_ID, defaults={"sequence": sequence, "prev_hash": prev_hash, "hash": digest}
    )


def lock_head(db: str) -> Head:
    """Lock the head row until the transaction ends (SELECT … FOR UPDATE; on SQLite the
    transaction's write lock already excludes other writers) and read it.

    With `move_head`, for a writer that inserts entries in bulk itself (the demo
    generator): lock, insert the entries chained onto the head, move the head to the last
    one, all in one transaction."""
    rows = ChainHead.objects.using(db).select_for_update().filter(id=HEAD_ID)
    row = rows.values_list("sequence", "hash").first()
    if row is None:
        _ensure_head(db)
        row = rows.values_list("sequence", "hash").get()
    return Head(*row)


def move_head(db: str, last: Record) -> None:
    """Make `last` (just inserted, under `lock_head`) the chain's head."""
    ChainHead.objects.using(db).filter(id=HEAD_ID).update(
        sequence=last.sequence, prev_hash=last.prev_hash, hash=last.hash
    )



def _saved(db: str, sealed: Record) -> AuditEntry:
    """The stored entry as a model instance, without reading it back."""
    saved = AuditEntry(**sealed._asdict())
    saved._state.adding = False
    saved._state.db = db
    return saved
