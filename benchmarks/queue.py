"""Calling the next ticket: `centres.services.call_next` latency with every counter busy.

Creates its own PostgreSQL database (`queue_bench`, on the server of ONESTOP_DATABASE_URL
or 127.0.0.1:5432), the Kazakhstan pack, and 300 centres with 20 open counters each,
every counter with its own operator, and a queue of waiting tickets at every centre
(four groups, some with priority, some due appointments), all with bulk inserts. Then
worker processes, each with its own connection, drive the 6,000 operators round-robin:
call the next ticket (timed), start serving and finish it (not timed), next operator.
The limit, measured in the same run over the same queues (reset), runs the candidate
query (`SELECT ... ORDER BY ... LIMIT 1 FOR UPDATE SKIP LOCKED`) and the same writes
(close the slice, open the CALLED slice, update the ticket) bare through psycopg, one
transaction per call. Nothing is asserted; the figures go to docs/performance.md.

    .venv/bin/python benchmarks/queue.py [--workers 8] [--seconds 20] [--centres 300]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, where this module would
# hide the standard library's `queue` (which multiprocessing imports): drop it.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

import psycopg  # noqa: E402

ROOT = _HERE.parent
DATABASE = "queue_bench"

CANDIDATE_SQL = """
SELECT t.id FROM centres_ticket t
 WHERE (t.target_counter_id IS NULL OR t.target_counter_id = %(counter)s)
   AND t.centre_id = %(centre)s AND t.state = 'waiting'
   AND t.group_id IN (SELECT servicegroup_id FROM centres_counter_groups
                       WHERE counter_id = %(counter)s)
 ORDER BY CASE WHEN t.due_at <= %(now)s THEN t.due_at END ASC NULLS LAST,
          t.priority_rank DESC, t.place_at ASC, t.id ASC
 LIMIT 1
 FOR UPDATE OF t SKIP LOCKED
