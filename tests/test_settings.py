"""Settings: the production guard and the database URL, checked in fresh processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ONESTOP_")}
    clean.update({"ONESTOP_DATA_DIR": str(tmp_path), **env})
    code = (
        "import onestop.settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], s.DEBUG)"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=clean, capture_output=True, text=True, check=False
    )


def test_placeholder_key_is_refused_when_debug_is_off(tmp_path: Path) -> None:
    result = _settings(tmp_path)
    assert result.returncode != 0
    assert "Refusing to run with the placeholder secret key" in result.stderr


def test_debug_mode_may_use_the_placeholder(tmp_path: Path) -> None:
    result = _settings(tmp_path, ONESTOP_DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3", str(tmp_path / "onestop.sqlite3"), "True"
    ]


def test_key_file_and_postgres_url(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("a-random-key-from-the-file\n")
    result = _settings(tmp_path, ONESTOP_DATABASE_URL="postgresql://u@db.example:5432/reg")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "reg", "False"]


def test_bad_boolean_and_bad_url_are_explained(tmp_path: Path) -> None:
    bad_bool = _settings(tmp_path, ONESTOP_DEBUG="maybe")
    assert "ONESTOP_DEBUG must be true or false" in bad_bool.stderr
    bad_url = _settings(tmp_path, ONESTOP_DEBUG="1", ONESTOP_DATABASE_URL="nosuch://x")
    assert bad_url.returncode != 0
    assert "ONESTOP_DATABASE_URL" in bad_url.stderr


def test_the_site_address_is_a_scheme_and_a_host(tmp_path: Path) -> None:
    for wrong in ("onestop.example.gov", "https://onestop.example.gov/portal", "ftp://x"):
        result = _settings(tmp_path, ONESTOP_DEBUG="1", ONESTOP_SITE_URL=wrong)
        assert result.returncode != 0, wrong
        assert "ONESTOP_SITE_URL must be the site's address" in result.stderr
    right = _settings(tmp_path, ONESTOP_DEBUG="1", ONESTOP_SITE_URL="https://e.example/")
    assert right.returncode == 0, right.stderr


def _database_options(tmp_path: Path, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ONESTOP_")}
    clean.update({"ONESTOP_DATA_DIR": str(tmp_path), "ONESTOP_DEBUG": "1", **env})
    code = "import onestop.settings as s; print(sorted(s.DATABASES['default']['OPTIONS'].items()))"
    result = subprocess.run(
        [sys.executable, "-c", code], env=clean, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_postgres_binds_on_the_server_and_prepares_repeated_statements(tmp_path: Path) -> None:
    url = "postgresql://u@db.example:5432/reg?sslmode=require"
    assert _database_options(tmp_path, ONESTOP_DATABASE_URL=url) == (
        "[('prepare_threshold', 5), ('server_side_binding', True), ('sslmode', 'require')]"
    )
    assert _database_options(
        tmp_path, ONESTOP_DATABASE_URL=url, ONESTOP_DATABASE_PREPARED_STATEMENTS="off"
    ) == "[('prepare_threshold', None), ('server_side_binding', True), ('sslmode', 'require')]"
