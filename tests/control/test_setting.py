"""ONESTOP_DEADLINE_ALERT_SHARE, checked in fresh processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _share(tmp_path: Path, value: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ONESTOP_")}
    clean.update({"ONESTOP_DATA_DIR": str(tmp_path), "ONESTOP_DEBUG": "true",
                  "ONESTOP_DEADLINE_ALERT_SHARE": value})
    return subprocess.run(
        [sys.executable, "-c",
         "import onestop.settings as s; print(s.ONESTOP_DEADLINE_ALERT_SHARE)"],
        env=clean, capture_output=True, text=True, check=False,
    )


def test_a_share_between_0_and_1(tmp_path: Path) -> None:
    result = _share(tmp_path, "0.75")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0.75"


@pytest.mark.parametrize("value", ["0", "1", "1.5", "-0.2", "most"])
def test_anything_else_is_explained(tmp_path: Path, value: str) -> None:
    result = _share(tmp_path, value)
    assert result.returncode != 0
    assert "ONESTOP_DEADLINE_ALERT_SHARE must be a number between 0 and 1" in result.stderr
