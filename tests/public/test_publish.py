"""`onestop publish`: the static copy of the public site, served by a plain static file
server (Python's http.server), shows the same pages and figures as the live site, in every
language of the pack, and every relative link in it leads to a file that is there."""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import sys
import threading
import types
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from onestop.catalogue.models import Country
from onestop.public import publish
from tests.public.conftest import PERSON
from tests.public.test_pages import PATHS
from tests.quality import history

pytestmark = pytest.mark.django_db


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def site(refreshed: history.History, tmp_path: Path) -> Path:
    out = tmp_path / "site"
    call_command("publish", "--out", str(out), "--country", "zz", "--no-opendata")
    return out


@pytest.fixture
def server(site: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(site))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (local server)
        assert response.status == 200
        return response.read().decode()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and ((tag == "a" and name == "href") or (tag == "link" and name == "href")):
                self.links.append(value)


def links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.links


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_every_language_and_page_is_written(site: Path) -> None:
    assert publish.languages_of(Country.objects.get(code="zz")) == ["kk", "ru", "en"]
    for language in ("kk", "ru", "en"):
        for path in PATHS:
            assert (site / language / path / "index.html").is_file(), (language, path)
            assert (site / language / path / "data.json").is_file()
    assert (site / "en" / "rankings" / "agency" / "ranking.csv").is_file()
    assert (site / "static" / "onestop" / "site.css").is_file()
    assert (site / "static" / "public" / "monitor.css").is_file()
    assert (site / "index.html").is_file()


def test_static_pages_show_the_same_figures(server: str, client: Client) -> None:
    for path in PATHS:
        page = flat(fetch(f"{server}en/{path}index.html"))
        assert "Figures as of 2026-10-15 07:00 (Asia/Almaty)" in page, path
        assert '<html lang="en">' in page
        live = client.get(f"/monitor/{path}data.json").content.decode()
        static = fetch(f"{server}en/{path}data.json")
        if path != "centre/AST-01/":  # the live site reads the queue live
            assert static == live, path
    live_csv = client.get("/monitor/rankings/agency/ranking.csv").content.decode()
    assert fetch(f"{server}en/rankings/agency/ranking.csv") == live_csv
    russian = flat(fetch(f"{server}ru/rankings/agency/index.html"))
    assert '<html lang="ru">' in russian
    assert "Департамент ЗАГС" in russian


def test_every_relative_link_resolves(server: str) -> None:
    seen: set[str] = set()
    queue = [f"{server}en/index.html"]
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        text = fetch(url)
        if not url.endswith(".html"):
            continue
        for href in links(text):
            assert not href.startswith("/"), f"{url}: absolute link {href}"
            assert "://" not in href, f"{url}: external link {href}"
            target = urljoin(url, href).split("#")[0]
            if urlsplit(target).path.startswith("/en/") or target.endswith(".css"):
                queue.append(target)
            else:
                fetch(target)  # another language's page
    pages = [u for u in seen if u.endswith("index.html")]
    assert len(pages) >= len(PATHS)


def test_publish_refuses_without_a_snapshot(built: history.History, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="run `onestop public refresh --country zz`"):
        call_command("publish", "--out", str(tmp_path / "x"), "--country", "zz")
    with pytest.raises(CommandError, match="no country 'qq' is loaded"):
        call_command("publish", "--out", str(tmp_path / "x"), "--country", "qq")
    (tmp_path / "file").write_text("")
    with pytest.raises(CommandError, match="is not a folder"):
        call_command("publish", "--out", str(tmp_path / "file"), "--country", "zz")


def test_no_personal_data_in_the_static_copy(with_person: history.History,
                                             tmp_path: Path) -> None:
    out = tmp_path / "site"
    call_command("publish", "--out", str(out), "--country", "zz", "--no-opendata")
    text = "\n".join(p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file())
    for value in (*PERSON.values(), "900101300011"):
        assert value not in text


def test_missing_file_is_a_404(server: str) -> None:
    with pytest.raises(urllib.error.HTTPError):
        fetch(f"{server}en/agency/NOPE/index.html")


def test_a_shipped_pack_without_history_publishes(kz: Country, tmp_path: Path,
                                                  client: Client) -> None:
    call_command("public", "refresh", "--country", "kz")
    out = tmp_path / "kz"
    call_command("publish", "--out", str(out), "--country", "kz", "--no-opendata")
    languages = publish.languages_of(kz)
    assert "en" in languages
    session = client.session
    session["onestop_country"] = "kz"
    session.save()
    index = json.loads(client.get("/monitor/data.json").content)
    assert index["tables"]["figures"]["rows"][0] == ["Applications submitted", "0"]
    for language in languages:
        assert (out / language / "index.html").is_file()
        assert (out / language / "methodology" / "index.html").is_file()
    pages = list((out / "en" / "service").glob("*/index.html"))
    assert len(pages) == kz.services.count()


def test_publish_calls_the_open_data_writer(refreshed: history.History, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def write_all(out_dir: Path, *, country: str | None = None) -> list[Path]:
        calls.append((out_dir, country))
        out_dir.mkdir(parents=True)
        target = out_dir / "x.csv"
        target.write_text("a\n")
        return [target]

    fake = types.ModuleType("onestop.opendata.build")
    fake.__spec__ = importlib.util.spec_from_loader("onestop.opendata.build", loader=None)
    fake.write_all = write_all  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "onestop.opendata.build", fake)
    out = tmp_path / "site"
    files = publish.publish(out, refreshed.country)
    assert calls == [(out / "opendata", "zz")]
    assert out / "opendata" / "x.csv" in files
    assert publish.publish(tmp_path / "again", refreshed.country, opendata=False)
    assert len(calls) == 1
