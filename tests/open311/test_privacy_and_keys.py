"""No personal data in any Open311 output; API keys: created, listed, revoked."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from onestop.accounts.models import User
from onestop.applications import services as applications
from onestop.applications.models import Application
from onestop.catalogue.models import Service
from onestop.feedback.models import Complaint
from onestop.open311.models import ApiKey, ServiceRequest
from onestop.open311.services import hash_key
from tests.open311.conftest import BIRTH, NATIONAL_ID

PERSONAL = ["Aigerim", "Saparova", "aigerim.sapar@example.kz", "+77011234567", NATIONAL_ID,
            "Aruzhan", "010101500012", "Dauletov", "rude"]


def test_no_public_output_carries_personal_data(
    o311: Client, birth: Service, citizen: User, api_key: str
) -> None:
    o311.post("/open311/v2/requests.json", {
        "api_key": api_key, "service_code": BIRTH, "first_name": "Aigerim",
        "last_name": "Saparova", "email": "aigerim.sapar@example.kz", "phone": "+77011234567",
        "description": "Please call Aigerim Saparova on +77011234567",
        "attribute[applicant_national_id]": NATIONAL_ID, "attribute[child_name]": "Aruzhan",
        "attribute[child_sex]": "female", "attribute[child_birth_date]": "2026-11-20",
        "attribute[siblings]": "010101500012",
    })
    o311.post("/open311/v2/requests.json", {
        "api_key": api_key, "service_code": "complaint-unethical_behaviour",
        "attribute[applicant_national_id]": NATIONAL_ID, "attribute[centre]": "AST-01",
        "description": "Operator Dauletov was rude to Aigerim Saparova",
    })
    application, complaint = Application.objects.get(), Complaint.objects.get()
    assert application.applicant_name == "Aigerim Saparova"  # kept where it belongs
    assert "Dauletov" in complaint.text
    records = list(ServiceRequest.objects.all())
    assert len(records) == 2
    paths = ["discovery", "services", f"services/{BIRTH}",
             "services/complaint-unethical_behaviour", "requests",
             *(f"requests/{r.public_id}" for r in records), *(f"tokens/{r.token}" for r in records)]
    urls = [f"/open311/v2/{path}.{fmt}" for fmt in ("xml", "json") for path in paths]
    urls += ["/open311/v2/requests.xml?status=open", "/open311/v2/requests.json?status=closed"]
    for url in urls:
        answer = o311.get(url)
        assert answer.status_code == 200, url
        body = answer.content.decode()
        for secret in [*PERSONAL, application.number, complaint.number,
                       applications.access_code(application)]:
            assert secret not in body, (url, secret)
    # and the requests are there, with what is public about them
    listed = o311.get("/open311/v2/requests.json").json()
    assert sorted(r["service_code"] for r in listed) == [BIRTH, "complaint-unethical_behaviour"]


def test_api_keys_are_created_listed_and_revoked(
    o311: Client, birth: Service, citizen: User
) -> None:
    out = StringIO()
    call_command("apikeys", "create", "--name", "Astana city app", stdout=out, stderr=StringIO())
    lines = out.getvalue().splitlines()
    stored = ApiKey.objects.get(name="Astana city app")
    assert lines[0] == f"created API key {stored.pk} Astana city app"
    key = lines[1]
    assert key.startswith("osk_")
    assert len(key) > 40
    # only the hash is kept
    assert stored.key_hash == hash_key(key)
    assert key not in str(vars(stored))
    assert stored.last_used_at is None

    request = {"api_key": key, "service_code": BIRTH,
               "attribute[applicant_national_id]": NATIONAL_ID,
               "attribute[child_name]": "Aruzhan", "attribute[child_sex]": "female",
               "attribute[child_birth_date]": "2026-11-20"}
    assert o311.post("/open311/v2/requests.json", request).status_code == 201
    stored.refresh_from_db()
    assert stored.last_used_at is not None
    assert ServiceRequest.objects.get().api_key == stored

    out = StringIO()
    call_command("apikeys", "list", stdout=out)
    listing = out.getvalue()
    assert "Astana city app" in listing
    assert "active" in listing
    assert key not in listing

    call_command("apikeys", "revoke", "Astana city app", stdout=StringIO())
    stored.refresh_from_db()
    assert stored.revoked_at is not None
    answer = o311.post("/open311/v2/requests.json", request)
    assert answer.status_code == 403
    assert answer.json() == [{"code": 403, "description": "api_key: this key has been revoked"}]
    out = StringIO()
    call_command("apikeys", "list", stdout=out)
    assert "revoked" in out.getvalue()
    assert ServiceRequest.objects.count() == 1
    # revoking by id works too, and again changes nothing
    call_command("apikeys", "revoke", str(stored.pk), stdout=StringIO())


@pytest.mark.parametrize(("key", "description"), [
    (None, "api_key: required to create a request"),
    ("osk_wrong", "api_key: not a valid key"),
])
def test_a_request_without_a_valid_key_is_403(
    o311: Client, birth: Service, key: str | None, description: str
) -> None:
    data = {"service_code": BIRTH, "attribute[applicant_national_id]": NATIONAL_ID}
    if key is not None:
        data["api_key"] = key
    answer = o311.post("/open311/v2/requests.xml", data)
    assert answer.status_code == 403
    assert b"<errors><error><code>403</code><description>" + description.encode() in (
        answer.content)
    assert not Application.objects.exists()


def test_the_commands_refuse_bad_input_in_one_line(db: None) -> None:
    call_command("apikeys", "create", "--name", "one", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError, match="an API key named 'one' exists already"):
        call_command("apikeys", "create", "--name", "one", stdout=StringIO())
    with pytest.raises(CommandError, match="the name may not be empty"):
        call_command("apikeys", "create", "--name", " ", stdout=StringIO())
    with pytest.raises(CommandError, match="no API key named 'two'"):
        call_command("apikeys", "revoke", "two", stdout=StringIO())
    out = StringIO()
    ApiKey.objects.all().delete()
    call_command("apikeys", "list", stdout=out)
    assert out.getvalue() == "no API keys\n"


def test_a_key_in_the_query_string_is_not_read(o311: Client, birth: Service, api_key: str) -> None:
    answer = o311.post(f"/open311/v2/requests.json?api_key={api_key}", {
        "service_code": BIRTH, "attribute[applicant_national_id]": NATIONAL_ID})
    assert answer.status_code == 403
    assert answer.json() == [{"code": 403, "description": "api_key: required to create a request"}]


def test_the_admin_shows_keys_to_admins_only(
    make_user: Callable[..., User], officer: User, api_key: str
) -> None:
    admin_user = make_user("admin")
    page = Client(HTTP_HOST="localhost")
    page.force_login(admin_user)
    listing = page.get("/admin/open311/apikey/")
    assert listing.status_code == 200
    assert b"city app" in listing.content
    assert hash_key(api_key).encode() not in listing.content
    assert page.get("/admin/open311/apikey/add/").status_code == 403
    page.force_login(officer)
    assert page.get("/admin/open311/apikey/").status_code == 403
