"""The audit chain on the real database: appending inside the caller's transaction,
concurrent appends on PostgreSQL, the append-only trigger, and `onestop audit verify`
naming the entry that was edited, deleted or inserted straight in the database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, connections, transaction
from django.test import Client

from onestop.accounts.models import User
from onestop.accounts.roles import Role
from onestop.audit import chain, selectors, services
from onestop.audit.models import AuditEntry, ChainHead
from onestop.audit.sql import append_only_sql

POSTGRES = connection.vendor == "postgresql"
TABLE = "audit_auditentry"
assert AuditEntry._meta.db_table == TABLE
only_postgres = pytest.mark.skipif(
    not POSTGRES, reason="PostgreSQL only: SQLite serialises writers and has no trigger"
)


def record(i: int, **overrides: object) -> AuditEntry:
    arguments: dict[str, object] = {
        "actor_username": f"officer-{i % 3}",
        "actor_role": "officer",
        "action": "application.accepted",
        "subject_type": "application",
        "subject_id": f"KZ-2026-{i:06d}",
        "data": {"from": "submitted", "to": "accepted", "n": i},
    }
    arguments.update(overrides)
    return services.record(**arguments)  # type: ignore[arg-type]


@pytest.fixture
def five(db: None) -> list[AuditEntry]:
    return [record(i) for i in range(1, 6)]


@dataclass
class Run:
    code: int
    out: str
    err: str


def audit(*args: str) -> Run:
    """`onestop audit ARGS` as a user runs it: its output, and the exit status that
    Django's command runner gives a CommandError."""
    out, err = StringIO(), StringIO()
    try:
        call_command("audit", *args, stdout=out, stderr=err)
    except CommandError as exc:
        err.write(f"CommandError: {exc}\n")
        return Run(exc.returncode, out.getvalue(), err.getvalue())
    return Run(0, out.getvalue(), err.getvalue())


@contextmanager
def tampering() -> Iterator[Callable[..., None]]:
    """Raw SQL on the audit table, as someone with database access would run it. On
    PostgreSQL the append-only trigger is switched off first (inside the test's
    transaction, which rolls it back)."""
    with connection.cursor() as cursor:
        if POSTGRES:
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")

        def sql(statement: str, params: list[object] | None = None) -> None:
            cursor.execute(statement, params or [])

        yield sql
        if POSTGRES:
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")


# --- appending ----------------------------------------------------------------------


def test_entries_chain_from_the_genesis_and_read_back_exactly(db: None) -> None:
    assert selectors.head() == chain.GENESIS
    first = record(1)
    second = record(
        2,
        actor_username="айгерим",
        data={"fee": Decimal("3692.00"), "big": 2**70, "text": "Ўзбекистон 😀",
              "nested": {"z": [1, None, True], "a": ""}},
    )
    assert (first.sequence, first.prev_hash) == (1, chain.GENESIS_HASH)
    assert (second.sequence, second.prev_hash) == (2, first.hash)
    assert second.recorded_at >= first.recorded_at
    stored = AuditEntry.objects.get(sequence=2)
    assert stored.data["fee"] == "3692.00"  # a Decimal is kept as its exact string
    assert stored.as_record() == second.as_record()
    assert chain.compute_hash(stored.as_record()) == stored.hash
    verdict = selectors.verify_chain()
    assert (verdict.ok, verdict.checked, verdict.head) == (True, 2, chain.Head(2, second.hash))
    assert [e.sequence for e in selectors.entries_about("application", "KZ-2026-000001")] == [1]
    kept = ChainHead.objects.get()
    assert (kept.sequence, kept.prev_hash, kept.hash) == (2, first.hash, second.hash)


def test_enum_roles_and_values_are_stored_as_their_text(db: None) -> None:
    entry = record(1, actor_role=Role.OFFICER, data={"role": Role.SUPERVISOR})
    assert type(entry.actor_role) is str
    stored = AuditEntry.objects.get()
    assert (stored.actor_role, stored.data["role"]) == ("officer", "supervisor")
    assert selectors.verify_chain().ok


