"""Reads of the built open data: the manifest, the dictionaries, and the one file a
download asks for (only a file the manifest lists, inside the open data folder)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from onestop.opendata.build import DICTIONARY, MANIFEST, default_dir


def folder() -> Path:
    return default_dir()


def manifest(root: Path | None = None) -> dict[str, Any] | None:
    """The manifest of the last build, None when nothing is built."""
    path = (root or folder()) / MANIFEST
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def dictionaries(root: Path | None = None) -> dict[str, dict[str, Any]]:
    """Each built country's data dictionary, by country code."""
    out: dict[str, dict[str, Any]] = {}
    found = manifest(root)
    for cc in (found or {}).get("countries", {}):
        try:
            out[cc] = json.loads(((root or folder()) / cc / DICTIONARY).read_text("utf-8"))
        except (OSError, ValueError):
            continue
    return out


def listed_file(name: str, root: Path | None = None) -> Path | None:
    """The file `name` (a path relative to the folder) when the manifest lists it (or
    it is the manifest) and it lies inside the folder; None otherwise. Nothing outside
    the manifest is ever served, so `..`, absolute paths and other files are refused."""
    base = (root or folder()).resolve()
    if name != MANIFEST:
        found = manifest(base)
        if found is None or name not in {f.get("path") for f in found.get("files", [])}:
            return None
    path = (base / name).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        return None
    return path


def periods(found: dict[str, Any]) -> list[dict[str, Any]]:
    """Per country and period (latest first): the methodology version and the files by
    dataset and format."""
    files: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for f in found.get("files", []):
        if f.get("period"):
            files.setdefault((f["country"], f["period"]), {}).setdefault(
                f["dataset"], {})[f["format"]] = f
    out = []
    for cc, items in found.get("countries", {}).items():
        for item in reversed(items):
            out.append({**item, "country": cc,
                        "datasets": [{"code": code, "formats": formats,
                                      "rows": next(iter(formats.values())).get("rows")}
                                     for code, formats in sorted(
                                         files.get((cc, item["period"]), {}).items())]})
    return out