"""


def server_url() -> str:
    base = os.environ.get("ONESTOP_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    parts = urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        sys.exit("benchmarks/queue.py measures PostgreSQL: set ONESTOP_DATABASE_URL to one")
    return urlunsplit(parts._replace(path="/postgres"))


def database_url(server: str) -> str:
    return urlunsplit(urlsplit(server)._replace(path=f"/{DATABASE}"))


def django_setup(url: str) -> None:
    os.environ["ONESTOP_DATABASE_URL"] = url
    os.environ.setdefault("ONESTOP_SECRET_KEY", "benchmark-only-key")
    os.environ.setdefault("ONESTOP_DATA_DIR", str(ROOT / "var" / "bench"))
    os.environ.setdefault("ONESTOP_LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "onestop.settings"
    import django

    django.setup()


# --- setup ---------------------------------------------------------------------------


def prepare(server: str, centres: int, counters: int, tickets: int) -> float:
    """A fresh database with the data; returns the seconds it took."""
    started = time.perf_counter()
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    django_setup(database_url(server))
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from onestop.accounts.models import User
    from onestop.catalogue.models import Country
    from onestop.catalogue.packs import read_pack, resolve_pack_path
    from onestop.catalogue.services import load_pack
    from onestop.centres.models import (
        Centre,
        Counter,
        CounterSession,
        PriorityCategory,
        ServiceGroup,
        SliceKind,
        Ticket,
        TicketSlice,
    )

    call_command("migrate", verbosity=0)
    load_pack(read_pack(resolve_pack_path("kz")))
    country = Country.objects.get(code="kz")
    region = country.regions.first()
    assert region is not None
    groups = list(ServiceGroup.objects.filter(country=country))
    priorities = list(PriorityCategory.objects.filter(country=country))
    made = Centre.objects.bulk_create([
        Centre(country=country, code=f"BENCH-{n:03d}", name={"en": f"Bench {n}"},
               region=region, counters=counters)
        for n in range(1, centres + 1)
    ])
    desks = Counter.objects.bulk_create([
        Counter(centre=c, number=n) for c in made for n in range(1, counters + 1)
    ])
    through = Counter.groups.through
    through.objects.bulk_create([
        through(counter_id=d.pk, servicegroup_id=g.pk) for d in desks for g in groups
    ], batch_size=10_000)
    password = make_password(None)
    operators = User.objects.bulk_create([
        User(username=f"bench-op-{d.pk}", password=password, role="operator",
             centre_id=d.centre_id)
        for d in desks
    ], batch_size=5_000)
    now = timezone.now()
    CounterSession.objects.bulk_create([
        CounterSession(counter=d, operator=o, opened_at=now) for d, o in zip(desks, operators,
                                                                            strict=True)
    ], batch_size=5_000)
    rng = random.Random(7)
    day = now.date()
    rows = []
    for centre in made:
        for sequence in range(1, tickets + 1):
            group = groups[sequence % len(groups)]
            priority = rng.choice(priorities) if rng.random() < 0.1 else None
            place = now - dt.timedelta(seconds=tickets - sequence)
            due = now - dt.timedelta(minutes=1) if rng.random() < 0.05 else None
            rows.append(Ticket(
                centre=centre, group=group, day=day, sequence=sequence,
                number=f"{group.code}-{sequence:03d}", source="kiosk", priority=priority,
                priority_rank=priority.rank if priority else 0, issued_at=place,
                place_at=place, due_at=due,
            ))
    created = Ticket.objects.bulk_create(rows, batch_size=5_000)
    TicketSlice.objects.bulk_create([
        TicketSlice(ticket=t, kind=SliceKind.WAITING, started_at=t.issued_at) for t in created
    ], batch_size=5_000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    connection.close()
    return time.perf_counter() - started


def reset(url: str) -> None:
    """Every ticket back in the queue as it was after setup."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM centres_ticketslice WHERE kind <> 'waiting'")
        conn.execute("UPDATE centres_ticketslice SET ended_at = NULL, note = ''")
        conn.execute(
            "UPDATE centres_ticket SET state = 'waiting', counter_id = NULL, operator_id = NULL,"
            " called_at = NULL, finished_at = NULL, wait_seconds = NULL, service_seconds = NULL"
        )
        conn.execute("VACUUM ANALYZE")


# --- the two workers -----------------------------------------------------------------


_start: Any = None  # a multiprocessing.Barrier, given to each worker process at start


def _init(barrier: Any) -> None:
    global _start
    _start = barrier


def started_together(seconds: float) -> float:
    """Wait for every worker process to be ready; the moment this one should stop."""
    _start.wait()
    return time.perf_counter() + seconds


def django_worker(args: tuple[str, list[int], float]) -> tuple[list[float], int]:
    """Drive these operators round-robin through the services until `until`."""
    url, operator_ids, seconds = args
    django_setup(url)
    from onestop.accounts.models import User
    from onestop.centres import services

    operators = list(User.objects.filter(pk__in=operator_ids))
    until = started_together(seconds)
    latencies: list[float] = []
    empty = 0
    while time.perf_counter() < until:
        for operator in operators:
            started = time.perf_counter()
            ticket = services.call_next(operator=operator)
            latencies.append(time.perf_counter() - started)
            if ticket is None:
                empty += 1
                continue
            services.start_serving(operator=operator)
            services.finish(operator=operator)
            if time.perf_counter() >= until:
                break
    return latencies, empty


