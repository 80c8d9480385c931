"""The audit hash chain: canonical serialisation, hashing and verification.

Pure Python (no Django). Each entry's hash is SHA-256 over the canonical serialisation of
its content and the previous entry's hash, so changing, removing or inserting an entry
breaks every link after it. The canonical serialisation is JSON with sorted keys, no
whitespace, UTF-8, and the time as ISO 8601 in UTC with microseconds:

    {"action":…,"actor_role":…,"actor_username":…,"data":{…},"prev_hash":…,
     "recorded_at":"2026-01-31T09:15:02.123456+00:00","sequence":1042,
     "subject_id":…,"subject_type":…}

Anyone can recompute it with any JSON library (docs/decisions/0004-audit-chain.md).
Numbers in `data` are integers: a float does not survive every database's JSON type
unchanged, so `normalise_data` refuses it (pass a decimal amount as a string).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal, NamedTuple

GENESIS_HASH = "0" * 64
"""The `prev_hash` of the first entry."""

_HASH = re.compile(r"[0-9a-f]{64}")
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
_encode = _ENCODER.encode
_string = json.encoder.encode_basestring  # a JSON string literal, non-ASCII kept as is
_sha256 = hashlib.sha256
# The C encoder that JSONEncoder.encode builds on every call, built once: the same output,
# a third faster on the small objects of audit data.
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_c_encoder = (
    None if _c_make_encoder is None
    else _c_make_encoder(None, _ENCODER.default, _string, None, ":", ",", True, False, False)
)


def _encode_value(value: Any) -> str:
    if _c_encoder is not None and isinstance(value, dict):
        return "".join(_c_encoder(value, 0))
    return _encode(value)


class Record(NamedTuple):
    """One audit entry as plain values, in the column order the database selects them."""

    sequence: int
    recorded_at: datetime
    actor_username: str
    actor_role: str
    action: str
    subject_type: str
    subject_id: str
    data: Any
    prev_hash: str
    hash: str


FIELDS = Record._fields
"""The columns of an entry, in `Record` order."""


class Head(NamedTuple):
    """The last entry of a chain: its sequence and hash (sequence 0: the empty chain)."""

    sequence: int
    hash: str

    def __str__(self) -> str:
        """`SEQUENCE:HASH`, the form `onestop audit head` prints and `--against` takes."""
        return f"{self.sequence}:{self.hash}"


GENESIS = Head(0, GENESIS_HASH)


def parse_head(text: str) -> tuple[int | None, str]:
    """A published head, `SEQUENCE:HASH` or a bare `HASH`, as (sequence or None, hash)."""
    raw = text.strip().lower()
    sequence: int | None = None
    if ":" in raw:
        number, _, raw = raw.partition(":")
        if not number.isdigit():
            raise ValueError(f"{text!r}: the part before ':' must be an entry number")
        sequence = int(number)
    if not _HASH.fullmatch(raw):
        raise ValueError(f"{text!r}: a head hash is 64 hexadecimal digits")
    return sequence, raw


# --- canonical serialisation -------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"times must be timezone-aware, got {moment!r}")
    return moment.astimezone(UTC)


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds: `2026-01-31T09:15:02.123456+00:00`."""
    if moment.tzinfo is not UTC:
        moment = _utc(moment)
    return moment.isoformat(timespec="microseconds")


def canonical_json(record: Record) -> str:
    """The canonical form as text, by the definition: one JSON object with sorted keys."""
    return _encode(
        {
            "action": record.action,
            "actor_role": record.actor_role,
            "actor_username": record.actor_username,
            "data": record.data,
            "prev_hash": record.prev_hash,
            "recorded_at": format_time(record.recorded_at),
            "sequence": record.sequence,
            "subject_id": record.subject_id,
            "subject_type": record.subject_type,
        }
    )


_TEMPLATE = (
    '{"action":%s,"actor_role":%s,"actor_username":%s,"data":%s,"prev_hash":%s,'
    '"recorded_at":"%s","sequence":%d,"subject_id":%s,"subject_type":%s}'
)


def canonical_bytes(record: Record) -> bytes:
    """The bytes an entry's hash is computed over (everything but the hash itself).

    Byte for byte `canonical_json(record)` in UTF-8 (tested), assembled field by field
    because verification runs it for every entry of the chain.
    """
    if not (isinstance(record.sequence, int) and not isinstance(record.sequence, bool)):
        return canonical_json(record).encode("utf-8")
    return (
        _TEMPLATE
        % (
            _string(record.action),
            _string(record.actor_role),
            _string(record.actor_username),
            _encode_value(record.data),
            _string(record.prev_hash),
            format_time(record.recorded_at),
            record.sequence,
            _string(record.subject_id),
            _string(record.subject_type),
        )
    ).encode("utf-8")


def to_json(value: Any) -> str:
    """A value as canonical JSON text: sorted keys, no whitespace, non-ASCII as is."""
    return _encode_value(value)


