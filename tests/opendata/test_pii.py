"""No public output names a person: a generated country (`onestop demo`), comments on its
ratings full of its applicants' names, phones, e-mails and national IDs, `onestop assess`
and `onestop opendata build`; then every open data file and every page and API answer
anyone can reach without login is scanned for every national ID, full name, phone and
e-mail address in the database. A leak fails the test naming what leaked and where.

What is reached: the open data files on disk; the pages without parameters of the URL
namespaces in PUBLIC_NAMESPACES and every same-site page they link to (followed up to
MAX_PAGES); every GET operation of the API without security in its OpenAPI document, its
path parameters filled from the register (service, agency, centre and region codes). New
public pages and endpoints are picked up without changing this test.
"""

from __future__ import annotations

import io
import json
import re
from collections import deque
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.db.models import Q
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from onestop.accounts.models import User
from onestop.api import api
from onestop.applications.models import Application
from onestop.catalogue.models import Agency, Country, Region, Service
from onestop.centres.models import Centre, Ticket
from onestop.feedback.models import Rating

PUBLIC_NAMESPACES = ("public", "opendata", "catalogue", "open311", "interop")
SKIP_PREFIXES = ("/admin/", "/accounts/", "/i18n/", "/static/", "/media/",
                 "/open-data/files/")  # the files are scanned on disk
MAX_PAGES = 400
WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
DIGITS = re.compile(r"\+?\d[\d\s().\-/]*\d")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@pytest.fixture
def country(kz: Country, tmp_path: Path, settings) -> Country:
    settings.OPENDATA_DIR = tmp_path / "opendata"
    quiet = {"stdout": io.StringIO(), "stderr": io.StringIO()}
    call_command("demo", "--country", "kz", "--applications", "2000", "--year", "2025",
                 "--seed", "7", "--serial", **quiet)
    return kz


def _full_name(user: User) -> str:
    return f"{user.first_name} {user.last_name}".strip()


def _inject_comments(country: Country) -> int:
    """Give 60 ratings a comment naming their applicant (and the operator who took the
    application), with the applicant's phone, e-mail and national ID; write ratings when
    the generated country has too few."""
    apps = list(Application.objects.filter(country=country, completed_at__isnull=False)
                .exclude(applicant_name="").select_related("submitted_by")
                .order_by("pk")[:60])
    assert len(apps) == 60
    existing = {r.application_id: r for r in Rating.objects.filter(application__in=apps)}
    for app in apps:
        operator = _full_name(app.submitted_by) if app.submitted_by else ""
        comment = (f"I am {app.applicant_name}, ID {app.applicant_national_id}, call "
                   f"{app.applicant_phone} or write {app.applicant_email}. {operator} "
                   "was kind.")
        rating = existing.get(app.pk)
        if rating is None:
            Rating.objects.create(
                country=country, application=app, agency_id=app.agency_id,
                centre_id=app.centre_id, channel="portal", scores={"overall": 4}, mean=4,
                lowest=4, comment=comment, created_at=app.completed_at,
                updated_at=app.completed_at)
        else:
            rating.comment = comment
            rating.save(update_fields=["comment"])
    return len(apps)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src", "action") and value:
                self.links.append(value)


def _patterns(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for item in resolver.url_patterns:
        if isinstance(item, URLResolver):
            yield from _patterns(item, prefix)
        elif item.name:
            yield prefix, item


def _start_pages() -> list[str]:
    urls = ["/"]
    namespaces = get_resolver().namespace_dict
    for ns in PUBLIC_NAMESPACES:
        if ns not in namespaces:
            continue
        _, resolver = namespaces[ns]
        for _, pattern in _patterns(resolver):
            if not pattern.pattern.converters and "(?P<" not in str(pattern.pattern):
                urls.append(reverse(f"{ns}:{pattern.name}"))
    return sorted(set(urls))


def _api_urls() -> list[str]:
    """The GET operations without security, their path parameters filled with a few
    codes of the register, numbers of applications and tickets (text parameters) or ids
    (whole-number parameters)."""
    schema = api.get_openapi_schema()
    texts: list[str] = []
    numbers: list[str] = []
    for model in (Service, Agency, Centre, Region):
        found = model.objects.filter(country__code="kz").order_by("pk")  # type: ignore[attr-defined]
        texts += list(found.values_list("code", flat=True)[:2])
        numbers += [str(pk) for pk in found.values_list("pk", flat=True)[:2]]
    texts += list(Application.objects.order_by("pk").values_list("number", flat=True)[:2])
    texts += list(Ticket.objects.order_by("pk").values_list("number", flat=True)[:2])
    urls = []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if not get or get.get("security"):
            continue
        kinds = {p["name"]: p.get("schema", {}).get("type") for p in get.get("parameters", [])
                 if p.get("in") == "path"}
        if not kinds:
            urls.append(path)
            continue
        for value_index in range(len(texts)):
            url = path
            for name, kind in kinds.items():
                pool = numbers if kind == "integer" else texts
                url = url.replace(f"{{{name}}}", pool[value_index % len(pool)])
            urls.append(url)
    return sorted(set(urls))


def _crawl(client: Client) -> dict[str, str]:
    """Every public page and API answer reached, by address."""
    seen: dict[str, str] = {}
    queue = deque([*_start_pages(), *_api_urls()])
    queued = set(queue)
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url)
        if response.status_code != 200:
            continue
        if response.streaming:
            content = b"".join(response.streaming_content)
            response.close()
        else:
            content = response.content
        text = content.decode("utf-8", errors="replace")
        seen[url] = text
        if "html" not in response.get("Content-Type", ""):
            continue
        parser = _Links()
        parser.feed(text)
        for link in parser.links:
            target = urlsplit(urljoin(url, link))
            if target.netloc not in ("", "localhost") or target.scheme not in ("", "http"):
                continue
            path = target.path + (f"?{target.query}" if target.query else "")
            if path.startswith(SKIP_PREFIXES) or path in queued:
                continue
            queued.add(path)
            queue.append(path)
    return seen