def bare_worker(
    args: tuple[str, list[tuple[int, int, int]], float],
) -> tuple[list[float], int]:
    """The limit: the candidate query and the call's writes through psycopg; the ticket
    is then finished with two bare statements (not timed)."""
    url, desks, seconds = args
    latencies: list[float] = []
    empty = 0
    with psycopg.connect(url) as conn:
        until = started_together(seconds)
        while time.perf_counter() < until:
            for operator, counter, centre in desks:
                started = time.perf_counter()
                with conn.transaction():
                    now = dt.datetime.now(dt.UTC)
                    row = conn.execute(CANDIDATE_SQL, {"counter": counter, "centre": centre,
                                                       "now": now}).fetchone()
                    if row is not None:
                        ticket = row[0]
                        conn.execute("UPDATE centres_ticketslice SET ended_at = %s"
                                     " WHERE ticket_id = %s AND ended_at IS NULL", [now, ticket])
                        conn.execute(
                            "INSERT INTO centres_ticketslice (ticket_id, kind, started_at,"
                            " counter_id, operator_id, note, reason, out_of_order)"
                            " VALUES (%s, 'called', %s, %s, %s, '', '', false)",
                            [ticket, now, counter, operator])
                        conn.execute(
                            "UPDATE centres_ticket SET state = 'called', counter_id = %s,"
                            " operator_id = %s, called_at = %s WHERE id = %s",
                            [counter, operator, now, ticket])
                latencies.append(time.perf_counter() - started)
                if row is None:
                    empty += 1
                    continue
                with conn.transaction():
                    conn.execute("UPDATE centres_ticketslice SET ended_at = now()"
                                 " WHERE ticket_id = %s AND ended_at IS NULL", [row[0]])
                    conn.execute("UPDATE centres_ticket SET state = 'served', finished_at = now()"
                                 " WHERE id = %s", [row[0]])
                if time.perf_counter() >= until:
                    break
    return latencies, empty


# --- running -------------------------------------------------------------------------


def report(name: str, results: list[tuple[list[float], int]], seconds: float) -> float:
    latencies = sorted(x for r, _ in results for x in r)
    empty = sum(e for _, e in results)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
    print(f"{name:<36} {len(latencies) / seconds:8.1f} calls/s   p50 {p50:6.2f} ms   "
          f"p99 {p99:6.2f} ms   n={len(latencies)} (found the queue empty: {empty})")
    return p99


def drive(worker: object, jobs: list[object], processes: int) -> list[object]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    with context.Pool(processes, initializer=_init, initargs=(barrier,)) as pool:
        return pool.map(worker, jobs, chunksize=1)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--centres", type=int, default=300)
    parser.add_argument("--counters", type=int, default=20, help="open counters per centre")
    parser.add_argument("--tickets", type=int, default=150, help="waiting per centre")
    parser.add_argument("--workers", type=int, default=8, help="processes, one connection each")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--skip-setup", action="store_true", help="reuse queue_bench")
    options = parser.parse_args()

    server = server_url()
    url = database_url(server)
    if not options.skip_setup:
        took = prepare(server, options.centres, options.counters, options.tickets)
        print(f"setup: {options.centres} centres x {options.counters} counters, "
              f"{options.centres * options.tickets} waiting tickets in {took:.1f} s")
    else:
        reset(url)
    with psycopg.connect(url) as conn:
        desks = conn.execute(
            "SELECT s.operator_id, s.counter_id, c.centre_id FROM centres_countersession s"
            " JOIN centres_counter c ON c.id = s.counter_id WHERE s.closed_at IS NULL"
            " ORDER BY random()"
        ).fetchall()
    shares = [desks[i::options.workers] for i in range(options.workers)]

    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} before the run; "
          f"{len(desks)} operators driven by {options.workers} processes, "
          f"{options.seconds:.0f} s per phase, PostgreSQL on the same machine")
    results = drive(django_worker, [(url, [d[0] for d in share], options.seconds)
                                    for share in shares], options.workers)
    service_p99 = report("call_next (services)", results, options.seconds)  # type: ignore[arg-type]
    reset(url)
    results = drive(bare_worker, [(url, share, options.seconds) for share in shares],
                    options.workers)
    bare_p99 = report("limit (same query via psycopg)", results,  # type: ignore[arg-type]
                      options.seconds)
    print(f"load after the run {os.getloadavg()[0]:.2f}; ratio p99 services / limit: "
          f"{service_p99 / bare_p99:.2f}; target p99 < 20 ms")


if __name__ == "__main__":
    main()
