"""The e-form as a Django form: built from the JSON Schema of every shipped standard, and
what the citizen types turned back into form data the same schema accepts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.utils import translation
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onestop.applications.forms import ActionForm, ApplicationForm
from onestop.catalogue.models import ServiceStandard
from onestop.catalogue.packs import read_pack, resolve_pack_path
from tests.applications.pages import post_data
from tests.conftest import MINI_PACK

PDF = b"%PDF-1.4 a scanned document"
LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHабвгдеёжзийклмнопрстуфхцчшщыэюяқңөүұһәіOʻ"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Django's own messages in English (the default language is Russian)."""
    with translation.override("en"):
        yield


def versions(pack: str) -> list[tuple[str, dict[str, Any]]]:
    path = MINI_PACK if pack == "mini" else resolve_pack_path(pack)
    return [(f"{pack}/{service['code']}/{version['valid_from']}", version)
            for service in read_pack(path).services for version in service["versions"]]


def standard(version: Mapping[str, Any]) -> ServiceStandard:
    return ServiceStandard(eform=version.get("eform") or {},
                           documents=version.get("documents") or [])


def build(version: Mapping[str, Any], data: Any = None, files: Any = None,
          language: str = "en", **options: Any) -> ApplicationForm:
    return ApplicationForm(data, files, standard=standard(version), language=language,
                           fallbacks=["kk", "ru", "en"], **options)


def uploads(form: ApplicationForm) -> MultiValueDict:
    return MultiValueDict({
        form.add_prefix(f"document-{code}"): [
            SimpleUploadedFile(f"{code}.pdf", PDF, "application/pdf")
        ] for code in form.document_codes
    })


# --- samples of valid form data, per JSON Schema -----------------------------------------


def _bounds(spec: Mapping[str, Any], low: float, high: float) -> tuple[float, float]:
    return (spec.get("minimum", spec.get("exclusiveMinimum", low)),
            spec.get("maximum", spec.get("exclusiveMaximum", high)))


