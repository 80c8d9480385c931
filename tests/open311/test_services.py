"""Discovery, the service list and service definitions, in XML and JSON, with the
spec's element names; jurisdictions and errors."""

from __future__ import annotations

import json

from django.test import Client

from onestop.catalogue.models import Country, Service
from onestop.catalogue.selectors import local_today, standard_in_force
from tests.open311.conftest import BIRTH, JOBS, texts, xml

SERVICE_KEYS = ["service_code", "service_name", "description", "metadata", "type",
                "keywords", "group"]
ATTRIBUTE_KEYS = ["variable", "code", "datatype", "required", "datatype_description",
                  "order", "description", "values"]


def test_discovery_in_both_formats(o311: Client, mini_country: Country) -> None:
    root = xml(o311.get("/open311/v2/discovery.xml"))
    assert root.tag == "discovery"
    assert [c.tag for c in root] == ["changeset", "contact", "key_service", "endpoints"]
    endpoint = root.find("endpoints/endpoint")
    assert endpoint is not None
    fields = texts(endpoint)
    assert fields["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert fields["url"] == "http://localhost/open311/v2"
    assert fields["type"] == "production"
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml",
                                                                    "application/json"]
    answer = o311.get("/open311/v2/discovery.json")
    assert answer["Content-Type"] == "application/json; charset=utf-8"
    data = answer.json()
    assert data["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    assert data["changeset"] == mini_country.loaded_at.isoformat(timespec="seconds")


def test_the_service_list(o311: Client, birth: Service) -> None:
    root = xml(o311.get("/open311/v2/services.xml"))
    assert root.tag == "services"
    services = {s.findtext("service_code"): s for s in root.findall("service")}
    # the two register services (online, free, no uploads), then one per complaint ground
    assert list(services) == [BIRTH, JOBS, "complaint-unjustified_refusal",
                              "complaint-missed_deadline", "complaint-unethical_behaviour"]
    birth_fields = texts(services[BIRTH])
    assert list(birth_fields) == SERVICE_KEYS
    assert birth_fields["service_name"] == "Registration of a child's birth"
    assert birth_fields["metadata"] == "true"
    assert birth_fields["type"] == "realtime"
    assert birth_fields["group"] == "Birth of a child"
    assert "Civil Registry Department" in birth_fields["keywords"]
    assert texts(services["complaint-unethical_behaviour"])["service_name"] == (
        "Complaint: Unethical behaviour")
    data = o311.get("/open311/v2/services.json").json()
    assert [s["service_code"] for s in data] == list(services)
    assert list(data[0]) == SERVICE_KEYS
    assert data[0]["metadata"] is True


def test_a_service_not_offered_online_for_free_is_not_listed(
    o311: Client, mini_country: Country
) -> None:
    # the birth registration's standard in force has a fee, paid on the portal
    codes = [s["service_code"] for s in o311.get("/open311/v2/services.json").json()]
    assert BIRTH not in codes
    assert JOBS in codes
    answer = o311.get(f"/open311/v2/services/{BIRTH}.json")
    assert answer.status_code == 400
    assert answer.json() == [{"code": 400, "description": (
        "service_code: this service has a fee, paid on the portal; Open311 cannot take "
        "payments")}]


def test_a_service_definition_from_the_e_form(o311: Client, birth: Service) -> None:
    root = xml(o311.get(f"/open311/v2/services/{BIRTH}.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == BIRTH
    attributes = root.findall("attributes/attribute")
    assert [a.findtext("code") for a in attributes] == [
        "applicant_national_id", "child_name", "child_sex", "child_birth_date", "twins",
        "weight_kg", "siblings", "languages"]
    assert [list(texts(a)) for a in attributes] == [ATTRIBUTE_KEYS] * 8
    by_code = {a.findtext("code"): a for a in attributes}
    assert texts(by_code["child_name"]) | {"values": ""} == {
        "variable": "true", "code": "child_name", "datatype": "string", "required": "true",
        "datatype_description": "at most 100 characters", "order": "2",
        "description": "Child's name", "values": ""}
    sex = by_code["child_sex"]
    assert sex.findtext("datatype") == "singlevaluelist"
    assert [(v.findtext("key"), v.findtext("name")) for v in sex.findall("values/value")] == [
        ("male", "male"), ("female", "female")]
    assert by_code["child_birth_date"].findtext("datatype") == "datetime"
    assert by_code["twins"].findtext("datatype") == "singlevaluelist"
    assert by_code["twins"].findtext("required") == "false"
    assert by_code["weight_kg"].findtext("datatype") == "number"
    assert by_code["weight_kg"].findtext("datatype_description") == (
        "a number, more than 0, at most 10")
    assert by_code["siblings"].findtext("datatype") == "text"
    assert by_code["languages"].findtext("datatype") == "multivaluelist"
    data = o311.get(f"/open311/v2/services/{BIRTH}.json").json()
    assert data["service_code"] == BIRTH
    assert data["attributes"][0] == {
        "variable": True, "code": "applicant_national_id", "datatype": "string",
        "required": True, "datatype_description": "6-32 letters or digits", "order": 1,
        "description": "The applicant's national identification number", "values": []}
    assert data["attributes"][2]["values"] == [{"key": "male", "name": "male"},
                                               {"key": "female", "name": "female"}]


def test_the_definition_of_a_complaint_service(o311: Client, mini_country: Country) -> None:
    data = o311.get("/open311/v2/services/complaint-unethical_behaviour.json").json()
    codes = [a["code"] for a in data["attributes"]]
    # the ground covers centres and operators; Open311 can name a centre only
    assert codes == ["applicant_national_id", "subject", "centre"]
    assert data["attributes"][0]["required"] is True  # the pack refuses anonymous ones
    assert data["attributes"][1]["values"] == [{"key": "centre", "name": "a centre"}]
    assert data["attributes"][2]["values"] == [{"key": "AST-01", "name": "Astana Centre No. 1"}]
    refusal = o311.get("/open311/v2/services/complaint-unjustified_refusal.json").json()
    assert [a["code"] for a in refusal["attributes"]] == [
        "applicant_national_id", "subject", "application_number"]


def test_names_follow_the_language_asked(birth: Service) -> None:
    russian = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="ru")
    data = russian.get("/open311/v2/services.json").json()
    assert data[0]["service_name"] == "Регистрация рождения ребенка"


def test_unknown_things_are_404_in_the_spec_shape(o311: Client, mini_country: Country) -> None:
    answer = o311.get("/open311/v2/services/99999999.xml")
    assert answer.status_code == 404
    root = xml(answer)
    assert root.tag == "errors"
    assert [texts(e) for e in root.findall("error")] == [
        {"code": "404", "description": "service_code: no service 99999999"}]
    assert o311.get("/open311/v2/services/complaint-nothing.json").status_code == 404
    assert o311.get("/open311/v2/requests/NOSUCHID.json").json() == [
        {"code": 404, "description": "service_request_id: no request NOSUCHID"}]
    assert o311.get("/open311/v2/tokens/nosuchtoken.json").status_code == 404
    unsupported = o311.get("/open311/v2/services.csv")
    assert unsupported.status_code == 404
    assert xml(unsupported).findtext("error/description") == "format: xml or json"
    assert o311.delete("/open311/v2/services.json").status_code == 405


def test_jurisdiction_id_is_required_when_several_countries_are_loaded(
    o311: Client, mini_country: Country
) -> None:
    assert o311.get("/open311/v2/services.json?jurisdiction_id=zz").status_code == 200
    assert o311.get("/open311/v2/services.json?jurisdiction_id=ZZ").status_code == 200
    answer = o311.get("/open311/v2/services.json?jurisdiction_id=qq")
    assert (answer.status_code, answer.json()[0]["description"]) == (
        404, "jurisdiction_id: no jurisdiction qq here")
    Country.objects.create(code="yy", name={"en": "Other"}, languages=["en"],
                           time_zone="UTC", currency="USD")
    answer = o311.get("/open311/v2/services.json")
    assert answer.status_code == 400
    assert json.loads(answer.content) == [
        {"code": 400, "description": "jurisdiction_id: required here; one of yy, zz"}]
    assert o311.get("/open311/v2/services.json?jurisdiction_id=zz").status_code == 200


def test_every_service_of_the_kazakhstan_pack_is_defined(o311: Client, kz: Country) -> None:
    listed = o311.get("/open311/v2/services.json").json()
    register = [s["service_code"] for s in listed if not s["service_code"].startswith("compl")]
    assert register  # some of the register is free, online and needs no upload
    assert len(listed) > len(register)  # and the complaint grounds follow
    for code in [s["service_code"] for s in listed]:
        root = xml(o311.get(f"/open311/v2/services/{code}.xml"))
        data = o311.get(f"/open311/v2/services/{code}.json").json()
        assert [a.findtext("code") for a in root.findall("attributes/attribute")] == [
            a["code"] for a in data["attributes"]]
        assert all(a["datatype"] in {"string", "number", "datetime", "text",
                                     "singlevaluelist", "multivaluelist"}
                   for a in data["attributes"])
        if code in register:
            service = Service.objects.get(country=kz, code=code)
            standard = standard_in_force(service, local_today(kz))
            assert standard is not None
            fields = set((standard.eform or {}).get("properties") or {})
            assert {a["code"] for a in data["attributes"]} == {"applicant_national_id", *fields}


def test_list_values_are_named_in_the_language_asked(kz: Country) -> None:
    russian = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="ru")
    listed = russian.get("/open311/v2/services.json").json()
    named = {}
    for code in [s["service_code"] for s in listed if not s["service_code"].startswith("compl")]:
        for attribute in russian.get(f"/open311/v2/services/{code}.json").json()["attributes"]:
            for value in attribute.get("values") or []:
                named[value["key"]] = value["name"]
    assert named, "the free online services of the pack offer some list of values"
    # every value has its words from the pack's x-enum-titles, never the bare key
    unnamed = {key for key, name in named.items() if name == key and not key.isupper()}
    assert not unnamed
    assert any(set(name.lower()) & set("абвгдежзиклмнопрстуфхцчшщыэюя") for name in named.values())
