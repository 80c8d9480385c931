"""Submissions per second through `POST /api/v1/applications` on the production server.

Starts a fresh PostgreSQL database, the Kazakhstan pack and `onestop serve` (gunicorn),
then drives the API with concurrent clients, each with its own citizen token and its own
connection (which gunicorn's sync workers close after every answer: the client connects
again), and prints submissions per second and p50/p99 latency. The clients are driven by
an event loop in a few processes (`--client-processes`), so that they take as little of
the two cores as a load generator can: in production they are elsewhere. The limit,
measured in the same run with the same concurrency, inserts the same rows as one API
submission wrote (the application, its document, its events, its outbox messages and
its audit entries chained under the chain head's lock, copied from the first submission
of the API run) straight through the database driver, one INSERT per row and one
transaction per submission: the ratio says how much of the database's own speed the
whole stack keeps. With each phase it prints how busy the machine's cores were, and for
the API run the cores the server, PostgreSQL and the clients used (from /proc), so a run
says whether it was bound by the cores or by waiting. Nothing is asserted; the figures
go to docs/performance.md.

    .venv/bin/python benchmarks/submit.py [--clients 16] [--client-processes 2]
                                          [--seconds 20] [--workers 4]
"""

from __future__ import annotations

import sys

# This folder holds scripts named like standard modules (queue.py): take it off the path
# before anything imports the standard one (multiprocessing does), so imports follow.
# ruff: noqa: E402
sys.path[:] = [p for p in sys.path if p not in ("", __file__.rpartition("/")[0])]

import argparse
import base64
import hashlib
import json
import multiprocessing
import os
import platform
import secrets
import selectors
import socket
import statistics
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
ONESTOP = str(Path(sys.executable).with_name("onestop"))
SERVICE = "10220001"  # certificate of (no) criminal record: instant, no uploads
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
HEAD_ID = 1  # onestop.audit's one-row chain head


