"""Reads of the audit trail: the head, a subject's entries, and verification of the chain."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from onestop.audit import chain
from onestop.audit.chain import Head, Record, Verdict
from onestop.audit.models import AuditEntry, ChainHead

CHUNK_SIZE = 5000


def head() -> Head:
    """The last entry's sequence and hash; `0:000…0` (the genesis) for an empty chain."""
    row = AuditEntry.objects.order_by("-sequence").values_list("sequence", "hash").first()
    return chain.GENESIS if row is None else Head(*row)


def entries_about(subject_type: str, subject_id: str) -> QuerySet[AuditEntry]:
    """A subject's entries, oldest first."""
    return AuditEntry.objects.filter(
        subject_type=subject_type, subject_id=subject_id
    ).order_by("sequence")


def records(*, chunk_size: int = CHUNK_SIZE) -> Iterator[Record]:
    """Every entry in sequence order, streamed `chunk_size` rows at a time (a server-side
    cursor on PostgreSQL), as plain records: a chain of millions never sits in memory.
    One query, so the walk sees one consistent snapshot while appends go on.

    The time and the data are read as text and parsed here by the standard library's C
    parsers, a third faster on PostgreSQL than the ORM's per-row converters; a value
    that does not parse is passed on as it is, and fails its entry's hash."""
    rows = (
        AuditEntry.objects.order_by("sequence")
        .annotate(
            recorded_at_text=Cast("recorded_at", TextField()),
            data_text=Cast("data", TextField()),
        )
        .values_list(*(_AS_TEXT.get(name, name) for name in chain.FIELDS))
        .iterator(chunk_size=chunk_size)
    )
    return map(_record, rows)


_AS_TEXT = {"recorded_at": "recorded_at_text", "data": "data_text"}


def _record(row: tuple[Any, ...]) -> Record:
    sequence, at, username, role, action, subject_type, subject_id, data, prev, digest = row
    try:
        recorded_at: Any = datetime.fromisoformat(at)
        if recorded_at.tzinfo is None:  # SQLite keeps UTC without an offset
            recorded_at = recorded_at.replace(tzinfo=UTC)
    except (TypeError, ValueError):
        recorded_at = at
    with suppress(TypeError, ValueError):
        data = json.loads(data)
    return Record(
        sequence, recorded_at, username, role, action, subject_type, subject_id, data, prev,
        digest,
    )


def verify_chain(
    *,
    expected_head: str | None = None,
    progress: Callable[[int], None] | None = None,
    every: int = 100_000,
    chunk_size: int = CHUNK_SIZE,
) -> Verdict:
    """Walk the stored chain (see `chain.verify`) and check that it reaches the head row
    that appends keep, so that cutting entries off the end shows unless that row is
    rewritten too. `progress(n)` is called every `every` entries read."""
    # Read before the walk: the walk's later snapshot holds every entry up to it.
    kept = ChainHead.objects.filter(id=1).values_list("sequence", "hash").first()
    stream = records(chunk_size=chunk_size)
    if progress is not None:
        stream = _counted(stream, progress, every)
    verdict = chain.verify(stream, expected_head=expected_head)
    if not verdict.ok or kept is None or kept[0] == 0:
        return verdict
    sequence, digest = kept
    last = verdict.head.sequence
    if sequence > last:
        removed = f"entry {last + 1} was" if sequence == last + 1 else (
            f"entries {last + 1} to {sequence} were"
        )
        return replace(
            verdict, ok=False, problem="removed", sequence=last + 1,
            message=f"{removed} removed: the chain ends at entry {last} but its head row "
            f"records entry {sequence}",
        )
    found = AuditEntry.objects.filter(sequence=sequence).values_list("hash", flat=True).first()
    if found != digest:
        return replace(
            verdict, ok=False, problem="rewritten", sequence=sequence,
            message=f"history up to entry {sequence} was rewritten: entry {sequence} has hash "
            f"{found}, but the chain's head row records {digest}",
        )
    return verdict


def _counted(
    stream: Iterator[Record], progress: Callable[[int], None], every: int
) -> Iterator[Record]:
    for count, record in enumerate(stream, start=1):
        yield record
        if count % every == 0:
            progress(count)