def values(spec: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    if "const" in spec:
        return st.just(spec["const"])
    if spec.get("enum"):
        return st.sampled_from(spec["enum"])
    kind = spec.get("type")
    if kind == "string" and spec.get("format") == "date":
        return st.dates(dt.date(1940, 1, 1), dt.date(2035, 12, 31)).map(dt.date.isoformat)
    if kind == "string" and spec.get("format") == "email":
        return st.sampled_from(["aigerim@example.kz", "t.bek@pochta.uz"])
    if kind == "string" and "pattern" in spec:
        return st.from_regex(spec["pattern"], fullmatch=True)
    if kind == "string":
        return st.text(LETTERS, min_size=max(1, spec.get("minLength", 1)),
                       max_size=min(30, spec.get("maxLength", 30)))
    if kind == "integer":
        low, high = _bounds(spec, -(10**6), 10**6)
        return st.integers(int(low), int(high)).filter(
            lambda n: n != spec.get("exclusiveMinimum") and n != spec.get("exclusiveMaximum"))
    if kind == "number":
        low, high = _bounds(spec, -(10**6), 10**6)
        return st.decimals(low, high, places=2).filter(
            lambda n: n != spec.get("exclusiveMinimum") and n != spec.get("exclusiveMaximum")
        ).map(float)
    if kind == "boolean":
        return st.booleans()
    assert kind == "array", spec
    return st.lists(values(spec["items"]), min_size=spec.get("minItems", 0),
                    max_size=spec.get("maxItems", 4), unique=spec.get("uniqueItems", False))


def samples(schema: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    # A checkbox cannot be left out: an unticked one is false.
    always = {n for n, s in properties.items() if n in required or s.get("type") == "boolean"}
    return st.fixed_dictionaries(
        {n: values(properties[n]) for n in always},
        # an empty optional list reads as a list left out
        optional={n: values({**s, "minItems": max(1, s.get("minItems", 0))}
                            if s.get("type") == "array" else s)
                  for n, s in properties.items() if n not in always},
    )


SHIPPED = versions("kz") + versions("uz")


def test_the_packs_have_e_forms_to_test() -> None:
    assert len(SHIPPED) > 100
    assert sum(bool(v.get("eform", {}).get("properties")) for _, v in SHIPPED) > 100


@pytest.mark.parametrize("version", [v for _, v in SHIPPED], ids=[i for i, _ in SHIPPED])
@settings(max_examples=5, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_shipped_e_form_builds_and_a_valid_sample_round_trips(
    version: dict[str, Any], data: st.DataObject
) -> None:
    schema = version.get("eform") or {}
    sample = data.draw(samples(schema), label="form data")
    jsonschema.validate(sample, schema, format_checker=jsonschema.FormatChecker())

    empty = build(version)
    form = build(version, post_data(empty, sample), uploads(empty))

    assert form.is_valid(), form.errors
    assert form.form_data() == sample
    assert [d.code for d in form.documents()] == empty.document_codes


@pytest.mark.parametrize("language", ["kk", "ru", "uz", "en"])
def test_every_shipped_field_has_a_label_in_each_language(language: str) -> None:
    for _, version in SHIPPED:
        form = build(version, language=language)
        for field in form.fields.values():
            assert field.label
            assert "_" not in str(field.label)


def _enums(node: Any) -> Iterator[Mapping[str, Any]]:
    """Every schema of an e-form that lists enum values, nested ones (list items) too."""
    if isinstance(node, Mapping):
        if isinstance(node.get("enum"), list):
            yield node
        for value in node.values():
            yield from _enums(value)
    elif isinstance(node, list):
        for value in node:
            yield from _enums(value)


@pytest.mark.parametrize("pack", ["kz", "uz"])
def test_every_shipped_enum_value_has_words_in_each_language_of_its_pack(pack: str) -> None:
    languages = read_pack(resolve_pack_path(pack)).country["languages"]
    missing = []
    enums = 0
    for where, version in versions(pack):
        for spec in _enums(version.get("eform") or {}):
            enums += 1
            titles = spec.get("x-enum-titles") or {}
            for value in spec["enum"]:
                for language in languages:
                    if not (titles.get(str(value)) or {}).get(language):
                        missing.append(f"{where}: {value} ({language})")
            extra = set(titles) - {str(v) for v in spec["enum"]}
            missing.extend(f"{where}: {name} is not one of the values" for name in extra)
    assert enums > 50
    assert missing == []


def test_enum_choices_read_in_the_citizens_language() -> None:
    [birth] = [v for where, v in versions("kz") if where.startswith("kz/01010001/2026")]
    russian = build(birth, language="ru")
    kazakh = build(birth, language="kk")
    assert dict(russian.fields["applicant_role"].choices)["mother"] == "Мать"
    assert dict(kazakh.fields["applicant_role"].choices)["mother"] == "Анасы"
    assert dict(build(birth, language="en").fields["child_sex"].choices) == {
        "male": "Male", "female": "Female"}
    # the value sent stays the schema's
    sample = {"applicant_role": "mother", "child_sex": "female"}
    form = build(birth, post_data(russian, sample), uploads(russian), language="ru")
    form.is_valid()
    assert form.cleaned_data["applicant_role"] == "mother"


# --- the mini pack's e-form ---------------------------------------------------------------


MINI_2024 = dict(versions("mini"))["mini/01010001/2024-01-01"]


def test_mini_form_fields_labels_and_uploads() -> None:
    form = build(MINI_2024, language="kk")
    assert list(form.fields) == ["child_name", "iin", "document-id_card"]
    assert form.fields["child_name"].label == "Баланың аты"  # x-title, in Kazakh
    assert form.fields["iin"].label == "IIN"  # no x-title: the title
    assert form.fields["child_name"].required
    assert form.fields["iin"].required
    assert form.fields["child_name"].max_length == 200  # type: ignore[attr-defined]
    assert form.fields["document-id_card"].label == "Жеке куәлік"
    assert form.fields["document-id_card"].required
    assert "eform-iin" in str(form["iin"])  # named apart from the page's own controls
    assert 'inputmode="numeric"' in str(form["iin"])


def test_mini_form_problems_in_the_citizens_language() -> None:
    data = QueryDict("eform-iin=12345", mutable=True)
    form = build(MINI_2024, data, MultiValueDict(), language="ru")
    with translation.override("ru"):
        assert not form.is_valid()
        assert set(form.errors) == {"child_name", "iin", "document-id_card"}
        assert form.errors["child_name"] == ["Обязательное поле."]


def test_mini_form_round_trip() -> None:
    empty = build(MINI_2024)
    form = build(MINI_2024, post_data(empty, {"child_name": "Аружан", "iin": "900101300011"}),
                 uploads(empty))
    assert form.is_valid(), form.errors
    assert form.form_data() == {"child_name": "Аружан", "iin": "900101300011"}
    [document] = form.documents()
    assert (document.code, document.content_type, document.content) == (
        "id_card", "application/pdf", PDF)


# --- each kind of field -------------------------------------------------------------------


KINDS: dict[str, Any] = {
    "eform": {
        "type": "object",
        "required": ["born", "children", "relation", "consent"],
        "x-order": ["relation", "born"],
        "properties": {
            "born": {"type": "string", "format": "date", "title": "Born"},
            "email": {"type": "string", "format": "email", "title": "Email"},
            "children": {"type": "integer", "minimum": 1, "maximum": 12, "title": "Children"},
            "area": {"type": "number", "exclusiveMinimum": 0, "title": "Area"},
            "relation": {"type": "string", "enum": ["mother", "father"], "title": "Relation"},
            "category": {"type": "string", "enum": list("ABCDEFG"), "title": "Category"},
            "group": {"type": "integer", "enum": [1, 2, 3], "title": "Group"},
            "consent": {"type": "boolean", "const": True, "title": "Consent"},
            "history": {"type": "boolean", "title": "History"},
            "payments": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]},
                         "minItems": 1, "uniqueItems": True, "title": "Payments"},
            "members": {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{3}$"},
                        "maxItems": 2, "uniqueItems": True, "title": "Members"},
            "address": {"type": "object", "title": "Address"},
        },
    },
    "documents": [
        {"code": "photo", "name": {"en": "Photo"}, "source": "applicant", "required": False},
        {"code": "record", "name": {"en": "Record"}, "source": "state_database"},
    ],
}


