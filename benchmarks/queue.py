"""Calling the next ticket: `centres.services.call_next` latency with every counter busy.

Creates its own PostgreSQL database (`queue_bench`, on the server of ONESTOP_DATABASE_URL
or 127.0.0.1:5432), the Kazakhstan pack, and 300 centres with 20 open counters each,
every counter with its own operator, and a queue of waiting tickets at every centre
(four groups, some with priority, some due appointments), all with bulk inserts. Then
worker processes, each with its own connection, drive the 6,000 operators round-robin:
call the next ticket (timed), finish it with two plain statements (not timed, the same
in every phase), next operator.

Three phases over the same queues (reset between them), each timed per call in wall
time and in the worker's own CPU time (`time.process_time`, which the machine's load
hardly changes; the database server's CPU is not in it):

- `call_next (services)`: the service as the desk and the API call it; on PostgreSQL its
  two statements (`services.CallNextSQL`) sent in one round trip with BEGIN and COMMIT.
- `call_next (ORM path)`: the same use case through the ORM (`services._call_next_orm`,
  eight statements, what PostgreSQL ran before), for comparison; `--no-orm` skips it.
- `limit (same SQL via psycopg)`: the very statements of `CallNextSQL`, text taken from
  the service, sent the same way (one pipeline with BEGIN and COMMIT) through psycopg,
  no Django: the floor for the service on this machine.

Nothing is asserted; the figures go to docs/performance.md ("Calling the next ticket").

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


Result = tuple[list[float], list[float], int]  # wall seconds, CPU seconds, empty calls

# Every phase finishes the called ticket with these two statements (not timed), so the
# phases differ only in the call they time.
FINISH_SQL = (
    "UPDATE centres_ticketslice SET ended_at = now() WHERE ticket_id = %s AND ended_at IS NULL",
    "UPDATE centres_ticket SET state = 'served', finished_at = now() WHERE id = %s",
)


def django_worker(args: tuple[str, list[int], float, bool]) -> Result:
    """Drive these operators round-robin through the services until the time is up."""
    url, operator_ids, seconds, orm = args
    django_setup(url)
    from django.db import connection, transaction
    from django.utils import timezone

    from onestop.accounts.models import User
    from onestop.centres import services

    def call(operator: User) -> Any:
        if orm:
            return services._call_next_orm(operator, timezone.now())
        return services.call_next(operator=operator)

    operators = list(User.objects.filter(pk__in=operator_ids))
    until = started_together(seconds)
    latencies: list[float] = []
    cpu: list[float] = []
    empty = 0
    while time.perf_counter() < until:
        for operator in operators:
            started, started_cpu = time.perf_counter(), time.process_time()
            ticket = call(operator)
            latencies.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            if ticket is None:
                empty += 1
                continue
            with transaction.atomic(), connection.cursor() as cursor:
                for statement in FINISH_SQL:
                    cursor.execute(statement, [ticket.pk])
            if time.perf_counter() >= until:
                break
    return latencies, cpu, empty


def bare_worker(
    args: tuple[str, list[tuple[int, int, int]], float, dict[str, Any]],
) -> Result:
    """The limit: `call_next`'s two statements through psycopg as the service sends them
    (one pipeline: BEGIN, the statements, COMMIT; client-side binding as Django's)."""
    url, desks, seconds, sql = args
    latencies: list[float] = []
    cpu: list[float] = []
    empty = 0
    parameters = sql["parameters"]  # the constant ones of `CallNextSQL.parameters`
    with psycopg.connect(url, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        until = started_together(seconds)
        while time.perf_counter() < until:
            for operator, _counter, centre in desks:
                started, started_cpu = time.perf_counter(), time.process_time()
                values = {**parameters, "operator": operator, "centre": centre,
                          "now": dt.datetime.now(dt.UTC)}
                with conn.pipeline():
                    conn.cursor().execute("BEGIN")
                    session, call = conn.cursor(), conn.cursor()
                    session.execute(sql["session"], values)
                    call.execute(sql["call"], values)
                    conn.cursor().execute("COMMIT")
                found, row = session.fetchone(), call.fetchone()
                latencies.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
                if found is None:
                    raise RuntimeError(f"operator {operator} has no open counter")
                assert row is not None
                if row[0] is not None:
                    raise RuntimeError(f"ticket {row[0]} is still at counter of {operator}")
                ticket = row[1]
                if ticket is None:
                    empty += 1
                    continue
                with conn.transaction():
                    for statement in FINISH_SQL:
                        conn.execute(statement, [ticket])
                if time.perf_counter() >= until:
                    break
    return latencies, cpu, empty


# --- running -------------------------------------------------------------------------


def report(name: str, results: list[Result], seconds: float) -> float:
    latencies = sorted(x for r, _, _ in results for x in r)
    cpu = [x for _, c, _ in results for x in c]
    empty = sum(e for _, _, e in results)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
    print(f"{name:<32} {len(latencies) / seconds:7.1f} calls/s  p50 {p50:6.2f} ms  "
          f"p99 {p99:6.2f} ms  CPU/call {statistics.fmean(cpu) * 1000:5.2f} ms  "
          f"n={len(latencies)} (queue empty: {empty})")
    return p99


def drive(worker: Any, jobs: list[Any], processes: int) -> list[Result]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    with context.Pool(processes, initializer=_init, initargs=(barrier,)) as pool:
        return pool.map(worker, jobs, chunksize=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--centres", type=int, default=300)
    parser.add_argument("--counters", type=int, default=20, help="open counters per centre")
    parser.add_argument("--tickets", type=int, default=150, help="waiting per centre")
    parser.add_argument("--workers", type=int, default=8, help="processes, one connection each")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--skip-setup", action="store_true", help="reuse queue_bench")
    parser.add_argument("--no-orm", dest="orm", action="store_false",
                        help="skip the ORM path phase")
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

    if options.skip_setup:
        django_setup(url)
    from onestop.centres.services import call_next_sql

    statements = call_next_sql()
    constant = statements.parameters(0, 0, dt.datetime.now(dt.UTC))
    for name in ("operator", "centre", "now"):
        del constant[name]
    sql = {"session": statements.session, "call": statements.call, "parameters": constant}

    print(f"machine: {os.cpu_count()} cores, load {load()} before the run; "
          f"{len(desks)} operators driven by {options.workers} processes, "
          f"{options.seconds:.0f} s per phase, PostgreSQL on the same machine")
    service_p99 = report("call_next (services)", drive(
        django_worker, [(url, [d[0] for d in share], options.seconds, False)
                        for share in shares], options.workers), options.seconds)
    if options.orm:
        reset(url)
        print(f"  load {load()}")
        report("call_next (ORM path)", drive(
            django_worker, [(url, [d[0] for d in share], options.seconds, True)
                            for share in shares], options.workers), options.seconds)
    reset(url)
    print(f"  load {load()}")
    bare_p99 = report("limit (same SQL via psycopg)", drive(
        bare_worker, [(url, share, options.seconds, sql) for share in shares],
        options.workers), options.seconds)
    print(f"load after the run {load()}; ratio p99 services / limit: "
          f"{service_p99 / bare_p99:.2f}; target p99 < 20 ms")


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