def canonical_parts(record: Record) -> tuple[str, str, str]:
    """The canonical form around its two chained values, for a database that computes
    the hash itself: `before + prev_hash + middle + str(sequence) + after` is
    `canonical_json(record)` for the record's own hexadecimal `prev_hash` and sequence
    (tested)."""
    before = (
        '{"action":' + _string(record.action)
        + ',"actor_role":' + _string(record.actor_role)
        + ',"actor_username":' + _string(record.actor_username)
        + ',"data":' + _encode_value(record.data)
        + ',"prev_hash":"'
    )
    middle = '","recorded_at":"' + format_time(record.recorded_at) + '","sequence":'
    after = (
        ',"subject_id":' + _string(record.subject_id)
        + ',"subject_type":' + _string(record.subject_type) + "}"
    )
    return before, middle, after


def compute_hash(record: Record) -> str:
    """The SHA-256 (hex) an entry with this content must carry."""
    return _sha256(canonical_bytes(record)).hexdigest()


def _check_text(value: str, where: str) -> str:
    if "\x00" in value:
        raise ValueError(f"{where} contains a NUL character, which PostgreSQL cannot store")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{where} is not valid Unicode text: {exc.reason}") from None
    return value


def _normalise(value: Any, where: str) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)  # an IntEnum becomes its number
    if isinstance(value, str):
        return _check_text(str.__str__(value), where)  # a StrEnum becomes its text
    if isinstance(value, float):
        raise TypeError(
            f"{where} is a float ({value!r}): audit data holds integers only; "
            "pass a decimal amount as a string or a Decimal"
        )
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{where} is not a finite number ({value})")
        return str(value)
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has a key that is not a string: {key!r}")
            _check_text(key, f"a key of {where}")
            result[str(key)] = _normalise(item, f"{where}[{key!r}]")
        return result
    if isinstance(value, list | tuple):
        return [_normalise(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise TypeError(f"{where} is a {type(value).__name__}, which audit data cannot hold")


def normalise_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` as plain JSON values that read back from the database exactly as written.

    Strings, integers, booleans, None, lists and objects with string keys pass as they
    are; a Decimal, date, datetime (ISO, UTC) or UUID becomes a string. A float, a NaN,
    a non-string key or a NUL character is refused with the path to the offending value.
    """
    if not isinstance(data, Mapping):
        raise TypeError(f"data must be a mapping, not {type(data).__name__}")
    normalised: dict[str, Any] = _normalise(data, "data")
    return normalised


def seal(
    *,
    sequence: int,
    recorded_at: datetime,
    actor_username: str,
    actor_role: str,
    action: str,
    subject_type: str,
    subject_id: str,
    data: Mapping[str, Any],
    prev_hash: str,
) -> Record:
    """A new entry with its hash, chained onto the entry whose hash is `prev_hash`."""
    texts = {
        "actor_username": actor_username,
        "actor_role": actor_role,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
    }
    for name, value in texts.items():
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a string, not {type(value).__name__}")
        texts[name] = _check_text(str.__str__(value), name)  # a StrEnum becomes its text
    if not _HASH.fullmatch(prev_hash):
        raise ValueError(f"prev_hash must be 64 lowercase hexadecimal digits: {prev_hash!r}")
    unsealed = Record(
        sequence=int(sequence),
        recorded_at=_utc(recorded_at),
        data=normalise_data(data),
        prev_hash=prev_hash,
        hash="",
        **texts,
    )
    return unsealed._replace(hash=compute_hash(unsealed))


# --- verification ------------------------------------------------------------------

Problem = Literal["altered", "removed", "inserted", "rewritten"]


@dataclass(frozen=True)
class Verdict:
    """The outcome of walking a chain.

    `checked` entries were found intact, ending at `head`. When the chain is broken,
    `problem` says how and `sequence` names the first entry concerned; `message` says it
    in a sentence. `anchor` is the sequence at which the expected head was found.
    """

    ok: bool
    checked: int
    head: Head
    message: str
    problem: Problem | None = None
    sequence: int | None = None
    anchor: int | None = None


def _hash_or_none(record: Record) -> str | None:
    try:
        return compute_hash(record)
    except (TypeError, ValueError, AttributeError):  # content no JSON can carry
        return None


def _entries(first: int, last: int) -> str:
    return f"entry {first} was" if first == last else f"entries {first} to {last} were"


def _diagnose(prev: Record | None, head: Head, entry: Record, after: Record | None) -> Verdict:
    """Why `entry` does not follow `head` (whose record is `prev`; None at the genesis)."""
    checked = head.sequence

    def broken(problem: Problem, sequence: int, message: str) -> Verdict:
        return Verdict(False, checked, head, message, problem, sequence)

    s = entry.sequence
    if prev is None and s < 1:
        return broken("inserted", s, f"entry {s} was inserted: sequences start at 1")
    if s <= head.sequence:
        if s == head.sequence:
            return broken("inserted", s, f"entry {s} was inserted: sequence {s} occurs twice")
        return broken("inserted", s, f"entry {s} was inserted: it follows entry {head.sequence}")
    if after is not None and after.prev_hash == head.hash:
        return broken(
            "inserted", s,
            f"entry {s} was inserted: the entry after it links past it to the one before",
        )
    if s > head.sequence + 1:
        first, last = head.sequence + 1, s - 1
        return broken(
            "removed", first,
            f"{_entries(first, last)} removed: entry {s} follows entry {head.sequence}",
        )
    if entry.prev_hash == head.hash:
        return broken("altered", s, f"entry {s} was altered: its hash does not match its content")
    if prev is not None and entry.prev_hash == prev.prev_hash:
        return broken(
            "inserted", prev.sequence,
            f"entry {prev.sequence} was inserted: entry {s} links past it to the one before",
        )
    if _hash_or_none(entry) == entry.hash:
        if prev is None:
            return broken(
                "altered", s, f"entry {s} was altered: it does not start from the genesis hash"
            )
        if after is not None and after.prev_hash != entry.hash:
            return broken(
                "altered", s, f"entry {s} was altered: it does not link to entry {head.sequence}"
            )
        return broken(
            "altered", head.sequence,
            f"entry {head.sequence} was altered: its hash was recomputed, "
            f"but entry {s} still links to the original",
        )
    if _hash_or_none(entry._replace(sequence=s + 1)) == entry.hash:
        return broken(
            "removed", s, f"entry {s} was removed: the entries after it were renumbered"
        )
    if prev is not None and _hash_or_none(entry._replace(sequence=s - 1)) == entry.hash:
        return broken(
            "inserted", prev.sequence,
            f"entry {prev.sequence} was inserted: the entries after it were renumbered",
        )
    return broken(
        "altered", s, f"entry {s} was altered: its hash does not match its content "
        "and it does not link to the entry before",
    )


def verify(entries: Iterable[Record], *, expected_head: str | None = None) -> Verdict:
    """Walk `entries` in sequence order and name the first one altered, removed or inserted.

    Every entry must carry the hash of its content, link to the entry before by
    `prev_hash`, and follow it by exactly one in `sequence`; the first must link to the
    genesis hash. `expected_head` (a published `SEQUENCE:HASH` or bare `HASH`) must occur
    in the chain, at its sequence when one is given, so that history up to a head that
    was published earlier cannot be rewritten unnoticed. The walk reads one entry ahead
    and holds nothing else, so it runs over a stream of any length.

    Limits of an unkeyed chain: whoever can write the table can append forged entries at
    the end, or rewrite every entry from some point on with recomputed hashes; only a head
    kept outside the database (`expected_head`) catches the second.
    """
    anchor_sequence, anchor_hash = (None, None) if expected_head is None else parse_head(
        expected_head
    )
    anchor: int | None = None
    if anchor_hash == GENESIS.hash and anchor_sequence in (None, GENESIS.sequence):
        anchor = GENESIS.sequence  # the head of an empty chain: before every entry
    sequence, digest = GENESIS  # of the last intact entry
    prev: Record | None = None
    sha256, canonical = _sha256, canonical_bytes
    iterator: Iterator[Record] = iter(entries)
    entry = next(iterator, None)
    while entry is not None:
        after = next(iterator, None)
        try:
            intact = (
                entry.sequence == sequence + 1
                and entry.prev_hash == digest
                and sha256(canonical(entry)).hexdigest() == entry.hash
            )
        except (TypeError, ValueError, AttributeError):  # content no JSON can carry
            intact = False
        if not intact:
            return _diagnose(prev, Head(sequence, digest), entry, after)
        sequence, digest, prev = entry.sequence, entry.hash, entry
        if anchor_hash is not None and anchor is None:
            if digest == anchor_hash and anchor_sequence in (None, sequence):
                anchor = sequence
            elif sequence == anchor_sequence:
                return Verdict(
                    False, sequence - 1, Head(sequence - 1, entry.prev_hash),
                    f"history up to entry {sequence} was rewritten: entry {sequence} "
                    f"has hash {digest}, not the published {anchor_hash}",
                    "rewritten", sequence,
                )
        entry = after
    head = Head(sequence, digest)
    if anchor_hash is not None and anchor is None:
        if anchor_sequence is not None:
            first = head.sequence + 1
            return Verdict(
                False, head.sequence, head,
                f"{_entries(first, anchor_sequence)} removed: the chain ends at entry "
                f"{head.sequence} but the published head is entry {anchor_sequence}",
                "removed", first,
            )
        return Verdict(
            False, head.sequence, head,
            f"the published head {anchor_hash} is not in the chain: "
            "history up to it was rewritten or removed",
            "rewritten", None,
        )
    message = f"audit chain intact: {head.sequence} entries, head {head.hash}"
    if anchor is not None:
        message += f"; the published head is entry {anchor}"
    return Verdict(True, head.sequence, head, message, anchor=anchor)