def test_each_kind_of_field() -> None:
    form = build(KINDS)
    fields = form.fields
    assert list(fields)[:2] == ["relation", "born"]  # x-order first, then the rest
    assert isinstance(fields["born"], forms.DateField)
    assert isinstance(fields["email"], forms.EmailField)
    assert isinstance(fields["children"], forms.IntegerField)
    assert 'min="1"' in str(form["children"])
    assert 'max="12"' in str(form["children"])
    assert isinstance(fields["area"], forms.DecimalField)
    assert isinstance(fields["relation"].widget, forms.RadioSelect)  # few choices: radios
    assert isinstance(fields["category"].widget, forms.Select)  # many: a list
    assert isinstance(fields["consent"], forms.BooleanField)
    assert fields["consent"].required
    assert not fields["history"].required
    assert isinstance(fields["payments"].widget, forms.CheckboxSelectMultiple)
    assert isinstance(fields["members"].widget, forms.Textarea)
    assert isinstance(fields["address"].widget, forms.Textarea)  # any other JSON
    assert list(form.document_codes) == ["photo"]  # the applicant brings only this one
    assert not fields["document-photo"].required


def test_each_kind_of_field_round_trips() -> None:
    form_data = {
        "born": "2020-02-29", "email": "a@example.kz", "children": 3, "area": 12.5,
        "relation": "father", "category": "G", "group": 2, "consent": True,
        "history": False, "payments": ["b", "a"], "members": ["123", "456"],
        "address": {"city": "Астана"},
    }
    empty = build(KINDS)
    form = build(KINDS, post_data(empty, form_data), MultiValueDict())
    assert form.is_valid(), form.errors
    assert form.form_data() == form_data
    jsonschema.validate(form.form_data(), KINDS["eform"])


