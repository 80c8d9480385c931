"""The register of public services as CPSV-AP 3.2 (the EU Core Public Service Vocabulary
Application Profile), built with rdflib and checked with pyshacl against the published
shapes.

What goes out, per service in force on the day of the export: the public service
(identifier, multilingual title and description, languages, place), its competent
authority (the providing agency as a public organisation), its channels, its cost (the
fee in the country's currency), its evidence (the documents list), its output (the
result), its processing time (the legal deadline as an xsd:duration), the life events
(life situations) that group it, and its legal basis (one legal resource per act named
in the standard). Nothing else of the register goes out: no agency contacts, no
people, nothing of applications. IRIs are minted under `<base>/id/<country>/...`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, ORG, RDF, SKOS, XSD

from onestop.catalogue.models import Agency, Country, LifeSituation, Service, ServiceStandard

CPSV = Namespace("http://purl.org/vocab/cpsv#")
CV = Namespace("http://data.europa.eu/m8g/")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
EU_LANGUAGE = Namespace("http://publications.europa.eu/resource/authority/language/")
EU_CURRENCY = Namespace("http://publications.europa.eu/resource/authority/currency/")

# The EU Publications Office's language table names languages by ISO 639-2/B codes; these
# are the languages onestop's pages speak. Any other pack language gets an IRI of its own.
EU_LANGUAGE_CODES = {"kk": "KAZ", "ru": "RUS", "uz": "UZB", "en": "ENG"}

FORMATS = {"jsonld": "json-ld", "ttl": "turtle"}
CONTENT_TYPES = {"jsonld": "application/ld+json", "ttl": "text/turtle"}

# The vendored copy of the published shapes (CC-BY-4.0, attribution in shapes/SOURCES.md).
SHAPES = Path(__file__).parent / "shapes" / "cpsv-ap-SHACL.ttl"

CHANNEL_LABELS = {
    "provider_office": "provider's office",
    "centre": "one-stop-shop centre",
    "portal": "portal",
    "mobile": "mobile app",
    "kiosk": "self-service kiosk",
    "proactive": "proactive (started by the state)",
}
EVIDENCE_SOURCES = {
    "applicant": "brought by the applicant",
    "state_database": "obtained from a state database (the applicant does not bring it)",
}


@dataclass(frozen=True)
class Entry:
    """One service of the register with the version of its standard being exported."""

    service: Service
    standard: ServiceStandard


def duration(value: int, unit: str) -> str:
    """The legal deadline as an xsd:duration. Working days become days: CPSV-AP has no
    notion of a working day, so "P15D" reads "15 days" and the standard says which."""
    if unit == "hours":
        return f"PT{value}H"
    if unit == "minutes":
        return f"PT{value}M"
    return f"P{value}D"


def legal_acts(text: Mapping[str, str]) -> list[dict[str, str]]:
    """The acts of a legal basis, one multilingual title each: the text lists them
    separated by "; " in every language. When the languages do not list the same number
    of acts, the whole text is one resource (never a wrong pairing of translations)."""
    parts = {lang: [p.strip() for p in value.split(";") if p.strip()]
             for lang, value in text.items() if value and value.strip()}
    if not parts:
        return []
    counts = {len(p) for p in parts.values()}
    if len(counts) != 1:
        return [{lang: value.strip() for lang, value in text.items() if value.strip()}]
    return [{lang: acts[i] for lang, acts in parts.items()} for i in range(counts.pop())]


class Builder:
    """Builds the graph of one country's register; IRIs under `base`."""

    def __init__(self, country: Country, base: str) -> None:
        self.country = country
        self.languages = list(country.languages)
        self.root = base.rstrip("/") + f"/id/{country.code}/"
        self.graph = Graph()
        g = self.graph
        for prefix, ns in (("cpsv", CPSV), ("cv", CV), ("eli", ELI), ("dct", DCTERMS),
                           ("skos", SKOS), ("org", ORG), ("xsd", XSD)):
            g.bind(prefix, ns)
        self.place = self.iri("")
        g.add((self.place, RDF.type, DCTERMS.Location))
        self.texts(self.place, SKOS.prefLabel, country.name)
        g.add((self.place, DCTERMS.identifier, Literal(country.code)))
        self.currency = EU_CURRENCY[country.currency.upper()]
        g.add((self.currency, RDF.type, SKOS.Concept))
        g.add((self.currency, SKOS.notation, Literal(country.currency.upper())))
        self.language_iris = [self.language(code) for code in self.languages]
        self.channel_scheme = self.iri("concepts/channel-type")
        self.evidence_scheme = self.iri("concepts/evidence-source")
        g.add((self.channel_scheme, RDF.type, SKOS.ConceptScheme))
        g.add((self.evidence_scheme, RDF.type, SKOS.ConceptScheme))
        self.channels: dict[str, URIRef] = {}
        self.agencies: dict[int, URIRef] = {}
        self.regions: dict[int, URIRef] = {}
        self.life_events: dict[int, URIRef] = {}

    # ------------------------------------------------------------------ helpers

    def iri(self, path: str) -> URIRef:
        return URIRef(self.root + path)

    def texts(self, subject: URIRef | BNode, predicate: URIRef,
              text: Mapping[str, str] | None) -> int:
        """One language-tagged literal per language the text has; how many were added."""
        added = 0
        for lang, value in sorted((text or {}).items()):
            if isinstance(value, str) and value.strip():
                self.graph.add((subject, predicate, Literal(value.strip(), lang=lang)))
                added += 1
        return added

    def language(self, code: str) -> URIRef:
        iri = (EU_LANGUAGE[EU_LANGUAGE_CODES[code]] if code in EU_LANGUAGE_CODES
               else self.iri(f"language/{code}"))
        self.graph.add((iri, RDF.type, DCTERMS.LinguisticSystem))
        self.graph.add((iri, DCTERMS.identifier, Literal(code)))
        return iri

    def concept(self, scheme: URIRef, code: str, label: str) -> URIRef:
        iri = URIRef(f"{scheme}/{code}")
        g = self.graph
        g.add((iri, RDF.type, SKOS.Concept))
        g.add((iri, SKOS.inScheme, scheme))
        g.add((iri, SKOS.notation, Literal(code)))
        g.add((iri, SKOS.prefLabel, Literal(label, lang="en")))
        return iri

    # ------------------------------------------------------------------ nodes

    def region(self, agency: Agency) -> URIRef:
        region = agency.region
        if region is None:
            return self.place
        iri = self.regions.get(region.pk)
        if iri is None:
            iri = self.regions[region.pk] = self.iri(f"region/{region.code}")
            self.graph.add((iri, RDF.type, DCTERMS.Location))
            self.graph.add((iri, DCTERMS.identifier, Literal(region.code)))
            self.texts(iri, SKOS.prefLabel, region.name)
        return iri

    def agency(self, agency: Agency) -> URIRef:
        """The agency as a public organisation (the competent authority of its services),
        its parent body linked by org:subOrganizationOf."""
        iri = self.agencies.get(agency.pk)
        if iri is not None:
            return iri
        iri = self.agencies[agency.pk] = self.iri(f"agency/{agency.code}")
        g = self.graph
        g.add((iri, RDF.type, CV.PublicOrganisation))
        g.add((iri, RDF.type, ORG.Organization))
        g.add((iri, DCTERMS.identifier, Literal(agency.code)))
        if not self.texts(iri, SKOS.prefLabel, agency.name):
            g.add((iri, SKOS.prefLabel, Literal(agency.code, lang=self.languages[0])))
        g.add((iri, DCTERMS.spatial, self.region(agency)))
        if agency.parent_id is not None and agency.parent is not None:
            g.add((iri, ORG.subOrganizationOf, self.agency(agency.parent)))
        return iri

    def channel(self, code: str) -> URIRef:
        iri = self.channels.get(code)
        if iri is None:
            iri = self.channels[code] = self.iri(f"channel/{code}")
            g = self.graph
            g.add((iri, RDF.type, CV.Channel))
            g.add((iri, DCTERMS.identifier, Literal(code)))
            g.add((iri, DCTERMS.type, self.concept(self.channel_scheme, code,
                                                   CHANNEL_LABELS.get(code, code))))
        return iri

    def life_event(self, situation: LifeSituation) -> URIRef:
        iri = self.life_events.get(situation.pk)
        if iri is None:
            iri = self.life_events[situation.pk] = self.iri(f"life-event/{situation.code}")
            g = self.graph
            g.add((iri, RDF.type, CV.LifeEvent))
            g.add((iri, RDF.type, CV.Event))  # the class cv:isGroupedBy asks for
            g.add((iri, DCTERMS.identifier, Literal(situation.code)))
            if not self.texts(iri, DCTERMS.title, situation.name):
                g.add((iri, DCTERMS.title, Literal(situation.code, lang=self.languages[0])))
            self.texts(iri, DCTERMS.description, situation.description)
        return iri

    def legal_resource(self, act: dict[str, str]) -> URIRef:
        """One act; the same act cited by many services is one resource."""
        digest = hashlib.sha256(json.dumps(act, sort_keys=True).encode()).hexdigest()[:16]
        iri = self.iri(f"legal/{digest}")
        self.graph.add((iri, RDF.type, ELI.LegalResource))
        self.texts(iri, DCTERMS.title, act)
        return iri

    def service(self, entry: Entry, exported: Mapping[int, URIRef]) -> None:
        service, standard = entry.service, entry.standard
        g = self.graph
        s = exported[service.pk]
        g.add((s, RDF.type, CPSV.PublicService))
        g.add((s, DCTERMS.identifier, Literal(service.code)))
        if not self.texts(s, DCTERMS.title, standard.name):
            g.add((s, DCTERMS.title, Literal(service.code, lang=self.languages[0])))
        if not self.texts(s, DCTERMS.description, standard.description):
            self.texts(s, DCTERMS.description, standard.name)
            if not standard.name:
                g.add((s, DCTERMS.description, Literal(service.code, lang=self.languages[0])))
        g.add((s, CV.hasCompetentAuthority, self.agency(service.provider)))
        g.add((s, DCTERMS.spatial, self.place))
        spoken = [code for code in self.languages if (standard.name or {}).get(code)]
        for code in spoken or self.languages:
            g.add((s, DCTERMS.language, self.language(code)))
        g.add((s, CV.processingTime,
               Literal(duration(standard.deadline_value, standard.deadline_unit),
                       datatype=XSD.duration)))
        for code in standard.channels:
            g.add((s, CV.hasChannel, self.channel(code)))
        for situation in service.life_situations.all():
            event = self.life_event(situation)
            g.add((s, CV.isGroupedBy, event))
            g.add((event, CV.hasRelatedService, s))
        for act in legal_acts(standard.legal_basis or {}):
            g.add((s, CV.hasLegalResource, self.legal_resource(act)))
        started_by = service.proactive_after_id
        if started_by is not None and started_by in exported:
            g.add((s, CV.relatedService, exported[started_by]))

        cost = self.iri(f"service/{service.code}/cost")
        g.add((s, CV.hasCost, cost))
        g.add((cost, RDF.type, CV.Cost))
        g.add((cost, DCTERMS.identifier, Literal(f"{service.code}-fee")))
        g.add((cost, CV.hasValue, Literal(float(standard.fee_amount), datatype=XSD.double)))
        g.add((cost, CV.currency, self.currency))
        g.add((cost, CV.isDefinedBy, self.agency(service.provider)))
        self.texts(cost, DCTERMS.description, standard.fee_note)

        for document in standard.documents:
            code = str(document.get("code", ""))
            if not code:
                continue
            evidence = self.iri(f"service/{service.code}/evidence/{code}")
            g.add((s, CPSV.hasInput, evidence))
            g.add((evidence, RDF.type, CV.Evidence))
            g.add((evidence, DCTERMS.identifier, Literal(code)))
            name = document.get("name")
            if not self.texts(evidence, DCTERMS.title,
                              name if isinstance(name, dict) else None):
                g.add((evidence, DCTERMS.title, Literal(code, lang=self.languages[0])))
            source = str(document.get("source", "applicant"))
            g.add((evidence, DCTERMS.type, self.concept(
                self.evidence_scheme, source, EVIDENCE_SOURCES.get(source, source))))

        if standard.result:
            output = self.iri(f"service/{service.code}/output")
            g.add((s, CPSV.produces, output))
            g.add((output, RDF.type, CV.Output))
            g.add((output, DCTERMS.identifier, Literal(f"{service.code}-result")))
            self.texts(output, DCTERMS.title, standard.result)


