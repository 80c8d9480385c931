"""A valid form for any e-form of the packs: the required fields with simple values."""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import find, settings
from hypothesis import strategies as st

from onestop.applications.services import UploadedDocument
from onestop.catalogue.models import Service
from onestop.catalogue.packs import applicant_id_properties


def sample_value(spec: dict[str, Any]) -> Any:
    if "enum" in spec:
        return spec["enum"][0]
    kind = spec.get("type", "string")
    if kind == "integer":
        return int(spec.get("minimum", 1))
    if kind == "number":
        return spec.get("minimum", 1)
    if kind == "boolean":
        return True
    if kind == "array":
        items, size = spec.get("items", {}), int(spec.get("minItems", 0))
        if spec.get("uniqueItems") and size > 1 and "pattern" in items:
            values: list[Any] = find(
                st.lists(st.from_regex(items["pattern"], fullmatch=True), min_size=size,
                         max_size=size, unique=True),
                lambda _: True, settings=settings(database=None))
            return values
        return [sample_value(items)] * size
    if kind == "object":
        return sample_form(spec)
    if spec.get("format") == "date":
        return "2026-01-15"
    if spec.get("format") == "email":
        return "applicant@example.kz"
    if "pattern" in spec:
        found: str = find(st.from_regex(spec["pattern"], fullmatch=True), lambda _: True,
                          settings=settings(database=None))
        return found
    return "x" * max(1, int(spec.get("minLength", 1)))


def sample_form(schema: dict[str, Any]) -> dict[str, Any]:
    """A value for every required field but the applicant's own national ID, which
    `services.submit` fills in from who the application is for."""
    properties = schema.get("properties", {})
    own_id = applicant_id_properties(schema)
    return {name: sample_value(properties.get(name, {})) for name in schema.get("required", [])
            if name not in own_id}


def sample_for(service: Service) -> dict[str, Any]:
    standard = service.versions.order_by("-valid_from").first()
    assert standard is not None
    return sample_form(standard.eform)


def sample_documents(service: Service) -> list[dict[str, str]]:
    """A small PDF for every document the applicant must bring, as the API takes them."""
    standard = service.versions.order_by("-valid_from").first()
    assert standard is not None
    return [
        {"code": d["code"], "filename": f"{d['code']}.pdf", "content_type": "application/pdf",
         "content_base64": base64.b64encode(b"%PDF-1.4 sample").decode()}
        for d in standard.documents
        if d["source"] == "applicant" and d.get("required", True) and d["code"] != "application"
    ]


def uploads(service: Service) -> list[UploadedDocument]:
    return [
        UploadedDocument(d["code"], d["filename"], d["content_type"], b"%PDF-1.4 sample")
        for d in sample_documents(service)
    ]
