"""What the lake benchmarks (assess.py, integrity.py) share: their set-up and the calendar
of the lakes they generate.

A script imports it first, before any other module (run as a script, this folder is
sys.path[0], where this module is found): it takes the folder off sys.path again
(benchmarks/queue.py would shadow the standard library's queue module, which pyarrow
imports), puts src on it and sets Django up with throwaway settings.
"""

# ruff: noqa: E402 (the path fix below must run before the other imports)
from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import datetime as dt
import os
import tempfile

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("ONESTOP_SECRET_KEY", "benchmark-only")
os.environ.setdefault("ONESTOP_DATA_DIR", tempfile.mkdtemp(prefix="onestop-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onestop.settings")

import django

django.setup()

YEAR_START = np.datetime64("2026-01-01T00:00:00", "us")
US_PER_DAY = 86_400_000_000
START = dt.datetime(2026, 6, 30, 19)  # Q3 2026 in Kazakhstan (UTC+5), as naive UTC
END = dt.datetime(2026, 9, 30, 19)


def timestamps(days: np.ndarray) -> np.ndarray:
    """Days since the start of 2026 (with fractions) as naive UTC timestamps, in µs."""
    return YEAR_START + (days * US_PER_DAY).astype("timedelta64[us]")