def build_graph(country: Country, entries: Iterable[Entry], base: str) -> Graph:
    """The CPSV-AP graph of `entries` (services of `country` with their standards)."""
    builder = Builder(country, base)
    entries = list(entries)
    exported = {e.service.pk: builder.iri(f"service/{e.service.code}") for e in entries}
    for entry in entries:
        builder.service(entry, exported)
    return builder.graph


def serialize(graph: Graph, fmt: str) -> bytes:
    """The graph as JSON-LD (compacted with the graph's prefixes) or Turtle, UTF-8."""
    if fmt == "jsonld":
        context = {prefix: str(ns) for prefix, ns in graph.namespaces()
                   if prefix in {"cpsv", "cv", "eli", "dct", "skos", "org", "xsd", "rdf"}}
        text = graph.serialize(format="json-ld", context=context, auto_compact=True)
    else:
        text = graph.serialize(format=FORMATS[fmt])
    return text.encode("utf-8")


@dataclass(frozen=True)
class Validation:
    conforms: bool
    violations: int
    report: str


def validate(graph: Graph, shapes: Path = SHAPES) -> Validation:
    """Check the graph against the CPSV-AP shapes with pyshacl (no inference: the export
    states every class the shapes ask for)."""
    from pyshacl import validate as shacl_validate  # imported late: it loads slowly

    shapes_graph = Graph().parse(shapes, format="turtle")
    conforms, results, text = shacl_validate(graph, shacl_graph=shapes_graph,
                                             inference="none", allow_warnings=True)
    sh = Namespace("http://www.w3.org/ns/shacl#")
    violations = sum(1 for _ in results.subjects(sh.resultSeverity, sh.Violation))
    return Validation(conforms=bool(conforms) and violations == 0, violations=violations,
                      report=str(text))
