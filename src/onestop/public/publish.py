"""`onestop publish`: the whole public site as static files that any web server or CDN
serves: DIR/<language>/<page>/index.html for every page and every language of the pack,
beside each page its tables as CSV and all its figures as data.json, the style sheets in
DIR/static/, and DIR/index.html pointing to the languages. Links are relative, so the copy
works from any folder of any server and from disk. Open data (onestop.opendata.build),
when that module is there, goes to DIR/opendata/."""

from __future__ import annotations

import importlib
import importlib.util
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import translation

from onestop.catalogue.models import Country
from onestop.public import pages, selectors
from onestop.public.views import page_context

STYLESHEETS = ("onestop/site.css", "public/monitor.css")


class PublishError(ValueError):
    """A publication that cannot be written; the message says why."""


def languages_of(country: Country) -> list[str]:
    """The pack's languages the site speaks, in the pack's order (English when none)."""
    known = {code for code, _ in settings.LANGUAGES}
    chosen = [code for code in country.languages if code in known]
    return chosen or ["en"]


def _write(path: Path, content: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return path


def _opendata(out: Path, country: Country) -> list[Path]:
    if importlib.util.find_spec("onestop.opendata.build") is None:
        return []
    module = importlib.import_module("onestop.opendata.build")
    write_all: Callable[..., list[Path]] | None = getattr(module, "write_all", None)
    if write_all is None:
        return []
    return list(write_all(out / "opendata", country=country.code))


def publish(out: Path, country: Country, *, opendata: bool = True) -> list[Path]:
    """Write the site; return the files written."""
    index = selectors.index(country)
    if index is None:
        raise PublishError(f"no snapshot of {country.code} yet: run `onestop public refresh "
                           f"--country {country.code}` first")
    written: list[Path] = []
    languages = tuple(languages_of(country))
    names = {code: str(name) for code, name in settings.LANGUAGES}
    names = {code: translation.get_language_info(code)["name_local"] for code in names}
    for language in languages:
        with translation.override(language):
            for path in pages.all_paths(index):
                linker = pages.Linker.for_static(path, languages)
                context = pages.Context(country, index, linker, live=False)
                page = pages.build(context, path)
                if page is None:
                    continue
                folder = out / language / path
                html = render_to_string("public/page.html", page_context(
                    page, linker, country, layout="public/standalone.html",
                    language=language, language_names=names))
                written.append(_write(folder / "index.html", html))
                written.append(_write(folder / "data.json", page.as_json()))
                for table in page.tables.values():
                    written.append(_write(folder / f"{table.id}.csv", table.as_csv()))
    for name in STYLESHEETS:
        found = finders.find(name)
        if not found:
            raise PublishError(f"the style sheet {name} is missing from the static files")
        target = out / "static" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(str(found), target)
        written.append(target)
    written.append(_write(out / "index.html", _front(languages, names, index)))
    if opendata:
        written += _opendata(out, country)
    return written


def _front(languages: tuple[str, ...], names: dict[str, Any], index: dict[str, Any]) -> str:
    first = languages[0]
    links = "\n".join(f'<li><a href="{code}/index.html" lang="{code}" hreflang="{code}">'
                      f'{names.get(code, code)}</a></li>' for code in languages)
    return (f'<!doctype html>\n<html lang="{first}">\n<head><meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta http-equiv="refresh" content="0; url={first}/index.html">\n'
            '<title>onestop</title>\n<link rel="stylesheet" href="static/onestop/site.css">'
            '</head>\n<body><main class="wrap"><h1>onestop</h1>\n'
            f'<p>{index["period"]} · {index["taken_at"]}</p>\n<ul>\n{links}\n</ul>'
            '</main></body>\n</html>\n')
