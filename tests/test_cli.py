"""The `onestop` command as a user runs it: in fresh processes, on a fresh SQLite file,
with the production server (gunicorn) answering real HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import MINI_PACK

ONESTOP = str(Path(sys.executable).with_name("onestop"))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("data")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ONESTOP_")}
    clean.update(
        ONESTOP_DATA_DIR=str(data),
        ONESTOP_SECRET_KEY="cli-test-key-not-a-placeholder",
        ONESTOP_COUNTRY="zz",
        DJANGO_SETTINGS_MODULE="onestop.settings",
    )
    run(clean, "migrate", "--no-input")
    return clean


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ONESTOP, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_load_pack_then_reload_is_a_no_op(env: dict[str, str]) -> None:
    first = run(env, "load-pack", str(MINI_PACK))
    assert first.returncode == 0, first.stderr
    assert "pack zz loaded" in first.stdout
    again = run(env, "load-pack", str(MINI_PACK))
    assert "pack zz already up to date" in again.stdout


def test_load_pack_errors_are_one_clear_line_each(env: dict[str, str], tmp_path: Path) -> None:
    missing = run(env, "load-pack", str(tmp_path / "nowhere"))
    assert missing.returncode == 1
    assert "no such pack folder" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_users_create_checks_role_and_scope(env: dict[str, str]) -> None:
    run(env, "load-pack", str(MINI_PACK))
    ok = run(env, "users", "create", "--role", "officer", "--username", "aigerim",
             "--password", "a long password 2026", "--agency", "MJ-ZAGS")
    assert ok.returncode == 0, ok.stderr
    assert "created officer aigerim of zz/MJ-ZAGS" in ok.stdout
    for args, message in [
        (["--role", "officer", "--username", "b"], "belongs to an agency: give --agency"),
        (["--role", "operator", "--username", "c", "--agency", "MJ"], "belongs to a centre"),
        (["--role", "officer", "--username", "d", "--agency", "NOPE"], "no agency with code"),
        (["--role", "citizen", "--username", "aigerim"], "already exists"),
        (["--role", "king", "--username", "e"], "invalid choice: 'king'"),
    ]:
        result = run(env, "users", "create", "--password", "a long password 2026", *args)
        assert result.returncode != 0, args
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    weak = run(env, "users", "create", "--role", "citizen", "--username", "f",
               "--password", "123")
    assert "password rejected" in weak.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(env: dict[str, str]) -> Iterator[str]:
    run(env, "load-pack", str(MINI_PACK))
    collected = run(env, "collectstatic", "--no-input", "--verbosity", "0")
    assert collected.returncode == 0, collected.stderr
    port = _free_port()
    process = subprocess.Popen(
        [ONESTOP, "serve", "--port", str(port), "--workers", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)  # noqa: S310 (local server)
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
        # the access log carries no query strings (they may hold access codes)
        assert "q=" not in output


def test_serve_answers_pages_api_and_static_files(server: str) -> None:
    def get(path: str) -> tuple[int, bytes]:
        with urllib.request.urlopen(server + path, timeout=5) as response:  # noqa: S310
            return response.status, response.read()

    status, body = get("/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})
    status, body = get("/api/v1/services?q=%D1%80%D0%BE%D0%B6%D0%B4%D0%B5%D0%BD%D0%B8%D1%8F")
    assert [s["code"] for s in json.loads(body)["items"]] == ["01010001"]
    status, body = get("/services/01010001/")
    assert status == 200
    assert b"01010001" in body
    assert b'<link rel="icon" href="/static/onestop/icon.svg" type="image/svg+xml">' in body
    status, body = get("/static/onestop/site.css")
    assert status == 200
    assert b".skip" in body
    status, body = get("/static/onestop/icon.svg")
    assert (status, body[:4]) == (200, b"<svg")