def _file_texts(folder: Path) -> dict[str, str]:
    texts = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            texts[str(path)] = json.dumps(table.to_pylist(), ensure_ascii=False, default=str)
            texts[str(path) + " (metadata)"] = str(table.schema.metadata)
        else:
            texts[str(path)] = path.read_text(encoding="utf-8")
    return texts


class _Personal:
    """Every person's identifiers in the database, ready to look for in text."""

    def __init__(self) -> None:
        ids: set[str] = set()
        names: set[str] = set()
        phones: set[str] = set()
        emails: set[str] = set()
        for nid, name, phone, email in Application.objects.values_list(
                "applicant_national_id", "applicant_name", "applicant_phone",
                "applicant_email").iterator():
            ids.add(nid)
            names.add(name)
            phones.add(phone)
            emails.add(email)
        for user in User.objects.filter(~Q(first_name="") | ~Q(national_id="") | ~Q(email="")):
            ids.add(user.national_id)
            names.add(_full_name(user))
            emails.add(user.email)
        self.ids = {i for i in ids if len(i) >= 6}
        self.phones = {re.sub(r"\D", "", p)[-10:] for p in phones if len(re.sub(r"\D", "", p)) >= 7}
        self.emails = {e.casefold() for e in emails if e}
        self.names = {tuple(w.casefold() for w in WORD.findall(n)) for n in names}
        self.names = {n for n in self.names if len(n) >= 2}
        self.lengths = sorted({len(n) for n in self.names})

    def leaks(self, text: str) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for run in DIGITS.findall(text):
            digits = re.sub(r"\D", "", run)
            if digits in self.ids:
                found.append(("national ID", digits))
            if len(digits) >= 7 and digits[-10:] in self.phones:
                found.append(("phone", run))
            if len(digits) > 12:  # an ID run together with other digits
                found += [("national ID", nid) for nid in self.ids if nid in digits]
        for email in EMAIL.findall(text):
            if email.casefold() in self.emails:
                found.append(("email", email))
        words = [w.casefold() for w in WORD.findall(text)]
        for n in self.lengths:
            for i in range(len(words) - n + 1):
                if tuple(words[i:i + n]) in self.names:
                    found.append(("full name", " ".join(words[i:i + n])))
        return found


def test_no_public_output_names_a_person(country, tmp_path):
    injected = _inject_comments(country)
    quiet = {"stdout": io.StringIO()}
    for scope in ("agency", "service", "centre"):
        call_command("assess", "--country", "kz", "--period", "2025-Q3", "--scope", scope,
                     **quiet)
    out = tmp_path / "opendata"
    call_command("opendata", "build", "--country", "kz", **quiet)
    # the public site's snapshots and its static copy, the red flags' public counts
    call_command("public", "refresh", "--country", "kz", "--period", "2025-Q3", **quiet)
    site = tmp_path / "site"
    call_command("publish", "--out", str(site), "--country", "kz", "--no-opendata", **quiet)
    call_command("integrity", "flags", "--country", "kz", "--period", "2025-Q3", **quiet)

    personal = _Personal()
    assert len(personal.ids) > 500
    assert len(personal.names) > 500
    assert len(personal.phones) > 100
    assert len(personal.emails) > 100

    # the scan finds each kind when it is there
    sample = Application.objects.exclude(applicant_email="").exclude(applicant_phone="").first()
    assert sample is not None
    planted = (f"{sample.applicant_name.upper()}, tel. {sample.applicant_phone}, "
               f"{sample.applicant_email}, {sample.applicant_national_id}")
    assert {kind for kind, _ in personal.leaks(planted)} == {
        "full name", "phone", "email", "national ID"}

    texts = _file_texts(out)
    published = _file_texts(site)
    assert any(name.endswith(".html") for name in published)
    assert any(name.endswith(".csv") for name in published)
    texts.update(published)
    # the comments are published (redacted): the scan does look at them
    comments = [json.loads(t) for name, t in texts.items()
                if name.endswith("rating_comments.json")]
    assert sum(1 for doc in comments if "-Q" in doc["period"] for row in doc["rows"]
               if row["comment"].startswith("I am [name]")) == injected
    client = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en")
    pages = _crawl(client)
    assert "/open-data/" in pages
    assert "/monitor/" in pages
    assert any(url.startswith("/monitor/agency/") for url in pages)
    summary = client.get("/api/v1/integrity/flags/summary?country=kz&period=2025-Q3")
    assert summary.status_code == 200
    pages["/api/v1/integrity/flags/summary?period=2025-Q3"] = summary.content.decode()
    assert "/api/v1/open-data" in pages
    assert any(url.startswith("/api/v1/") and url != "/api/v1/open-data" for url in pages)
    texts.update({f"GET {url}": text for url, text in pages.items()})

    leaks = [f"{kind} {value!r} in {where}" for where, text in texts.items()
             for kind, value in personal.leaks(text)]
    assert not leaks, f"{len(leaks)} personal data leaked:\n" + "\n".join(leaks[:40])