def test_each_kind_of_field_refuses_what_the_schema_refuses() -> None:
    data = QueryDict(mutable=True)
    data.update({"eform-born": "2020-02-30", "eform-children": "13", "eform-area": "0",
                 "eform-relation": "aunt", "eform-group": "4",
                 "eform-members": "123\n12x\n123", "eform-address": "{not json"})
    form = build(KINDS, data, MultiValueDict(
        {"eform-document-photo": [SimpleUploadedFile("a.exe", b"MZ\x90", "application/pdf")]}))
    assert not form.is_valid()
    errors = form.errors
    assert set(errors) == {"born", "children", "area", "relation", "group", "consent",
                           "members", "address", "document-photo"}
    assert errors["area"] == ["Ensure this value is greater than 0."]
    assert errors["members"] == ["Line 2: Enter a valid value."]
    assert errors["document-photo"] == ["The file must be a PDF, JPEG or PNG file."]


def test_a_list_counts_its_values() -> None:
    data = QueryDict("eform-members=123%0A123", mutable=True)
    assert build(KINDS, data).errors["members"] == ["Give each value only once."]
    data = QueryDict("eform-members=123%0A456%0A789", mutable=True)
    assert build(KINDS, data).errors["members"] == ["Give at most 2 values."]


def test_an_upload_larger_than_the_limit(settings: Any) -> None:
    settings.ONESTOP_MAX_UPLOAD_BYTES = 2_000_000
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * 2_000_000, "application/pdf")
    form = build(KINDS, QueryDict(), MultiValueDict({"eform-document-photo": [big]}))
    assert form.errors["document-photo"] == ["The file is larger than 2 MB."]


# --- drafts and problems found by services.submit ------------------------------------------


def test_a_draft_keeps_valid_values_as_json_and_the_rest_as_typed() -> None:
    data = QueryDict(mutable=True)
    data.update({"eform-born": "2020-02-30", "eform-children": "3", "eform-relation": "father",
                 "eform-members": "123\n45"})
    data.setlist("eform-payments", ["a"])
    draft = build(KINDS, data).draft_data()
    assert draft == {"born": "2020-02-30", "children": 3, "relation": "father",
                     "payments": ["a"], "members": "123\n45"}

    resumed = build(KINDS, initial=draft)
    assert resumed.initial == {"born": "2020-02-30", "children": 3, "relation": "father",
                               "payments": ["a"], "members": "123\n45"}
    assert 'value="2020-02-30"' in str(resumed["born"])
    assert "123\n45</textarea>" in str(resumed["members"])


def test_problems_from_the_submission_go_next_to_their_fields() -> None:
    form = build(KINDS, QueryDict())
    form.is_valid()
    form.add_problems({
        "form.children": ["3 is not a multiple of 2"],
        "form.members.1": ["'45' does not match"],
        "documents.photo": ["is empty"],
        "national_id": ["a national identification number of 6-32 letters or digits"],
    })
    assert "3 is not a multiple of 2" in form.errors["children"]
    assert "'45' does not match" in form.errors["members"]
    assert "is empty" in form.errors["document-photo"]
    assert form.non_field_errors() == [
        "national_id: a national identification number of 6-32 letters or digits"]


def test_an_action_form_needs_a_document_and_a_confirmation() -> None:
    form = ActionForm(QueryDict(), MultiValueDict(), action="provide_documents",
                      title="Provide", documents={"id_card": "ID card"})
    assert not form.is_valid()
    assert form.non_field_errors() == ["Attach at least one document."]

    upload = SimpleUploadedFile("id.png", b"\x89PNG\r\n\x1a\n...", "image/png")
    form = ActionForm(QueryDict(), MultiValueDict({"provide_documents-document-id_card": [upload]}),
                      action="provide_documents", title="Provide",
                      documents={"id_card": "ID card"})
    assert form.is_valid(), form.errors
    assert [(d.code, d.content_type) for d in form.documents()] == [("id_card", "image/png")]

    form = ActionForm(QueryDict(), action="withdraw", title="Withdraw", confirm="Yes")
    assert list(form.errors) == ["confirm"]
    form = ActionForm(QueryDict("withdraw-confirm=on"), action="withdraw", title="Withdraw",
                      confirm="Yes")
    assert form.is_valid()
