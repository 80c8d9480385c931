"""The CPU one submission costs the server and PostgreSQL, measured in one process.

On this shared two-core virtual machine the throughput `benchmarks/submit.py` measures
moves by a third from minute to minute with the same code (docs/performance.md): more
than most changes move it. This script measures what a change does to one submission
instead. It drives `POST /api/v1/applications` through onestop's WSGI application in a
process of its own (the whole middleware and API stack, no HTTP server), one
submission after another against a fresh PostgreSQL database prepared as `submit.py`
prepares it, and prints per submission the process's own CPU time, the CPU time of every
PostgreSQL process of the machine (from /proc: run it while nothing else uses the
database server), the wall time and the statements sent.

With `--against DIR`, another checkout of onestop (say a `git worktree` of the commit
before a change), it alternates rounds of this tree and that one, each round in a new
process, and prints the medians and the median of the paired ratios, so that the
machine's drift falls on both alike. Nothing is asserted.

    .venv/bin/python benchmarks/submit_cpu.py [--rounds 6] [--submissions 300] [--against DIR]
"""

from __future__ import annotations

import sys

# This folder holds scripts named like standard modules (queue.py): take it off the path
# before anything imports the standard one, so imports follow.
# ruff: noqa: E402
HERE = __file__.rpartition("/")[0]
sys.path[:] = [p for p in sys.path if p not in ("", HERE)]

import argparse
import importlib.util
import io
import json
import os
import platform
import secrets
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _submit_module() -> Any:
    """benchmarks/submit.py, for its database preparation and its request body."""
    spec = importlib.util.spec_from_file_location("submit_benchmark", Path(HERE) / "submit.py")
    if spec is None or spec.loader is None:
        sys.exit("benchmarks/submit.py is missing")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(token: str, submissions: int) -> dict[str, float]:
    """In this process: the cost of `submissions` submissions after a warm-up."""
    import django

    django.setup()
    from django.db import connection

    from onestop.wsgi import application

    bench = _submit_module()
    body = bench.submission_body().encode()

    def postgres_seconds() -> float:
        """CPU seconds PostgreSQL's processes have used so far (0 without /proc)."""
        used = bench.cpu_seconds(os.getpid())
        return float(used["PostgreSQL"]) if used is not None else 0.0

    def submit() -> None:
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/applications",
            "SCRIPT_NAME": "", "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "HTTP_HOST": "127.0.0.1:8000", "HTTP_AUTHORIZATION": f"Bearer {token}",
            "HTTP_IDEMPOTENCY_KEY": secrets.token_hex(8), "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": False,
            "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
        }
        status: list[str] = []
        answer = application(environ, lambda s, headers, exc_info=None: status.append(s))
        b"".join(answer)
        answer.close()  # type: ignore[attr-defined]
        if not status[0].startswith("201"):
            raise RuntimeError(f"submission answered {status[0]}")

    for _ in range(30):
        submit()
    statements = 0

    def count(execute: Any, *args: Any) -> Any:
        nonlocal statements
        statements += 1
        return execute(*args)

    with connection.execute_wrapper(count):
        submit()
    postgres, cpu, wall = postgres_seconds(), time.process_time(), time.perf_counter()
    for _ in range(submissions):
        submit()
    return {
        "server_ms": (time.process_time() - cpu) / submissions * 1000,
        "postgres_ms": (postgres_seconds() - postgres) / submissions * 1000,
        "wall_ms": (time.perf_counter() - wall) / submissions * 1000,
        "statements": statements,
    }


def run_round(tree: Path, env: dict[str, str], token: str, submissions: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", "--submissions", str(submissions)],
        # the token by the environment, not the command line that `ps` shows
        env={**env, "PYTHONPATH": str(tree / "src"), "DJANGO_SETTINGS_MODULE": "onestop.settings",
             "ONESTOP_BENCHMARK_TOKEN": token},
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        sys.exit(f"the round in {tree} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--submissions", type=int, default=300, help="per round")
    parser.add_argument("--against", type=Path, help="another checkout of onestop")
    parser.add_argument("--database", default="onestop_bench_cpu")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        print(json.dumps(measure(os.environ["ONESTOP_BENCHMARK_TOKEN"], options.submissions)))
        return
    if options.rounds < 1 or options.submissions < 1:
        sys.exit("--rounds and --submissions must be at least 1")
    trees = {"this tree": ROOT}
    if options.against is not None:
        if not (options.against / "src" / "onestop").is_dir():
            sys.exit(f"{options.against}: not a checkout of onestop (no src/onestop)")
        trees[str(options.against)] = options.against.resolve()
    import psycopg

    try:
        env, tokens = _submit_module().prepare(options.database, 1)
    except psycopg.OperationalError as exc:
        sys.exit(f"PostgreSQL at 127.0.0.1:5432 is not reachable: {exc}")
    results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for number in range(options.rounds):
        for name, tree in trees.items():
            result = run_round(tree, env, tokens[0], options.submissions)
            results[name].append(result)
            print(f"round {number + 1} {name:<20} server {result['server_ms']:.2f} ms, "
                  f"PostgreSQL {result['postgres_ms']:.2f} ms, wall {result['wall_ms']:.2f} ms, "
                  f"{result['statements']} statements besides BEGIN and COMMIT", flush=True)
    print(f"per submission, median of {options.rounds} rounds of {options.submissions}, "
          f"Python {platform.python_version()} ({os.path.realpath(sys.executable)}):")
    for name, rounds in results.items():
        print(f"  {name:<20} " + ", ".join(
            f"{key} {statistics.median(r[key] for r in rounds):.2f}"
            for key in ("server_ms", "postgres_ms", "wall_ms")))
    if options.against is not None:
        pairs = list(zip(results["this tree"], results[str(options.against)], strict=True))
        print("this tree / the other, median of the paired rounds: " + ", ".join(
            f"{key} {statistics.median(a[key] / b[key] for a, b in pairs):.3f}"
            for key in ("server_ms", "postgres_ms", "wall_ms")))


if __name__ == "__main__":
    main()
