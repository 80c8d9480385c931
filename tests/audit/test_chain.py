"""The audit hash chain without a database: serialisation, hashing, and verification that
names the first entry altered, removed or inserted."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onestop.audit.chain import (
    GENESIS,
    GENESIS_HASH,
    Head,
    Record,
    canonical_bytes,
    canonical_json,
    canonical_parts,
    compute_hash,
    normalise_data,
    parse_head,
    seal,
    verify,
)

PROPERTY = settings(max_examples=100, deadline=None, database=None)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def build(contents: list[dict[str, Any]]) -> list[Record]:
    chain: list[Record] = []
    prev = GENESIS_HASH
    for i, content in enumerate(contents, start=1):
        record = seal(sequence=i, prev_hash=prev, **content)
        chain.append(record)
        prev = record.hash
    return chain


def entry(i: int, **overrides: Any) -> dict[str, Any]:
    content: dict[str, Any] = {
        "recorded_at": T0 + timedelta(seconds=i),
        "actor_username": f"officer-{i % 3}",
        "actor_role": "officer",
        "action": "application.accepted",
        "subject_type": "application",
        "subject_id": f"KZ-2026-{i:06d}",
        "data": {"from": "submitted", "to": "accepted", "n": i},
    }
    content.update(overrides)
    return content


def simple(n: int) -> list[Record]:
    return build([entry(i) for i in range(1, n + 1)])


def head_of(chain: list[Record]) -> str:
    return str(Head(chain[-1].sequence, chain[-1].hash))


# --- serialisation ------------------------------------------------------------------


def test_canonical_form_is_sorted_compact_utf8_json_with_utc_microseconds() -> None:
    record = seal(
        sequence=7,
        recorded_at=datetime(2026, 1, 31, 14, 15, 2, 5, tzinfo=timezone(timedelta(hours=5))),
        actor_username="айгерим",
        actor_role="officer",
        action="application.accepted",
        subject_type="application",
        subject_id="KZ-1",
        data={"to": "accepted", "amount": Decimal("3.50"), "at": date(2026, 2, 1)},
        prev_hash="a" * 64,
    )
    expected = (
        '{"action":"application.accepted","actor_role":"officer","actor_username":"айгерим",'
        '"data":{"amount":"3.50","at":"2026-02-01","to":"accepted"},'
        f'"prev_hash":"{"a" * 64}","recorded_at":"2026-01-31T09:15:02.000005+00:00",'
        '"sequence":7,"subject_id":"KZ-1","subject_type":"application"}'
    ).encode()
    assert canonical_bytes(record) == expected
    # Pinned: an outside verifier with any SHA-256 and JSON library gets the same hash.
    assert record.hash == hashlib.sha256(expected).hexdigest()
    assert record.recorded_at.tzinfo == UTC


def test_data_is_normalised_to_values_that_read_back_unchanged() -> None:
    moment = datetime(2026, 1, 1, 6, 0, tzinfo=timezone(timedelta(hours=6)))
    ident = uuid.UUID(int=1)
    assert normalise_data(
        {"fee": Decimal("1000.00"), "at": moment, "id": ident, "docs": ("a", "b"),
         "ok": True, "n": None, "nested": {"k": [1, {"x": "y"}]}}
    ) == {"fee": "1000.00", "at": "2026-01-01T00:00:00.000000+00:00",
          "id": str(ident), "docs": ["a", "b"], "ok": True, "n": None,
          "nested": {"k": [1, {"x": "y"}]}}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": 1.5}, r"data\['amount'\] is a float"),
        ({"list": [1, float("nan")]}, r"data\['list'\]\[1\] is a float"),
        ({"x": Decimal("NaN")}, "not a finite number"),
        ({1: "a"}, "key that is not a string"),
        ({"x": "a\x00b"}, "NUL character"),
        ({"x": "\ud800"}, "not valid Unicode"),
        ({"x": object()}, "is a object"),
    ],
)
def test_data_that_cannot_round_trip_is_refused_with_its_path(data: Any, message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        normalise_data(data)


def test_seal_refuses_naive_times_and_bad_links() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        seal(sequence=1, prev_hash=GENESIS_HASH, **entry(1, recorded_at=datetime(2026, 1, 1)))
    with pytest.raises(ValueError, match="64 lowercase"):
        seal(sequence=1, prev_hash="xyz", **entry(1))


def test_parse_head_takes_sequence_and_hash_or_a_bare_hash() -> None:
    assert parse_head(f"12:{'AB' * 32}") == (12, "ab" * 32)
    assert parse_head(f" {'0' * 64}\n") == (None, "0" * 64)
    for bad in ["", "12:abc", f"x:{'a' * 64}", "g" * 64]:
        with pytest.raises(ValueError, match=r"head|number"):
            parse_head(bad)
    assert str(GENESIS) == f"0:{'0' * 64}"


# --- verification by example --------------------------------------------------------


def test_empty_and_intact_chains() -> None:
    empty = verify([])
    assert (empty.ok, empty.checked, empty.head) == (True, 0, GENESIS)
    chain = simple(5)
    verdict = verify(chain)
    assert verdict.ok
    assert verdict.checked == 5
    assert verdict.head == Head(5, chain[-1].hash)
    assert verdict.message == f"audit chain intact: 5 entries, head {chain[-1].hash}"


def test_an_altered_entry_is_named() -> None:
    chain = simple(6)
    chain[3] = chain[3]._replace(data={"from": "submitted", "to": "refused", "n": 4})
    verdict = verify(chain)
    assert not verdict.ok
    assert (verdict.problem, verdict.sequence, verdict.checked) == ("altered", 4, 3)
    assert verdict.message == "entry 4 was altered: its hash does not match its content"
    assert verdict.head == Head(3, chain[2].hash)


def test_a_removed_run_of_entries_is_named() -> None:
    chain = simple(8)
    del chain[2:5]
    verdict = verify(chain)
    assert (verdict.problem, verdict.sequence) == ("removed", 3)
    assert verdict.message == "entries 3 to 5 were removed: entry 6 follows entry 2"


def test_an_altered_entry_with_its_hash_recomputed_is_caught_by_the_next_link() -> None:
    chain = simple(6)
    chain[2] = seal(sequence=3, prev_hash=chain[1].hash, **entry(3, actor_username="mallory"))
    verdict = verify(chain)
    assert (verdict.problem, verdict.sequence) == ("altered", 3)
    assert "hash was recomputed, but entry 4 still links to the original" in verdict.message


def test_a_rewritten_tail_needs_a_published_head() -> None:
    """Whoever can write the table can rewrite every entry from some point on with
    recomputed hashes; the chain is consistent again, and only a head published before
    the rewrite shows it."""
    chain = simple(10)
    published = head_of(chain[:7])
    forged = chain[:3]
    for i in range(4, 11):
        forged.append(seal(sequence=i, prev_hash=forged[-1].hash,
                           **entry(i, actor_username="mallory" if i == 4 else f"officer-{i % 3}")))
    assert verify(forged).ok
    verdict = verify(forged, expected_head=published)
    assert (verdict.ok, verdict.problem, verdict.sequence) == (False, "rewritten", 7)
    assert verdict.message.startswith("history up to entry 7 was rewritten")
    bare = verify(forged, expected_head=published.split(":")[1])
    assert (bare.ok, bare.problem) == (False, "rewritten")
    assert "is not in the chain" in bare.message
    # the honest chain holds its published head, with or without the sequence
    assert verify(chain, expected_head=published).anchor == 7
    assert verify(chain, expected_head=chain[6].hash).anchor == 7


def test_a_truncated_chain_is_caught_by_a_published_head() -> None:
    chain = simple(6)
    published = head_of(chain)
    verdict = verify(chain[:4], expected_head=published)
    assert (verdict.problem, verdict.sequence) == ("removed", 5)
    assert verdict.message == (
        "entries 5 to 6 were removed: the chain ends at entry 4 but the published head is entry 6"
    )


def test_appending_a_forged_entry_at_the_end_is_beyond_an_unkeyed_chain() -> None:
    """The limit the decision record states: a forged entry appended after the head, with
    a correct hash, is indistinguishable from a real one; an earlier published head
    still holds."""
    chain = simple(4)
    published = head_of(chain)
    chain.append(seal(sequence=5, prev_hash=chain[-1].hash, **entry(5)))
    assert verify(chain, expected_head=published).ok


def test_entries_out_of_order_or_before_the_start() -> None:
    chain = simple(4)
    swapped = [chain[0], chain[2], chain[1], chain[3]]
    assert not verify(swapped).ok
    zero = seal(sequence=0, prev_hash=GENESIS_HASH, **entry(0))
    verdict = verify([zero, *chain])
    assert (verdict.problem, verdict.sequence) == ("inserted", 0)


def test_content_no_json_can_carry_reads_as_altered() -> None:
    chain = simple(3)
    chain[1] = chain[1]._replace(data={"x": float("nan")})
    verdict = verify(chain)
    assert (verdict.problem, verdict.sequence) == ("altered", 2)
    chain = simple(3)
    chain[1] = chain[1]._replace(recorded_at=datetime(2026, 1, 1))  # naive
    assert (verify(chain).problem, verify(chain).sequence) == ("altered", 2)


# --- any single change is found at the right entry (property) -----------------------

texts = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
contents = st.fixed_dictionaries(
    {
        "recorded_at": st.datetimes(
            min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
        ),
        "actor_username": texts,
        "actor_role": st.sampled_from(["citizen", "operator", "officer", "supervisor", ""]),
        "action": st.sampled_from(["application.submitted", "application.accepted", "x"]),
        "subject_type": st.sampled_from(["application", "ticket"]),
        "subject_id": texts,
        "data": st.dictionaries(texts, json_values, max_size=4),
    }
)
chains = st.lists(contents, min_size=1, max_size=12).map(build)
CONTENT_FIELDS = ["recorded_at", "actor_username", "actor_role", "action", "subject_type",
                  "subject_id", "data"]


def changed(value: Any) -> Any:
    """A different value of the same kind."""
    if isinstance(value, datetime):
        return value + timedelta(microseconds=1)
    if isinstance(value, dict):
        return {**value, "\u2063tampered": True}
    if isinstance(value, str) and len(value) == 64 and set(value) <= set("0123456789abcdef"):
        return ("1" if value[0] != "1" else "2") + value[1:]
    return value + "\u2063"


@PROPERTY
@given(chain=chains)
def test_the_fast_serialisation_is_the_sorted_key_json_byte_for_byte(chain: list[Record]) -> None:
    for record in chain:
        assert canonical_bytes(record) == canonical_json(record).encode("utf-8")
        before, middle, after = canonical_parts(record)
        assert f"{before}{record.prev_hash}{middle}{record.sequence}{after}" == (
            canonical_json(record)
        )
        assert json.loads(canonical_json(record))["data"] == record.data


@PROPERTY
@given(chain=chains, data=st.data())
def test_any_single_alteration_is_named(chain: list[Record], data: st.DataObject) -> None:
    k = data.draw(st.integers(1, len(chain)), label="entry")
    name = data.draw(st.sampled_from([*CONTENT_FIELDS, "prev_hash", "hash"]), label="field")
    original_head = head_of(chain)
    altered = chain[k - 1]._replace(**{name: changed(getattr(chain[k - 1], name))})
    rehash = name in CONTENT_FIELDS and data.draw(st.booleans(), label="rehash")
    if rehash:
        altered = altered._replace(hash=compute_hash(altered))
    chain[k - 1] = altered
    verdict = verify(chain, expected_head=original_head)
    assert not verdict.ok
    assert verdict.sequence == k, verdict.message
    if rehash and k == len(chain):
        assert verdict.problem == "rewritten"  # only the published head shows it
    else:
        assert verdict.problem == "altered", verdict.message
        assert verdict.message.startswith(f"entry {k} was altered")
        assert verify(chain).sequence == k


@PROPERTY
@given(chain=chains, data=st.data())
def test_any_single_deletion_is_named(chain: list[Record], data: st.DataObject) -> None:
    k = data.draw(st.integers(1, len(chain)), label="entry")
    renumber = data.draw(st.booleans(), label="renumber later entries")
    original_head = head_of(chain)
    rest = chain[k:]
    if renumber:
        rest = [r._replace(sequence=r.sequence - 1) for r in rest]
    damaged = chain[: k - 1] + rest
    verdict = verify(damaged, expected_head=original_head)
    assert (verdict.ok, verdict.problem, verdict.sequence) == (False, "removed", k), verdict
    assert verdict.message.startswith(f"entr{'y' if k == len(chain) else ''}")
    assert f"{k}" in verdict.message
    if k < len(chain):  # removing the last entry is a truncation: only a head shows it
        assert (verify(damaged).problem, verify(damaged).sequence) == ("removed", k)


@PROPERTY
@given(chain=chains, data=st.data(), extra=contents)
def test_any_single_insertion_is_named(
    chain: list[Record], data: st.DataObject, extra: dict[str, Any]
) -> None:
    n = len(chain)
    k = data.draw(st.integers(1, n), label="inserted as entry")
    forged = data.draw(st.booleans(), label="forged with a correct hash")
    how = data.draw(st.sampled_from(["renumber", "before", "after"]), label="placement")
    prev_hash = chain[k - 2].hash if k > 1 else GENESIS_HASH
    intruder = seal(sequence=k, prev_hash=prev_hash, **extra)
    if intruder.hash == chain[k - 1].hash:  # a copy of entry k: make it a different entry
        intruder = seal(sequence=k, prev_hash=prev_hash, **{**extra, "action": "forged"})
    if not forged:
        intruder = intruder._replace(
            prev_hash=data.draw(st.sampled_from([prev_hash, "e" * 64])), hash="f" * 64
        )
    if how == "renumber":
        damaged = [*chain[: k - 1], intruder,
                   *(r._replace(sequence=r.sequence + 1) for r in chain[k - 1:])]
    elif how == "before":  # the same sequence twice, the intruder first
        damaged = [*chain[: k - 1], intruder, *chain[k - 1:]]
    else:
        damaged = [*chain[:k], intruder, *chain[k:]]
    verdict = verify(damaged)
    assert (verdict.ok, verdict.problem, verdict.sequence) == (False, "inserted", k), verdict
    assert verdict.message.startswith(f"entry {k} was inserted")


@PROPERTY
@given(chain=chains, extra=contents)
def test_garbage_appended_at_the_end_is_named(chain: list[Record], extra: dict[str, Any]) -> None:
    n = len(chain)
    intruder = seal(sequence=n + 1, prev_hash=chain[-1].hash, **extra)._replace(hash="f" * 64)
    verdict = verify([*chain, intruder])
    assert (verdict.ok, verdict.sequence) == (False, n + 1)
