"""Every setting and every command is documented: a new one without docs fails here."""

from __future__ import annotations

import re
from pathlib import Path

from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "src" / "onestop" / "settings.py"


def test_every_setting_is_documented() -> None:
    names = set(re.findall(r'env(?:_bool|_list)?\("([A-Z_]+)"', SETTINGS.read_text()))
    assert {"DATABASE_URL", "SECRET_KEY", "DEBUG"} <= names
    documented = (ROOT / "docs" / "settings.md").read_text()
    missing = sorted(n for n in names if f"`ONESTOP_{n}`" not in documented)
    assert missing == []


def test_every_onestop_command_is_documented() -> None:
    ours = sorted(
        name for name, app in get_commands().items() if str(app).startswith("onestop.")
    )
    assert "load_pack" in ours
    documented = (ROOT / "docs" / "cli.md").read_text()
    missing = [n for n in ours if f"`onestop {n.replace('_', '-')}" not in documented]
    assert missing == []
