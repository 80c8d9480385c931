"""`onestop worker` as operators run it: separate processes on a real database (a fresh
SQLite file, or a fresh database on the PostgreSQL server of ONESTOP_DATABASE_URL),
killed mid-send and stopped with SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

ONESTOP = str(Path(sys.executable).with_name("onestop"))
ENQUEUE = """
import json
from django.db import transaction
from onestop.notifications.services import enqueue
with transaction.atomic():
    keys = [str(enqueue(channel="email", recipient=f"citizen{i}@example.kz",
                        template="application_submitted", language="kk",
                        context={"number": f"KZ-2026-00000{i}", "service": "Test"},
                        subject_type="application", subject_id=f"KZ-2026-00000{i}",
                        ).idempotency_key) for i in range(%d)]
print(json.dumps(keys))
"""
ROWS = """
import json
from onestop.notifications.models import Message
rows = Message.objects.order_by("pk").values("idempotency_key", "status", "attempts", "sent_at")
print(json.dumps(list(rows), default=str))
"""


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A database of its own: the worker's processes cannot see pytest's test database."""
    configured = os.environ.get("ONESTOP_DATABASE_URL", "")
    if not configured.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'worker.sqlite3'}"
        return
    name = f"onestop_worker_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(configured, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield configured.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(configured, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def bare_env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ONESTOP_")}
    clean.update(
        ONESTOP_DATA_DIR=str(tmp_path / "data"),
        ONESTOP_SECRET_KEY="worker-test-key-not-a-placeholder",
        ONESTOP_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="onestop.settings",
    )
    return clean


@pytest.fixture
def env(bare_env: dict[str, str], database_url: str) -> dict[str, str]:
    """The environment of a worker on a migrated database of its own."""
    bare_env["ONESTOP_DATABASE_URL"] = database_url
    migrated = run(bare_env, "migrate", "--no-input")
    assert migrated.returncode == 0, migrated.stderr
    return bare_env


def run(env: dict[str, str], *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ONESTOP, *args], env={**env, **extra}, capture_output=True, text=True, timeout=120,
        check=False,
    )


def enqueue(env: dict[str, str], count: int) -> list[str]:
    result = run(env, "shell", "--no-imports", "-c", ENQUEUE % count)
    assert result.returncode == 0, result.stderr
    keys: list[str] = json.loads(result.stdout)
    return keys


def rows(env: dict[str, str]) -> list[dict[str, Any]]:
    result = run(env, "shell", "--no-imports", "-c", ROWS)
    assert result.returncode == 0, result.stderr
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return found


def outbox_keys(env: dict[str, str]) -> list[str]:
    path = Path(env["ONESTOP_DATA_DIR"]) / "outbox" / "email.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["idempotency_key"] for line in path.read_text().splitlines()]


def wait_for(condition: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_killing_the_worker_mid_send_loses_nothing_and_delivers_once(
    env: dict[str, str],
) -> None:
    first, second = enqueue(env, 2)
    # The file channel pauses after writing: the row stays `sending` with the line written.
    worker = subprocess.Popen(
        [ONESTOP, "worker", "--once"],
        env={**env, "ONESTOP_NOTIFY_FILE_PAUSE_SECONDS": "60"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: outbox_keys(env) == [first])
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=20)
    assert [(r["status"], r["attempts"]) for r in rows(env)] == [("sending", 1), ("sending", 1)]

    # Within the lease nobody touches the claim...
    early = run(env, "worker", "--once")
    assert early.returncode == 0, early.stderr
    assert "claimed 0" in early.stdout
    # ...after it, the next worker retries both with the same keys.
    after = run(env, "worker", "--once", ONESTOP_NOTIFY_LEASE_SECONDS="0")
    assert after.returncode == 0, after.stderr
    assert "already in email.jsonl" in after.stdout
    assert "claimed 2, sent 2" in after.stdout
    assert outbox_keys(env) == [first, second]  # each delivered exactly once
    final = rows(env)
    assert [(r["status"], r["attempts"]) for r in final] == [("sent", 2), ("sent", 2)]
    assert all(r["sent_at"] for r in final)
    assert "example.kz" not in after.stdout + after.stderr


def test_sigterm_stops_the_worker_after_the_current_message(env: dict[str, str]) -> None:
    first, second = enqueue(env, 2)
    worker = subprocess.Popen(
        [ONESTOP, "worker", "--sleep", "0.1"],
        env={**env, "ONESTOP_NOTIFY_FILE_PAUSE_SECONDS": "2"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_for(lambda: outbox_keys(env) == [first])
        worker.send_signal(signal.SIGTERM)
        stdout, stderr = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, stderr
    assert "stopped: claimed 2, sent 1, retrying 0, dead 0, released 1" in stdout
    assert "Traceback" not in stderr
    assert [(r["status"], r["attempts"]) for r in rows(env)] == [("sent", 1), ("queued", 0)]
    assert run(env, "worker", "--once").returncode == 0
    assert outbox_keys(env) == [first, second]


def test_bad_options_and_settings_are_one_clear_line(bare_env: dict[str, str]) -> None:
    env = bare_env
    batch = run(env, "worker", "--once", "--batch", "0")
    assert batch.returncode != 0
    assert "--batch must be at least 1" in batch.stderr
    setting = run(env, "worker", "--once", ONESTOP_NOTIFY_SMS_CHANNEL="pigeon")
    assert setting.returncode == 2
    assert "ONESTOP_NOTIFY_SMS_CHANNEL must be one of file, http" in setting.stderr
    unmigrated = run(env, "worker", "--once")
    assert unmigrated.returncode == 1
    assert "database problem" in unmigrated.stderr
    assert "onestop migrate" in unmigrated.stderr
    assert "Traceback" not in batch.stderr + setting.stderr + unmigrated.stderr
