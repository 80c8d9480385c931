"""The register as CPSV-AP 3.2: valid against the published shapes for both packs, the
worked-out values of one service, the API's two formats and the `export cpsv` command."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, RDF, SKOS, XSD

from onestop.catalogue.models import Agency, Country, Service
from onestop.catalogue.packs import read_pack, resolve_pack_path
from onestop.catalogue.services import load_pack
from onestop.interop import cpsv, selectors
from onestop.interop.cpsv import CPSV, CV, ELI

# The published shapes, kept beside the repository (CI checks out ../shared too).
SHARED_SHAPES = (Path(__file__).resolve().parents[2].parent / "shared" / "standards"
                 / "cpsv-ap" / "cpsv-ap-SHACL.ttl")
BASE = "https://services.example.org"


@pytest.fixture
def uz(db: None) -> Country:
    load_pack(read_pack(resolve_pack_path("uz")))
    return Country.objects.get(code="uz")


def read_jsonld(data: bytes) -> Graph:
    """JSON-LD parsed with rdflib. Its JSON-LD parser builds a ConjunctiveGraph inside,
    which rdflib 7.6 itself deprecates: that one warning is silenced here, nothing else."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="ConjunctiveGraph is deprecated",
                                category=DeprecationWarning)
        return Graph().parse(data=data, format="json-ld")


def export(country: Country) -> Graph:
    return cpsv.build_graph(country, selectors.register(country), BASE)


def test_the_vendored_shapes_are_the_published_ones() -> None:
    assert SHARED_SHAPES.exists(), f"the published shapes are missing at {SHARED_SHAPES}"
    assert cpsv.SHAPES.read_bytes() == SHARED_SHAPES.read_bytes()


@pytest.mark.parametrize("pack", ["kz", "uz"])
def test_the_export_of_each_pack_has_no_shacl_violation(
        pack: str, request: pytest.FixtureRequest) -> None:
    country: Country = request.getfixturevalue(pack)
    graph = export(country)
    services = set(graph.subjects(RDF.type, CPSV.PublicService))
    assert len(services) == Service.objects.filter(country=country).count() > 20
    result = cpsv.validate(graph, SHARED_SHAPES)
    assert result.violations == 0, result.report
    assert result.conforms


def test_the_shapes_do_catch_a_service_without_its_competent_authority(kz: Country) -> None:
    """The check is real: remove one mandatory property and pyshacl reports it."""
    graph = export(kz)
    service = URIRef(f"{BASE}/id/kz/service/01010001")
    graph.remove((service, CV.hasCompetentAuthority, None))
    result = cpsv.validate(graph, SHARED_SHAPES)
    assert not result.conforms
    assert result.violations == 1
    assert "hasCompetentAuthority" in result.report


def test_one_service_carries_its_standard(kz: Country) -> None:
    """01010001 (birth registration) as the kz pack states it: GFC, 2 working days,
    centre/portal/mobile, free, four acts, the life situation `birth`."""
    graph = export(kz)
    root = f"{BASE}/id/kz/"
    s = URIRef(root + "service/01010001")
    assert (s, DCTERMS.identifier, Literal("01010001")) in graph
    titles = {t.language: str(t) for t in graph.objects(s, DCTERMS.title)}
    assert set(titles) == {"kk", "ru", "en"}
    assert titles["en"].startswith("Registration of a child's birth")
    assert graph.value(s, CV.processingTime) == Literal("P2D", datatype=XSD.duration)
    authority = graph.value(s, CV.hasCompetentAuthority)
    assert authority == URIRef(root + "agency/GFC")
    assert (authority, RDF.type, CV.PublicOrganisation) in graph
    assert {str(x) for x in graph.objects(s, CV.hasChannel)} == {
        root + "channel/centre", root + "channel/portal", root + "channel/mobile"}
    cost = graph.value(s, CV.hasCost)
    assert graph.value(cost, CV.hasValue) == Literal(0.0, datatype=XSD.double)
    assert graph.value(cost, CV.currency) == URIRef(
        "http://publications.europa.eu/resource/authority/currency/KZT")
    evidence = {str(graph.value(e, DCTERMS.identifier)) for e in graph.objects(s, CPSV.hasInput)}
    assert {"application", "id_document", "medical_birth_record"} <= evidence
    acts = list(graph.objects(s, CV.hasLegalResource))
    assert len(acts) == 4
    assert all((a, RDF.type, ELI.LegalResource) in graph for a in acts)
    english = sorted(str(t) for a in acts for t in graph.objects(a, DCTERMS.title)
                     if t.language == "en")
    assert any(t.startswith("Law of the Republic of Kazakhstan No. 88-V") for t in english)
    event = URIRef(root + "life-event/birth")
    assert (s, CV.isGroupedBy, event) in graph
    assert (event, RDF.type, CV.LifeEvent) in graph
    assert (event, CV.hasRelatedService, s) in graph
    languages = {str(x).rsplit("/", 1)[-1] for x in graph.objects(s, DCTERMS.language)}
    assert languages == {"KAZ", "RUS", "ENG"}
    # the services the birth's registration starts proactively point back to it
    started = set(graph.subjects(CV.relatedService, s))
    assert started == {URIRef(root + f"service/{service.code}") for service in
                       Service.objects.filter(country=kz, proactive_after__code="01010001")}
    assert started


