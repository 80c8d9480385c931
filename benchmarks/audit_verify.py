"""How fast `onestop audit verify` walks the audit chain, against the limit of hashing.

Builds a chain of N entries (default 1,000,000) straight in the database, by bulk insert
of precomputed rows: an SQLite file in a temporary folder, or the database named by
ONESTOP_DATABASE_URL (its audit table must be empty; it is emptied again afterwards
unless --keep). Then times, in the same run:

  limit      SHA-256 over every entry's canonical bytes in a bare Python loop
  in memory  chain.verify over the records held in memory (serialisation + hashing)
  database   selectors.verify_chain, what `onestop audit verify` runs: streamed reads,
             conversion of rows, serialisation, hashing

and prints entries per second and each figure as a share of the limit. No assertions on
time. Usage: .venv/bin/python benchmarks/audit_verify.py [--entries N] [--keep]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ACTIONS = [
    ("application.submitted", "citizen", None, "submitted"),
    ("application.accepted", "officer", "submitted", "in_progress"),
    ("application.documents_requested", "officer", "in_progress", "waiting_applicant"),
    ("application.documents_provided", "citizen", "waiting_applicant", "in_progress"),
    ("application.approved", "officer", "in_progress", "approved"),
    ("application.issued", "operator", "approved", "issued"),
]
SERVICES = ["01010001", "01010002", "02020001", "03030007", "04040012"]
AGENCIES = ["MJ-ZAGS", "MLSP", "MVD-MP", "AKIMAT-ALM", "MINZDRAV"]


def content(i: int, start: datetime) -> dict[str, Any]:
    """A realistic entry: an application's state change with its facts."""
    action, role, before, after = ACTIONS[i % len(ACTIONS)]
    number = i // len(ACTIONS)
    return {
        "recorded_at": start + timedelta(milliseconds=37 * i),
        "actor_username": f"{role}-{number % 997}",
        "actor_role": role,
        "action": action,
        "subject_type": "application",
        "subject_id": f"KZ-2026-{number:08d}",
        "data": {
            "from": before,
            "to": after,
            "service": SERVICES[number % len(SERVICES)],
            "agency": AGENCIES[number % len(AGENCIES)],
            "deadline": "2026-04-14T18:00:00+05:00",
            "comment": "Документы приняты" if i % 3 else "",
        },
    }


def setup_django(workdir: Path) -> None:
    os.environ.setdefault("ONESTOP_SECRET_KEY", "benchmark-only-secret-key")
    os.environ.setdefault("ONESTOP_DATA_DIR", str(workdir))
    os.environ["DJANGO_SETTINGS_MODULE"] = "onestop.settings"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "audit", verbosity=0)


def build(n: int) -> tuple[list[Any], list[bytes]]:
    """N sealed records and their canonical bytes, computed once."""
    from onestop.audit import chain

    start = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    records: list[chain.Record] = []
    blobs: list[bytes] = []
    prev = chain.GENESIS_HASH
    sha256 = hashlib.sha256
    for i in range(1, n + 1):
        unsealed = chain.Record(sequence=i, prev_hash=prev, hash="", **content(i, start))
        blob = chain.canonical_bytes(unsealed)
        prev = sha256(blob).hexdigest()
        records.append(unsealed._replace(hash=prev))
        blobs.append(blob)
    return records, blobs


def insert(records: list[Any]) -> None:
    from django.db import connection, transaction

    from onestop.audit.chain import FIELDS
    from onestop.audit.models import AuditEntry, ChainHead

    table = AuditEntry._meta.db_table
    columns = ", ".join(FIELDS)
    with transaction.atomic():
        raw = connection.connection
        if connection.vendor == "postgresql":
            with raw.cursor() as cursor, cursor.copy(
                f"COPY {table} ({columns}) FROM STDIN"
            ) as copy:
                for r in records:
                    copy.write_row((*r[:7], json.dumps(r.data, ensure_ascii=False), *r[8:]))
        else:
            def rows() -> Any:
                for r in records:
                    # Django's SQLite form of an aware datetime: naive UTC text
                    at = r.recorded_at.replace(tzinfo=None).isoformat(" ", "microseconds")
                    yield (r.sequence, at, *r[2:7], json.dumps(r.data, ensure_ascii=False),
                           *r[8:])

            marks = ", ".join("?" * len(FIELDS))
            raw.executemany(  # the table and columns are the model's own names
                f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows()
            )
        last = records[-1]
        ChainHead.objects.update_or_create(
            id=1, defaults={"sequence": last.sequence, "prev_hash": last.prev_hash,
                            "hash": last.hash},
        )


