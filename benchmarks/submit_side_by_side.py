"""Two onestop servers under the same load at the same time, to compare two checkouts.

What a change costs a submission under load. On this shared two-core virtual machine the
same code gives 192 to 365 submissions/s in `benchmarks/submit.py` runs of the same day
(docs/performance.md): runs taken one after the other cannot show a change of a few per
cent. This script starts `onestop serve` from this tree and from another checkout
(`--against DIR`, say a `git worktree` of the commit before a change) against one
PostgreSQL database prepared as `submit.py` prepares it, drives both with half of the
clients each at the same moment (the clients of `submit.py`, one process per server),
and reads from /proc the CPU each server's processes used: whatever the machine does
during a round, it does to both. Going first (started first, driven by the first client
process) gave a server an edge of 1-3% here, so the order alternates every round and the
client halves swap every second round: run an even number of rounds. Two copies of the
same code come out within 1% (1.004 in four rounds). It prints each round, the medians
and the median of the paired ratios of CPU per submission (this tree / the other).
Nothing is asserted.

    .venv/bin/python benchmarks/submit_side_by_side.py --against DIR [--rounds 4]
                                          [--seconds 15] [--clients 16] [--workers 4]
"""

from __future__ import annotations

import sys

# This folder holds scripts named like standard modules (queue.py): take it off the path
# before anything imports the standard one (multiprocessing does), so imports follow.
# ruff: noqa: E402
HERE = __file__.rpartition("/")[0]
sys.path[:] = [p for p in sys.path if p not in ("", HERE)]

import argparse
import importlib.util
import multiprocessing
import statistics
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _submit_module() -> Any:
    """benchmarks/submit.py: its database preparation and its clients (registered under
    a name of its own, so the client processes can find `clients`)."""
    spec = importlib.util.spec_from_file_location("submit_benchmark", Path(HERE) / "submit.py")
    if spec is None or spec.loader is None:
        sys.exit("benchmarks/submit.py is missing")
    module = importlib.util.module_from_spec(spec)
    sys.modules["submit_benchmark"] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, required=True, help="another checkout of onestop")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15.0, help="per round")
    parser.add_argument("--clients", type=int, default=16, help="half for each server")
    parser.add_argument("--workers", type=int, default=4, help="per server")
    parser.add_argument("--database", default="onestop_bench_pair")
    options = parser.parse_args()
    if not (options.against / "src" / "onestop").is_dir():
        sys.exit(f"{options.against}: not a checkout of onestop (no src/onestop)")
    if options.rounds < 1 or options.seconds <= 0 or options.workers < 1:
        sys.exit("--rounds and --workers must be at least 1, --seconds positive")
    if options.clients < 2 or options.clients % 2:
        sys.exit("--clients must be an even number, at least 2")
    if not Path("/proc").is_dir():
        sys.exit("this script reads the servers' CPU time from /proc")
    bench = _submit_module()
    import psycopg

    try:
        env, tokens = bench.prepare(options.database, options.clients)
    except psycopg.OperationalError as exc:
        sys.exit(f"PostgreSQL at 127.0.0.1:5432 is not reachable: {exc}")
    def server_seconds(pid: int) -> float:
        """CPU seconds the server (its master and workers) has used so far."""
        used = bench.cpu_seconds(pid)
        assert used is not None  # /proc checked above
        return float(used["server"])

    trees = {"this tree": ROOT, str(options.against): options.against.resolve()}
    halves = [tokens[: options.clients // 2], tokens[options.clients // 2 :]]
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    for number in range(options.rounds):
        # which server starts first and is driven by the first client process, and which
        # half of the clients drives it, both change from round to round
        order = list(trees.items()) if number % 2 == 0 else list(trees.items())[::-1]
        servers: dict[str, tuple[int, Any]] = {}
        try:  # the servers started are stopped however the round ends
            for name, tree in order:
                servers[name] = bench.serve({**env, "PYTHONPATH": str(tree / "src")},
                                            options.workers, f"onestop serve from {tree}")
            names = list(servers)
            groups = halves if number // 2 % 2 == 0 else halves[::-1]
            with multiprocessing.Pool(2) as pool:
                warm = time.perf_counter() + 2
                pool.map(bench.clients, [(servers[n][0], g, warm) for n, g in zip(names, groups,
                                                                                 strict=True)])
                before = {n: server_seconds(servers[n][1].pid) for n in names}
                until = time.perf_counter() + options.seconds
                started = time.perf_counter()
                latencies = pool.map(bench.clients, [(servers[n][0], g, until)
                                                     for n, g in zip(names, groups, strict=True)])
                elapsed = time.perf_counter() - started
                after = {n: server_seconds(servers[n][1].pid) for n in names}
        finally:
            for _port, server in servers.values():
                server.terminate()
                server.wait(timeout=30)
        for name, answered in zip(names, latencies, strict=True):
            ordered = sorted(answered)
            used = after[name] - before[name]
            rate, cpu_ms = len(ordered) / elapsed, used / len(ordered) * 1000
            results[name].append((rate, cpu_ms))
            print(f"round {number + 1} {name:<20} {rate:6.1f} /s   p50 "
                  f"{statistics.median(ordered) * 1000:6.1f} ms   p99 "
                  f"{ordered[int(len(ordered) * 0.99) - 1] * 1000:6.1f} ms   server "
                  f"{cpu_ms:.2f} ms CPU per submission, {used / elapsed:.2f} cores", flush=True)
    for name, rounds in results.items():
        print(f"  {name:<20} median {statistics.median(r[0] for r in rounds):.1f} /s, "
              f"{statistics.median(r[1] for r in rounds):.2f} ms of server CPU per submission")
    mine, other = results.values()
    print("this tree / the other, server CPU per submission, median of the paired rounds: "
          f"{statistics.median(a[1] / b[1] for a, b in zip(mine, other, strict=True)):.3f}")


if __name__ == "__main__":
    main()