def test_uzbek_labels_are_tagged_uz(uz: Country) -> None:
    graph = export(uz)
    labels = [o for o in graph.objects(None, SKOS.prefLabel) if isinstance(o, Literal)]
    assert {"uz", "ru", "en"} <= {o.language for o in labels}
    assert "kk" not in {o.language for o in labels}


def test_shared_legal_acts_are_one_resource(kz: Country) -> None:
    """The law on public services is cited by many services and exported once."""
    graph = export(kz)
    law = [a for a in graph.subjects(RDF.type, ELI.LegalResource)
           if any(str(t).startswith("Law of the Republic of Kazakhstan No. 88-V")
                  for t in graph.objects(a, DCTERMS.title))]
    assert len(law) == 1
    assert len(set(graph.subjects(CV.hasLegalResource, law[0]))) > 10


def test_legal_acts_split_only_when_every_language_agrees() -> None:
    assert cpsv.legal_acts({"en": "Law A; Law B", "ru": "Закон А; Закон Б"}) == [
        {"en": "Law A", "ru": "Закон А"}, {"en": "Law B", "ru": "Закон Б"}]
    assert cpsv.legal_acts({"en": "Law A; Law B", "ru": "Закон А и Б"}) == [
        {"en": "Law A; Law B", "ru": "Закон А и Б"}]
    assert cpsv.legal_acts({}) == []


def test_durations() -> None:
    assert cpsv.duration(15, "working_days") == "P15D"
    assert cpsv.duration(4, "hours") == "PT4H"
    assert cpsv.duration(10, "minutes") == "PT10M"


def test_no_contact_or_person_reaches_the_export(kz: Country, client: Client) -> None:
    Agency.objects.filter(country=kz, code="GFC").update(contacts={
        "head": "Aigerim Testova", "email": "a.testova@example.org", "phone": "+77015550199"})
    for path in ("/api/v1/catalogue.ttl", "/api/v1/catalogue.jsonld"):
        body = client.get(path, {"country": "kz"}).content.decode()
        assert "GFC" in body
        for secret in ("Testova", "a.testova@example.org", "77015550199"):
            assert secret not in body


def test_the_api_answers_both_formats_with_the_same_graph(
        kz: Country, api_client: Callable[..., Client]) -> None:
    client = api_client()  # no login: the register is public
    turtle = client.get("/api/v1/catalogue.ttl", {"country": "kz"})
    jsonld = client.get("/api/v1/catalogue.jsonld", {"country": "kz"})
    assert turtle.status_code == jsonld.status_code == 200
    assert turtle["Content-Type"] == "text/turtle; charset=utf-8"
    assert jsonld["Content-Type"] == "application/ld+json; charset=utf-8"
    from_turtle = Graph().parse(data=turtle.content, format="turtle")
    from_jsonld = read_jsonld(jsonld.content)
    assert len(from_turtle) == len(export(kz)) > 1000
    assert isomorphic(from_turtle, from_jsonld)
    # IRIs are minted under the address the API was asked at
    assert (URIRef("http://localhost/id/kz/service/01010001"), RDF.type,
            CPSV.PublicService) in from_turtle


def test_the_api_defaults_to_the_configured_country(kz: Country, client: Client) -> None:
    answer = client.get("/api/v1/catalogue.ttl")
    assert answer.status_code == 200
    assert b"/id/kz/service/01010001" in answer.content


def test_the_api_refuses_unknown_or_malformed_countries(kz: Country, client: Client) -> None:
    missing = client.get("/api/v1/catalogue.jsonld", {"country": "xx"})
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no country 'xx' is loaded"}
    malformed = client.get("/api/v1/catalogue.ttl", {"country": "KZ1"})
    assert malformed.status_code == 422
    assert "country" in malformed.json()["detail"]


def test_export_cpsv_writes_and_validates(kz: Country, uz: Country, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "register.jsonld"
    call_command("export", "cpsv", "--country", "uz", "--format", "jsonld", "--out", str(out),
                 "--base-url", BASE, "--validate")
    printed = capsys.readouterr().out
    assert "no violations" in printed
    graph = read_jsonld(out.read_bytes())
    assert isomorphic(graph, export(uz))
    services = Service.objects.filter(country=uz).count()
    assert f"{services} services" in printed

    ttl = tmp_path / "kz.ttl"
    call_command("export", "cpsv", "--country", "kz", "--out", str(ttl))
    assert len(Graph().parse(ttl, format="turtle")) == len(
        cpsv.build_graph(kz, selectors.register(kz), "http://127.0.0.1:8000"))


@pytest.mark.parametrize(("args", "message"), [
    (["--country", "xx"], "no country 'xx' is loaded"),
    (["--country", "KZ!"], "give a pack's two-letter code"),
    (["--base-url", "ftp:/nowhere"], "give an http(s) address"),
])
def test_export_cpsv_bad_input_is_one_line(kz: Country, tmp_path: Path, args: list[str],
                                           message: str) -> None:
    out = tmp_path / "x.ttl"
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("export", "cpsv", "--out", str(out), *args)
    assert not out.exists()