def empty_table() -> bool:
    from onestop.audit.models import AuditEntry

    return not AuditEntry.objects.exists()


def truncate() -> None:
    from django.db import connection

    from onestop.audit.models import AuditEntry, ChainHead

    with connection.cursor() as cursor:
        # TRUNCATE is not refused by the append-only trigger (see onestop.audit.sql)
        verb = "TRUNCATE" if connection.vendor == "postgresql" else "DELETE FROM"
        cursor.execute(f"{verb} {AuditEntry._meta.db_table}")
    ChainHead.objects.update(sequence=0, prev_hash="", hash="0" * 64)


@dataclass
class Timing:
    wall: float
    cpu: float  # this process only: PostgreSQL's own work is not in it


def timed(label: str, n: int, run: Any, *, collect: bool = True) -> Timing:
    """Wall and CPU seconds of `run()`, printed. With a million records held in memory,
    the cyclic garbage collector would rescan them all every so often: `collect=False`
    switches it off for the in-memory figures (the database walk holds nothing and runs
    as the command does). CPU time shows what the walk costs when other work shares the
    cores; wall time is what a user waits."""
    gc.collect()
    if not collect:
        gc.disable()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        run()
    finally:
        timing = Timing(time.perf_counter() - wall, time.process_time() - cpu)
        gc.enable()
    print(f"{label:<10}{timing.wall:9.2f}{timing.cpu:9.2f}{n / timing.wall:14,.0f}"
          f"{n / timing.cpu:14,.0f}")
    return timing


def ratio(label: str, measured: Timing, limit: Timing) -> None:
    print(f"{label}: {limit.wall / measured.wall:.3f} of the limit in wall time, "
          f"{limit.cpu / measured.cpu:.3f} in CPU time "
          f"(the bare loop is {measured.wall / limit.wall:.1f}x faster)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="chain length")
    parser.add_argument("--keep", action="store_true", help="keep the chain afterwards")
    args = parser.parse_args()
    n = args.entries
    if n < 1:
        parser.error("--entries must be at least 1")

    workdir = Path(tempfile.mkdtemp(prefix="onestop-audit-bench-"))
    from django.db import OperationalError, connection

    try:
        setup_django(workdir)
    except OperationalError as exc:
        sys.exit(f"cannot reach the database: {exc}")

    from onestop.audit import selectors

    if not empty_table():
        sys.exit("the audit table is not empty: point ONESTOP_DATABASE_URL at a scratch database")
    if connection.vendor == "sqlite":
        vendor = f"SQLite {connection.Database.sqlite_version}"
    else:
        version = getattr(connection, "pg_version", 0)  # e.g. 150020 for 15.20
        vendor = f"PostgreSQL {version // 10000}.{version % 100}"
    print(f"audit verify benchmark: {n:,} entries on {vendor}")
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d}")
    try:
        limit = in_memory(n)
        database = timed("database", n, lambda: _check(selectors.verify_chain(), n))
        ratio("database", database, limit)
    finally:
        if not args.keep:
            truncate()
            connection.close()
            shutil.rmtree(workdir, ignore_errors=True)
        elif connection.vendor == "sqlite":
            print(f"the chain is kept in {connection.settings_dict['NAME']}")


def in_memory(n: int) -> Timing:
    """Build and insert the chain, time the limit and the pure walk; the seconds of the
    limit. The records leave memory before the database walk."""
    from onestop.audit import chain

    started = time.perf_counter()
    gc.disable()  # a million new objects: no use rescanning them while they pile up
    try:
        records, blobs = build(n)
        built = time.perf_counter() - started
        insert(records)
        inserted = time.perf_counter() - started - built
    finally:
        gc.enable()
    print(f"built in {built:.1f} s, inserted in {inserted:.1f} s; "
          f"{sum(map(len, blobs)) / n:.0f} canonical bytes per entry")
    sha256 = hashlib.sha256

    def bare_loop() -> None:
        for blob in blobs:
            sha256(blob).hexdigest()

    print(f"{'':<10}{'wall s':>9}{'cpu s':>9}{'entries/s':>14}{'per cpu-s':>14}")
    limit = timed("limit", n, bare_loop, collect=False)
    memory = timed("in memory", n, lambda: _check(chain.verify(records), n), collect=False)
    ratio("in memory", memory, limit)
    return limit


def _check(verdict: Any, n: int) -> None:
    if not verdict.ok or verdict.checked != n:
        sys.exit(f"the chain does not verify: {verdict.message}")


if __name__ == "__main__":
    main()