def run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([ONESTOP, *args], env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        sys.exit(f"onestop {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def prepare(database: str, clients: int) -> tuple[dict[str, str], list[str]]:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    data_dir = ROOT / "var" / "bench"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONESTOP_")}
    env.update(
        ONESTOP_DATABASE_URL=f"postgresql://postgres@127.0.0.1:5432/{database}",
        ONESTOP_DATA_DIR=str(data_dir),
        ONESTOP_SECRET_KEY="benchmark-only-key",
        ONESTOP_LOG_LEVEL="WARNING",
        ONESTOP_COUNTRY="kz",
    )
    run(env, "migrate", "--no-input", "-v", "0")
    run(env, "load-pack", "kz")
    script = (
        "from onestop.accounts.services import create_user, issue_token\n"
        "import json,sys\n"
        "keys=[]\n"
        f"for i in range({clients}):\n"
        "    u=create_user(username=f'bench{i}',password='x',role='citizen',"
        "national_id=f'9001013{i:05d}',validate=False)\n"
        "    u.email=f'bench{i}@example.kz'; u.save(update_fields=['email'])\n"
        "    keys.append(issue_token(user=u)[1])\n"
        "print(json.dumps(keys))\n"
    )
    out = run(env, "shell", "-c", script)
    return env, json.loads(out.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(
    env: dict[str, str], workers: int, what: str = "onestop serve"
) -> tuple[int, subprocess.Popen[bytes]]:
    """`onestop serve` with `env` on a free port, once it answers: its port and process
    (stopped, and the script ended, if it does not come up)."""
    port = free_port()
    server = subprocess.Popen(
        [ONESTOP, "serve", "--port", str(port), "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120  # a busy machine starts the workers slowly
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return port, server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.terminate()
                server.wait(timeout=30)
                sys.exit(f"{what} did not come up")
            time.sleep(0.2)


def submission_body() -> str:
    """One submission's JSON: the e-form (its "Applicant's IIN" left to be filled in from
    the client's account) and a 2 KB scan."""
    scan = base64.b64encode(b"%PDF-1.4 " + b"0" * 2000).decode()
    return json.dumps({
        "service": SERVICE, "country": "kz",
        "form": {"purpose": "employment", "format": "electronic"},
        "documents": [{"code": "id_document", "filename": "id.pdf",
                       "content_type": "application/pdf", "content_base64": scan}],
    })


def clients(args: tuple[int, list[str], float]) -> list[float]:
    """Submissions from one process: each token is one client, on a connection of its
    own, all of them driven by one event loop (`selectors`), as a load generator such as
    wrk drives its connections: a client costs the machine what the kernel's socket
    work costs and little more, so the cores go to the server and PostgreSQL, which share
    them in production, and not to the clients, which in production are elsewhere. Each
    client sends a submission, reads the answer to its end (the server closes the
    connection after it) and sends the next on a new connection; an answer other than
    201 Created stops the run."""
    port, tokens, until = args
    body = submission_body().encode()
    heads = [
        (f"POST /api/v1/applications HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
         f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
         f"Content-Length: {len(body)}\r\nConnection: close\r\nIdempotency-Key: ").encode()
        for token in tokens
    ]
    selector = selectors.DefaultSelector()
    latencies: list[float] = []

    def start(slot: int) -> None:
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
        request = heads[slot] + secrets.token_hex(8).encode() + b"\r\n\r\n" + body
        # state: the slot, when it started, what is left to send, what was received
        selector.register(sock, selectors.EVENT_WRITE,
                          [slot, time.perf_counter(), memoryview(request), []])

    for slot in range(len(tokens)):
        start(slot)
    while selector.get_map():
        ready = selector.select(timeout=30)
        if not ready:
            raise RuntimeError("the server sent nothing for 30 s")
        for key, _events in ready:
            sock, state = key.fileobj, key.data
            assert isinstance(sock, socket.socket)
            if state[2] is not None:  # still sending
                try:
                    sent = sock.send(state[2])
                except BlockingIOError:
                    continue
                state[2] = state[2][sent:] if sent < len(state[2]) else None
                if state[2] is None:
                    selector.modify(sock, selectors.EVENT_READ, state)
                continue
            chunk = sock.recv(65536)
            if chunk:
                state[3].append(chunk)
                continue
            selector.unregister(sock)
            sock.close()
            answer = b"".join(state[3])
            if answer[9:12] != b"201":
                raise RuntimeError(f"submission answered {answer[9:12].decode() or 'nothing'}")
            latencies.append(time.perf_counter() - state[1])
            if time.perf_counter() < until:
                start(state[0])
    return latencies


def driver_client(args: tuple[str, dict[str, list[dict[str, object]]], float]) -> list[float]:
    """The limit: the rows one submission wrote, through psycopg, one transaction each."""
    url, rows, until = args
    latencies = []
    with psycopg.connect(url) as conn:
        while time.perf_counter() < until:
            started = time.perf_counter()
            number = "KZ-B-" + secrets.token_hex(6)
            with conn.transaction():
                app = dict(rows["applications_application"][0], number=number,
                           idempotency_key=secrets.token_hex(8))
                app_id = insert(conn, "applications_application", app)
                for document in rows["applications_applicationdocument"]:
                    insert(conn, "applications_applicationdocument",
                           dict(document, application_id=app_id))
                for event in rows["applications_applicationevent"]:
                    insert(conn, "applications_applicationevent",
                           dict(event, application_id=app_id))
                for message in rows["notifications_message"]:
                    insert(conn, "notifications_message",
                           dict(message, subject_id=number, idempotency_key=uuid.uuid4()))
                # the chain's head row, locked as onestop.audit does, last
                head = conn.execute(
                    "SELECT sequence, hash FROM audit_chainhead WHERE id = %s FOR UPDATE",
                    [HEAD_ID],
                ).fetchone()
                sequence, prev_hash = head[0], head[1]
                for template in rows["audit_auditentry"]:
                    entry = dict(template, subject_id=number)
                    entry["sequence"] = sequence = sequence + 1
                    entry["prev_hash"] = prev_hash
                    entry["hash"] = prev_hash = hashlib.sha256(
                        json.dumps(entry, default=str, sort_keys=True).encode()).hexdigest()
                    entry["data"] = psycopg.types.json.Jsonb(entry["data"])
                    columns, slots = ", ".join(entry), ", ".join(["%s"] * len(entry))
                    conn.execute(f"INSERT INTO audit_auditentry ({columns}) VALUES ({slots})",
                                 list(entry.values()))
                conn.execute(
                    "UPDATE audit_chainhead SET sequence = %s, prev_hash = %s, hash = %s"
                    " WHERE id = %s",
                    [sequence, entry["prev_hash"], prev_hash, HEAD_ID],
                )
            latencies.append(time.perf_counter() - started)
    return latencies


def insert(conn: psycopg.Connection, table: str, row: dict[str, object]) -> int:
    row = {k: (psycopg.types.json.Jsonb(v) if isinstance(v, dict | list) else v)
           for k, v in row.items() if k != "id"}
    columns, slots = ", ".join(row), ", ".join(["%s"] * len(row))
    query = f"INSERT INTO {table} ({columns}) VALUES ({slots}) RETURNING id"
    return int(conn.execute(query, list(row.values())).fetchone()[0])


def template_rows(url: str) -> dict[str, list[dict[str, object]]]:
    """Every row the API's first submission wrote, to copy."""
    with psycopg.connect(url) as conn:
        conn.row_factory = psycopg.rows.dict_row
        first = conn.execute(
            "SELECT * FROM applications_application ORDER BY id LIMIT 1").fetchone()
        if first is None:
            sys.exit("no application to copy: did the API run submit anything?")
        rows: dict[str, list[dict[str, object]]] = {"applications_application": [first]}
        for table, where, order in [
            ("applications_applicationdocument", "application_id = %s", "id"),
            ("applications_applicationevent", "application_id = %s", "id"),
            ("notifications_message", "subject_id = %s", "id"),
            ("audit_auditentry", "subject_id = %s", "sequence"),
        ]:
            key = first["id"] if "application_id" in where else first["number"]
            rows[table] = conn.execute(
                f"SELECT * FROM {table} WHERE {where} ORDER BY {order}", [key]).fetchall()
    counts = ", ".join(f"{len(v)} {k.split('_', 1)[1]}" for k, v in rows.items())
    print(f"one submission wrote: {counts}, and moved the chain head")
    return rows


def cpu_seconds(server_pid: int) -> dict[str, float] | None:
    """CPU time (user and system) used so far by the server (gunicorn's master and
    workers), PostgreSQL's processes and this script's client processes, read from
    /proc; None where there is no /proc. Ended processes are not counted: take the
    difference over a phase whose processes live throughout."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    tick = os.sysconf("SC_CLK_TCK")
    me = os.getpid()
    used = {"server": 0.0, "PostgreSQL": 0.0, "clients": 0.0}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        pid, ppid = int(entry.name), int(fields[1])
        seconds = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        if pid == server_pid or ppid == server_pid:
            used["server"] += seconds
        elif name == "postgres":
            used["PostgreSQL"] += seconds
        elif ppid == me:
            used["clients"] += seconds
    return used


def busy_seconds() -> tuple[float, float] | None:
    """CPU time all cores of the machine have spent busy so far, and of it the time the
    hypervisor gave to other guests ("steal"), from /proc/stat; None without it."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except OSError:
        return None
    idle = fields[3] + fields[4]  # idle and iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields[:8]) - idle) / tick, fields[7] / tick


def print_busy(
    before: tuple[float, float] | None, after: tuple[float, float] | None, seconds: float
) -> None:
    if before is not None and after is not None:
        print(f"the machine's cores busy: {(after[0] - before[0]) / seconds:.2f} of "
              f"{os.cpu_count()}, of which stolen by the host: "
              f"{(after[1] - before[1]) / seconds:.2f}")


def report(name: str, latencies: list[float], seconds: float) -> float:
    rate = len(latencies) / seconds
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000 if ordered else float("nan")
    print(f"{name:<34} {rate:8.1f} /s   p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   "
          f"n={len(latencies)}")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--client-processes", type=int, default=2,
                        help="processes the clients are spread over (each runs one event loop)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--database", default="onestop_bench")
    options = parser.parse_args()
    if not 1 <= options.client_processes <= options.clients:
        sys.exit("--client-processes must be between 1 and --clients")
    if options.seconds <= 0 or options.workers < 1:
        sys.exit("--seconds must be positive and --workers at least 1")

    env, tokens = prepare(options.database, options.clients)
    port, server = serve(env, options.workers)
    try:
        warm_until = time.perf_counter() + 2
        groups = [tokens[i::options.client_processes] for i in range(options.client_processes)]
        with multiprocessing.Pool(options.client_processes) as pool:
            pool.map(clients, [(port, group, warm_until) for group in groups])
            until = time.perf_counter() + options.seconds
            started = time.perf_counter()
            cpu_before, busy_before = cpu_seconds(server.pid), busy_seconds()
            results = pool.map(clients, [(port, group, until) for group in groups])
            elapsed = time.perf_counter() - started
            cpu_after, busy_after = cpu_seconds(server.pid), busy_seconds()
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"machine: {os.cpu_count()} cores; {options.clients} clients in "
          f"{options.client_processes} processes, "
          f"{options.workers} gunicorn workers, {options.seconds:.0f} s, PostgreSQL on the "
          f"same machine; Python {platform.python_version()} "
          f"({os.path.realpath(sys.executable)})")
    api_rate = report("API (POST /api/v1/applications)", [x for r in results for x in r],
                      elapsed)
    if cpu_before is not None and cpu_after is not None:
        cores = {k: (cpu_after[k] - cpu_before[k]) / elapsed for k in cpu_after}
        print("cores used during the API run: " + ", ".join(
            f"{k} {v:.2f}" for k, v in cores.items()) + f" (of {os.cpu_count()})")
        if api_rate > 0:
            print("CPU per submission: " + ", ".join(
                f"{k} {v / api_rate * 1000:.2f} ms" for k, v in cores.items()))
    print_busy(busy_before, busy_after, elapsed)
    url = env["ONESTOP_DATABASE_URL"]
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "onestop.settings"
    import django

    django.setup()
    rows = template_rows(url)
    until = time.perf_counter() + options.seconds
    started, busy_before = time.perf_counter(), busy_seconds()
    with multiprocessing.Pool(options.clients) as pool:
        limit_results = pool.map(driver_client, [(url, rows, until)] * options.clients)
    elapsed, busy_after = time.perf_counter() - started, busy_seconds()
    limit_rate = report("limit (same rows via psycopg)", [x for r in limit_results for x in r],
                        elapsed)
    print_busy(busy_before, busy_after, elapsed)
    print(f"ratio API / limit: {api_rate / limit_rate:.2f}; target 300 /s with p99 < 250 ms")


if __name__ == "__main__":
    main()
