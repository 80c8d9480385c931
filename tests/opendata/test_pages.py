"""/open-data/ and its downloads, and GET /api/v1/open-data, for anyone without login."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command

from onestop.accounts.models import User
from onestop.catalogue.models import Country
from onestop.quality import services as quality
from tests.quality import history

MINI_PACK = Path(__file__).parent.parent / "catalogue" / "data" / "mini"


@pytest.fixture
def published(mini_country: Country, make_user: Callable[..., User], tmp_path: Path,
              settings) -> Path:
    op1 = make_user("operator", country_code="zz", centre_code="AST-01")
    op2 = make_user("operator", country_code="zz", centre_code="AST-01")
    quality.load_methodology(country=mini_country,
                             definition=quality.read_methodology(MINI_PACK))
    history.build(mini_country, op1, op2)
    out = tmp_path / "opendata"
    settings.OPENDATA_DIR = out
    call_command("opendata", "build", "--country", "zz", "--period", "2026-Q3",
                 stdout=io.StringIO())
    (tmp_path / "secret.txt").write_text("not public")
    return out


def body(response) -> bytes:
    try:
        return b"".join(response.streaming_content)
    finally:
        response.close()


def test_page_lists_periods_datasets_dictionary_and_licence(published, client):
    response = client.get("/open-data/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "2026-Q3" in html
    assert 'href="/open-data/files/zz/2026-Q3/performance_agency.csv"' in html
    assert 'href="/open-data/files/zz/2026-Q3/performance_agency.parquet"' in html
    assert "Creative Commons Attribution 4.0 International" in html
    assert "example-1" in html  # the methodology version
    assert "satisfaction_mean_legality" in html  # the dictionary
    assert "deadline_compliance" in html


def test_page_in_another_language(published):
    from django.test import Client
    response = Client(HTTP_ACCEPT_LANGUAGE="ru").get("/open-data/")
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "ru"


def test_page_before_any_build(client, settings, tmp_path, db):
    settings.OPENDATA_DIR = tmp_path / "none"
    response = client.get("/open-data/")
    assert response.status_code == 200
    assert "No open data has been published yet." in response.content.decode()


def test_download_serves_the_built_file(published, client):
    response = client.get("/open-data/files/zz/2026-Q3/performance_agency.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    content = body(response)
    assert content == (published / "zz" / "2026-Q3" / "performance_agency.csv").read_bytes()
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert {r["unit_code"] for r in rows} == {"MJ-ZAGS", "MLSP"}
    manifest = client.get("/open-data/files/manifest.json")
    assert manifest.status_code == 200
    assert b'"files"' in body(manifest)


@pytest.mark.parametrize("name", [
    "../secret.txt", "zz/../../secret.txt", "..%2Fsecret.txt", "%2e%2e/secret.txt",
    "/etc/passwd", "zz/2026-Q3/index.json", "zz/2026-Q3/nothing.csv",
    "zz/2026-Q3/../../../secret.txt",
])
def test_unknown_files_and_path_traversal_are_refused(published, client, name):
    response = client.get(f"/open-data/files/{name}")
    assert response.status_code == 404
    assert b"not public" not in response.content


def test_a_missing_file_answers_404_with_a_message(published, client):
    response = client.get("/open-data/files/zz/2026-Q3/nothing.csv")
    assert response.status_code == 404
    assert "No open data file of that name" in response.content.decode()


def test_api_listing(published, api_client):
    response = api_client(None).get("/api/v1/open-data")
    assert response.status_code == 200
    data = response.json()
    assert data["licence"]["id"] == "CC-BY-4.0"
    assert data["suppression_threshold"] == 10
    assert [(p["country"], p["period"], p["methodology_version"])
            for p in data["periods"]] == [("zz", "2026-Q3", "example-1")]
    files = {f["path"]: f for f in data["files"]}
    entry = files["zz/2026-Q3/sdg_statistics.json"]
    assert entry["url"] == "http://localhost/open-data/files/zz/2026-Q3/sdg_statistics.json"
    assert entry["rows"] == 2
    assert len(entry["sha256"]) == 64


def test_api_listing_before_any_build(api_client, settings, tmp_path, db):
    settings.OPENDATA_DIR = tmp_path / "none"
    response = api_client(None).get("/api/v1/open-data")
    assert response.status_code == 404
    assert "onestop opendata build" in response.json()["detail"]