def test_the_walk_reads_entries_exactly_as_the_orm_does(db: None) -> None:
    """Times and data are parsed from text on the walk; whole seconds (which SQLite stores
    without a fraction), other offsets and nested data come back the same."""
    prev = chain.GENESIS_HASH
    moments = [datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
               datetime(2026, 3, 1, 14, 0, 0, 1, tzinfo=timezone(timedelta(hours=5)))]
    for i, moment in enumerate(moments, start=1):
        sealed = chain.seal(sequence=i, recorded_at=moment, actor_username="u",
                            actor_role="officer", action="a", subject_type="s",
                            subject_id=str(i), data={"z": [1, {"y": None}], "a": "ä"},
                            prev_hash=prev)
        AuditEntry.objects.create(**sealed._asdict())
        prev = sealed.hash
    walked = list(selectors.records(chunk_size=1))
    assert walked == [e.as_record() for e in AuditEntry.objects.order_by("sequence")]
    assert chain.verify(walked).ok


def test_an_entry_commits_or_rolls_back_with_the_callers_write(db: None) -> None:
    record(1)

    def submit_and_fail() -> None:
        with transaction.atomic():
            record(2)
            raise RuntimeError("the application write failed")

    with pytest.raises(RuntimeError):
        submit_and_fail()
    assert AuditEntry.objects.count() == 1
    assert record(3).sequence == 2  # no gap where the rolled-back entry was
    assert selectors.verify_chain().ok


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"data": {"amount": 12.5}}, "is a float"),
        ({"actor_username": "x" * 151}, "longer than 150"),
        ({"action": ""}, "non-empty action"),
        ({"subject_id": 42}, "must be a string"),
    ],
)
def test_what_the_table_cannot_hold_is_refused_before_anything_is_written(
    db: None, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        record(1, **overrides)
    assert not AuditEntry.objects.exists()


def test_record_many_appends_under_one_lock(db: None) -> None:
    record(1)
    head = services.record_many(
        [services.NewEntry("system", "", "demo.generated", "application", str(i), {"i": i})
         for i in range(2, 12)]
    )
    assert head == selectors.head()
    assert head.sequence == 11
    assert str(ChainHead.objects.get()) == str(head)
    assert selectors.verify_chain().ok


def test_record_many_in_batches_reads_back_exactly_and_moves_the_head_once(db: None) -> None:
    record(1)
    entries = [
        services.NewEntry("system", "", "demo.generated", "application", f"N-{i}",
                          {"i": i, "text": 'quotes " and \\ back\\slashes, Ұлттық', "n": None})
        for i in range(2, 9)
    ]
    head = services.record_many(entries, batch_size=3)  # batches of 3, 3 and 1
    assert head == selectors.head()
    assert head.sequence == 8
    assert str(ChainHead.objects.get()) == str(head)
    stored = list(AuditEntry.objects.filter(sequence__gte=2).order_by("sequence"))
    assert [e.subject_id for e in stored] == [f"N-{i}" for i in range(2, 9)]
    assert stored[0].data == {"i": 2, "text": 'quotes " and \\ back\\slashes, Ұлттық', "n": None}
    assert all(chain.compute_hash(e.as_record()) == e.hash for e in stored)
    verdict = selectors.verify_chain()
    assert (verdict.ok, verdict.checked) == (True, 8), verdict.message


def test_record_many_of_nothing_writes_nothing(db: None) -> None:
    record(1)
    before = selectors.head()
    assert services.record_many([]) == before
    assert AuditEntry.objects.count() == 1


@only_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_never_interleave_or_fork_the_chain() -> None:
    threads, per_thread = 6, 10
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    services.record_many([
                        services.NewEntry(f"worker-{worker}", "", "test.batch", "batch",
                                          f"{worker}-{i}", {"part": part})
                        for part in range(3)
                    ])
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert failures == []
    total = threads * per_thread * 3
    rows = list(AuditEntry.objects.order_by("sequence").values_list("sequence", "subject_id"))
    assert [sequence for sequence, _ in rows] == list(range(1, total + 1))
    # each batch's three entries follow one another
    subjects = [subject for _, subject in rows]
    assert all(subjects[i] == subjects[i + 1] == subjects[i + 2] for i in range(0, total, 3))
    verdict = selectors.verify_chain()
    assert (verdict.ok, verdict.checked) == (True, total), verdict.message


# --- `onestop audit` -----------------------------------------------------------------


def test_verify_an_intact_chain_and_print_the_head(five: list[AuditEntry]) -> None:
    run = audit("verify")
    assert run.code == 0, run.err
    assert run.out.strip() == f"audit chain intact: 5 entries, head {five[-1].hash}"
    head = audit("head")
    assert head.out.strip() == f"5:{five[-1].hash}"
    against = audit("verify", "--against", head.out.strip())
    assert against.code == 0
    assert "the published head is entry 5" in against.out


def test_verify_an_empty_chain(db: None) -> None:
    assert audit("verify").out.strip() == f"audit chain intact: 0 entries, head {'0' * 64}"
    assert audit("head").out.strip() == f"0:{'0' * 64}"


def test_editing_an_entry_in_the_database_is_named(five: list[AuditEntry]) -> None:
    with tampering() as sql:
        sql("UPDATE audit_auditentry SET data = %s WHERE sequence = 3",
            ['{"from": "submitted", "to": "refused", "n": 3}'])
    run = audit("verify")
    assert run.code == 1
    assert run.out == ""
    assert "audit chain broken: entry 3 was altered: its hash does not match its content" in run.err
    assert "Traceback" not in run.err


def test_deleting_an_entry_in_the_database_is_named(five: list[AuditEntry]) -> None:
    with tampering() as sql:
        sql("DELETE FROM audit_auditentry WHERE sequence = 3")
    run = audit("verify")
    assert run.code == 1
    assert "audit chain broken: entry 3 was removed: entry 4 follows entry 2" in run.err


@pytest.mark.parametrize("forged", [True, False], ids=["with-correct-hash", "with-junk-hash"])
def test_inserting_an_entry_in_the_database_is_named(
    five: list[AuditEntry], forged: bool
) -> None:
    """Sequences are unique and gap-free, so an insertion in the middle renumbers the
    entries after it; the entry after the intruder still links to the one before it."""
    intruder = chain.seal(
        sequence=3, recorded_at=five[2].recorded_at - timedelta(seconds=1),
        actor_username="mallory", actor_role="officer", action="application.approved",
        subject_type="application", subject_id="KZ-2026-999999", data={"to": "approved"},
        prev_hash=five[1].hash,
    )
    if not forged:
        intruder = intruder._replace(hash="f" * 64)
    with tampering() as sql:
        for entry in reversed(five[2:]):
            sql("UPDATE audit_auditentry SET sequence = sequence + 1 WHERE sequence = %s",
                [entry.sequence])
        AuditEntry.objects.create(**intruder._asdict())
    run = audit("verify")
    assert run.code == 1
    assert "audit chain broken: entry 3 was inserted" in run.err


def test_deleting_the_last_entry_is_caught_by_the_head_row(five: list[AuditEntry]) -> None:
    with tampering() as sql:
        sql("DELETE FROM audit_auditentry WHERE sequence >= 4")
    run = audit("verify")
    assert run.code == 1
    assert ("audit chain broken: entries 4 to 5 were removed: the chain ends at entry 3 but "
            "its head row records entry 5") in run.err


def rewrite_from(five: list[AuditEntry], first: int, sql: Callable[..., None]) -> None:
    """Rewrite entries `first`.. with recomputed hashes, as a forger who knows the format."""
    prev = five[first - 2].hash
    for entry in five[first - 1:]:
        content = {k: v for k, v in entry.as_record()._asdict().items() if k != "hash"}
        forged = chain.seal(**{**content, "prev_hash": prev, "actor_username": "mallory"})
        sql("UPDATE audit_auditentry SET actor_username = %s, prev_hash = %s, hash = %s "
            "WHERE sequence = %s",
            [forged.actor_username, forged.prev_hash, forged.hash, forged.sequence])
        prev = forged.hash


def test_a_rewritten_tail_is_caught_by_the_head_row(five: list[AuditEntry]) -> None:
    with tampering() as sql:
        rewrite_from(five, 3, sql)
    run = audit("verify")
    assert run.code == 1
    assert "history up to entry 5 was rewritten: entry 5 has hash" in run.err
    assert "but the chain's head row records" in run.err


def test_a_rewritten_history_is_caught_against_a_head_published_before(
    five: list[AuditEntry],
) -> None:
    published = audit("head").out.strip()
    with tampering() as sql:
        rewrite_from(five, 3, sql)
        last = AuditEntry.objects.get(sequence=5)
        ChainHead.objects.filter(id=1).update(prev_hash=last.prev_hash, hash=last.hash)
    assert audit("verify").code == 0  # consistent again: the limit of an unkeyed chain
    run = audit("verify", "--against", published)
    assert run.code == 1
    assert "audit chain broken: history up to entry 5 was rewritten" in run.err


def test_the_head_of_an_empty_chain_holds_against_any_chain(five: list[AuditEntry]) -> None:
    genesis = f"{chain.GENESIS.sequence}:{chain.GENESIS.hash}"
    assert chain.verify([], expected_head=genesis).ok
    run = audit("verify", "--against", genesis)
    assert run.code == 0
    assert "audit chain intact: 5 entries" in run.out
    # a head that was never the chain's still fails
    other = f"0:{'1' * 64}"
    assert not chain.verify([], expected_head=other).ok


def test_a_missing_head_row_is_recreated_from_the_last_entry(five: list[AuditEntry]) -> None:
    ChainHead.objects.all().delete()
    assert audit("verify").code == 0  # no head row: nothing to compare with
    sixth = record(6)
    assert (sixth.sequence, sixth.prev_hash) == (6, five[-1].hash)
    assert ChainHead.objects.get().sequence == 6
    assert audit("verify").code == 0


def test_a_malformed_published_head_is_a_usage_error(five: list[AuditEntry]) -> None:
    run = audit("verify", "--against", "12:nothex")
    assert run.code == 2
    assert "--against: '12:nothex': a head hash is 64 hexadecimal digits" in run.err


def test_progress_is_reported_while_walking(db: None) -> None:
    services.record_many(
        [services.NewEntry("u", "r", "a", "s", str(i), {}) for i in range(7)]
    )
    seen: list[int] = []
    verdict = selectors.verify_chain(progress=seen.append, every=3, chunk_size=2)
    assert verdict.ok
    assert seen == [3, 6]


# --- PostgreSQL: the append-only trigger and concurrent appends -----------------------


@only_postgres
def test_the_trigger_refuses_update_and_delete(five: list[AuditEntry]) -> None:
    attempts: list[Callable[[], object]] = [
        lambda: AuditEntry.objects.filter(sequence=3).update(action="x"),
        lambda: AuditEntry.objects.filter(sequence=3).delete(),
        lambda: five[2].delete(),
    ]
    for attempt in attempts:
        with pytest.raises(IntegrityError, match="refused: the table is append-only"), \
                transaction.atomic():
            attempt()
    with pytest.raises(IntegrityError, match="UPDATE on audit_auditentry refused"), \
            transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET hash = hash")
    assert audit("verify").code == 0


@only_postgres
def test_a_hash_the_database_computes_differently_is_refused(
    five: list[AuditEntry], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database hashes the canonical form Python prepared; Python checks the result,
    so a drift between the two (an encoding, a format) fails the write, never the chain."""
    parts = chain.canonical_parts

    def drifted(record: chain.Record) -> tuple[str, str, str]:
        before, middle, after = parts(record)
        return before, middle, after.replace("}", " }")

    monkeypatch.setattr(chain, "canonical_parts", drifted)
    with pytest.raises(services.AuditError, match="the database hashed entry 6"), \
            transaction.atomic():
        record(6)
    assert AuditEntry.objects.count() == 5
    assert ChainHead.objects.get().sequence == 5


def test_a_missing_table_is_a_clear_error(db: None) -> None:
    with connection.cursor() as cursor:  # rolled back with the test's transaction
        cursor.execute("DROP TABLE audit_auditentry")
    run = audit("verify")
    assert run.code == 1
    assert "cannot read the audit chain" in run.err
    assert "onestop migrate" in run.err


@only_postgres
def test_append_only_sql_is_reversible(db: None) -> None:
    forward, reverse = append_only_sql("audit_scratch")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE audit_scratch (n int)")
        cursor.execute("INSERT INTO audit_scratch VALUES (1)")
        cursor.execute(forward)
        with pytest.raises(IntegrityError, match="DELETE on audit_scratch refused"), \
                transaction.atomic():
            cursor.execute("DELETE FROM audit_scratch")
        cursor.execute("INSERT INTO audit_scratch VALUES (2)")  # appending is allowed
        cursor.execute(reverse)
        cursor.execute("UPDATE audit_scratch SET n = n + 1")
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = 'audit_scratch_append_only'")
        assert cursor.fetchone() == (0,)


def test_append_only_sql_takes_only_plain_table_names() -> None:
    for bad in ["audit; DROP TABLE x", "Audit", "a" * 60]:
        with pytest.raises(ValueError, match="lowercase table name"):
            append_only_sql(bad)


@only_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_never_chain_onto_the_same_entry() -> None:
    threads, per_thread = 8, 25
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    # the caller's own write first, so transactions overlap
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_sleep(0.001)")
                    record(worker * 1000 + i, actor_username=f"worker-{worker}")
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert failures == []
    total = threads * per_thread
    assert list(AuditEntry.objects.order_by("sequence").values_list("sequence", flat=True)) == (
        list(range(1, total + 1))
    )
    verdict = selectors.verify_chain()
    assert (verdict.ok, verdict.checked) == (True, total), verdict.message
    assert AuditEntry.objects.values("prev_hash").distinct().count() == total


@pytest.mark.django_db(transaction=True)
def test_the_migration_is_reversible() -> None:
    def triggers() -> int:
        if not POSTGRES:
            return 0
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname = %s",
                           [f"{TABLE}_append_only"])
            return int(cursor.fetchone()[0])

    assert triggers() == (1 if POSTGRES else 0)
    call_command("migrate", "audit", "zero", verbosity=0)
    assert TABLE not in connection.introspection.table_names()
    call_command("migrate", "audit", verbosity=0)
    assert triggers() == (1 if POSTGRES else 0)
    record(1)
    assert selectors.verify_chain().ok


# --- the admin: read-only, for admins and controllers -------------------------------


def test_the_admin_shows_entries_read_only(
    five: list[AuditEntry], make_user: Callable[..., User]
) -> None:
    for role, status in [("admin", 200), ("controller", 200), ("analyst", 403)]:
        client = Client(HTTP_HOST="localhost")
        client.force_login(make_user(role))
        assert client.get("/admin/audit/auditentry/").status_code == status, role
        assert client.get("/admin/audit/auditentry/3/change/").status_code == status
    admin = Client(HTTP_HOST="localhost")
    admin.force_login(make_user("admin"))
    page = admin.get("/admin/audit/auditentry/3/change/")
    assert b'name="_save"' not in page.content
    assert admin.get("/admin/audit/auditentry/add/").status_code == 403
    assert admin.post("/admin/audit/auditentry/3/delete/").status_code == 403
    assert AuditEntry.objects.count() == 5


# --- the real command in a fresh process ---------------------------------------------


@pytest.mark.skipif(POSTGRES, reason="runs on its own SQLite file; once is enough")
def test_onestop_audit_verify_in_a_fresh_process(tmp_path: Path) -> None:
    onestop = str(Path(sys.executable).with_name("onestop"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONESTOP_")}
    env.update(ONESTOP_DATA_DIR=str(tmp_path), ONESTOP_SECRET_KEY="audit-test-key",
               DJANGO_SETTINGS_MODULE="onestop.settings")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([onestop, *args], env=env, capture_output=True, text=True,
                              timeout=120, check=False)

    assert run("migrate", "--no-input").returncode == 0
    script = ("from onestop.audit.services import record\n"
              "for i in range(4): record(actor_username='u', actor_role='officer', "
              "action='a', subject_type='application', subject_id=str(i), data={'i': i})")
    assert run("shell", "-c", script).returncode == 0
    ok = run("audit", "verify")
    assert (ok.returncode, ok.stdout.startswith("audit chain intact: 4 entries")) == (0, True)
    with sqlite3.connect(tmp_path / "onestop.sqlite3") as db:
        db.execute("UPDATE audit_auditentry SET subject_id = 'other' WHERE sequence = 2")
    broken = run("audit", "verify")
    assert broken.returncode == 1
    assert broken.stderr.strip() == (
        "CommandError: audit chain broken: entry 2 was altered: its hash does not match "
        "its content"
    )
