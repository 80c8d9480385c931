"""Per-process caches kept under a domain's revision: every write to the domain's tables,
whatever makes it (the ORM, a bulk update, plain SQL), gives a new revision, and what the
caches kept is read afresh; a rolled-back write leaves the revision as it was."""

from __future__ import annotations

import base64
import copy
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext

from onestop.accounts.models import ApiToken, User
from onestop.accounts.services import authenticate_token, issue_token
from onestop.applications import services
from onestop.applications.errors import NotFound
from onestop.applications.models import Application
from onestop.applications.workflow import Workflow
from onestop.catalogue import selectors as catalogue
from onestop.catalogue.models import Country, Service, ServiceStandard, WorkflowDefinition
from onestop.core import revisions

pytestmark = pytest.mark.django_db

SCAN = {"code": "id_document", "filename": "id.pdf", "content_type": "application/pdf",
        "content_base64": base64.b64encode(b"%PDF-1.4 a scan").decode()}
RECORD = {"service": "10220001", "country": "kz",
          "form": {"iin": "900101300011", "purpose": "employment", "format": "electronic"},
          "documents": [SCAN]}


def _sql(statement: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def test_every_watched_table_has_its_triggers() -> None:
    tables = {table for _, table in revisions.watched()}
    assert {"catalogue_service", "catalogue_servicestandard", "catalogue_country",
            "catalogue_agency", "catalogue_workflowdefinition", "accounts_user",
            "accounts_apitoken"} <= tables
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'"
                           " AND name LIKE '%revises_update'")
        else:
            cursor.execute("SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger"
                           " WHERE tgname LIKE '%revises'")
        triggered = {row[0].strip('"') for row in cursor.fetchall()}
    assert tables <= triggered


def test_writes_give_new_revisions_and_a_rollback_keeps_the_old(kz: Country) -> None:
    service = Service.objects.get(country=kz, code="10220001")
    first = revisions.current("catalogue")
    assert first is not None  # loading the pack wrote the register
    Service.objects.filter(pk=service.pk).update(workflow=service.workflow)  # no signals
    second = revisions.current("catalogue")
    assert second != first
    _sql("UPDATE catalogue_country SET name = name WHERE code = %s", ["kz"])  # plain SQL
    third = revisions.current("catalogue")
    assert third not in (first, second)
    seen = []

    def write_and_fail() -> None:
        with transaction.atomic():
            ServiceStandard.objects.filter(service=service).update(deadline_value=1)
            seen.append(revisions.current("catalogue"))
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        write_and_fail()
    assert seen[0] not in (None, third)  # the writer saw its own revision
    assert revisions.current("catalogue") == third
    assert revisions.current("accounts") != third  # domains are apart


def test_ignored_columns_and_new_rows_leave_the_accounts_revision(
    make_user: Callable[..., User],
) -> None:
    user = make_user("citizen")
    issue_token(user=user)
    before = revisions.current("accounts")
    make_user("citizen")  # a new user changes no one's token
    issue_token(user=user)  # nor does a new token
    User.objects.filter(pk=user.pk).update(last_login=dt.datetime.now(dt.UTC))
    ApiToken.objects.filter(user=user).update(last_used_at=dt.datetime.now(dt.UTC))
    assert revisions.current("accounts") == before
    User.objects.filter(pk=user.pk).update(is_active=True)
    assert revisions.current("accounts") != before


def test_a_token_revoked_or_a_user_changed_behind_the_cache_is_seen_at_once(
    make_user: Callable[..., User],
) -> None:
    user = make_user("citizen")
    _, key = issue_token(user=user)
    assert authenticate_token(key) == user
    assert authenticate_token(key) == user  # kept
    # revoked by plain SQL, as another process or a DBA would
    _sql("UPDATE accounts_apitoken SET revoked_at = %s WHERE user_id = %s",
         [dt.datetime.now(dt.UTC), user.pk])
    assert authenticate_token(key) is None

    _, key = issue_token(user=user)
    assert authenticate_token(key).role == "citizen"  # type: ignore[union-attr]
    User.objects.filter(pk=user.pk).update(role="analyst")
    assert authenticate_token(key).role == "analyst"  # type: ignore[union-attr]
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert authenticate_token(key) is None
    User.objects.filter(pk=user.pk).update(is_active=True)
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    assert authenticate_token(key) is None


def test_what_a_request_sets_on_its_user_stays_with_it(make_user: Callable[..., User]) -> None:
    user = make_user("citizen")
    _, key = issue_token(user=user)
    one = authenticate_token(key)
    assert one is not None
    one.first_name = "changed in one request"
    two = authenticate_token(key)
    assert two is not None
    assert two is not one
    assert two.first_name == ""


def test_a_submission_follows_a_standard_changed_behind_the_cache(
    kz: Country, make_user: Callable[..., User],
    api_client: Callable[[User | None], Client],
) -> None:
    citizen = make_user("citizen", national_id="900101300011")
    me = api_client(citizen)

    def submit(key: str) -> Application:
        answer = me.post("/api/v1/applications", RECORD, content_type="application/json",
                         HTTP_IDEMPOTENCY_KEY=key)
        assert answer.status_code == 201, answer.content
        return Application.objects.get(number=answer.json()["number"])

    first = submit("a")  # 10 working minutes
    # a bulk update sends no signal: only the trigger tells the cache
    ServiceStandard.objects.filter(service__country=kz, service__code="10220001").update(
        deadline_value=3, deadline_unit="working_days")
    second = submit("b")  # 3 working days: at least two later than 10 minutes
    assert second.deadline_at - first.deadline_at > dt.timedelta(days=2)
    Service.objects.filter(country=kz, code="10220001").update(code="10229999")
    gone = me.post("/api/v1/applications", RECORD, content_type="application/json")
    assert gone.status_code == 404


def test_migrate_puts_back_triggers_a_table_rebuild_dropped(kz: Country) -> None:
    if connection.vendor == "sqlite":
        for suffix in ("insert", "update", "delete"):
            _sql(f'DROP TRIGGER IF EXISTS "catalogue_service_revises_{suffix}"')
    else:
        _sql('DROP TRIGGER IF EXISTS "catalogue_service_revises" ON catalogue_service')
    before = revisions.current("catalogue")
    Service.objects.filter(country=kz).update(workflow="instant")
    assert revisions.current("catalogue") == before  # no trigger: the cache would not know
    call_command("migrate", verbosity=0)
    Service.objects.filter(country=kz).update(workflow="instant")
    assert revisions.current("catalogue") != before


def test_a_cache_keeps_values_only_under_the_revision_they_were_read_at(kz: Country) -> None:
    cache: revisions.RevisionCache[str, str] = revisions.RevisionCache("catalogue")
    reads: list[str] = []

    def load(value: str) -> Callable[[], str]:
        def read() -> str:
            reads.append(value)
            return value
        return read

    assert cache.get("k", load("one")) == "one"
    assert cache.get("k", load("two")) == "one"  # kept
    Country.objects.filter(pk=kz.pk).update(name=kz.name)
    assert cache.get("k", load("three")) == "three"  # read afresh
    assert cache.get("none", lambda: None) is None
    assert cache.get("none", load("four")) == "four"  # a None was not kept
    assert reads == ["one", "three", "four"]


def test_a_request_reads_every_revision_once_until_it_writes(
    kz: Country, make_user: Callable[..., User],
    api_client: Callable[[User | None], Client],
) -> None:
    citizen = make_user("citizen", national_id="900101300011")
    me = api_client(citizen)
    me.post("/api/v1/applications", RECORD, content_type="application/json")  # warm
    with CaptureQueriesContext(connection) as seen:
        answer = me.post("/api/v1/applications", RECORD, content_type="application/json")
    assert answer.status_code == 201, answer.content
    reads = [q["sql"] for q in seen.captured_queries if "core_revision" in q["sql"]]
    # the token's domain and the register's, one query for both
    assert reads == ["SELECT domain, value FROM core_revision"]

    observed: list[str | None] = []

    def view(request: HttpRequest) -> HttpResponse:
        observed.append(revisions.current("catalogue"))
        _sql("SELECT 1")  # reading keeps what was read
        observed.append(revisions.current("catalogue"))
        Country.objects.filter(pk=kz.pk).update(name=kz.name)  # this request writes
        observed.append(revisions.current("catalogue"))
        observed.append(revisions.current("catalogue"))
        return HttpResponse("")

    before = revisions.current("catalogue")
    with CaptureQueriesContext(connection) as seen:
        revisions.ReadOnce(view)(HttpRequest())
    assert observed[0] == observed[1] == before
    assert observed[2] == observed[3] == revisions.current("catalogue") != before
    revision_reads = [q for q in seen.captured_queries if "core_revision" in q["sql"]]
    assert len(revision_reads) == 3  # once before the write, then at every read after it
    assert revisions.current("catalogue") is not None  # outside a request: read each time


def test_a_workflow_reloaded_behind_the_cache_is_seen_at_once(kz: Country) -> None:
    service = Service.objects.get(country=kz, code="10220001")
    first = services.workflow_of(service)
    assert services.workflow_of(service) is first  # kept
    definition = WorkflowDefinition.objects.get(country=kz, code=service.workflow)
    changed = copy.deepcopy(definition.definition)
    changed["name"] = {"en": "Instant, renamed"}
    WorkflowDefinition.objects.filter(pk=definition.pk).update(definition=changed)
    again = services.workflow_of(service)
    assert again is not first
    assert again == Workflow.from_mapping(changed)
    WorkflowDefinition.objects.filter(pk=definition.pk).delete()
    with pytest.raises(NotFound):
        services.workflow_of(service)


def test_the_version_in_force_where_the_country_is(kz: Country) -> None:
    """A version that starts tomorrow in Kazakhstan, on a date already reached somewhere
    east of it: the one before stays in force until the country's midnight."""
    service = Service.objects.get(country=kz, code="10220001")
    current = ServiceStandard.objects.filter(service=service).latest("valid_from")
    now = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)  # 17:00 in Almaty, +5
    tomorrow = dt.date(2026, 3, 3)
    assert current.valid_from < tomorrow
    later = copy.copy(current)
    later.pk, later.valid_from, later.deadline_value = None, tomorrow, 99
    later.save()
    found = catalogue.service_to_apply_for("kz", "10220001", now)
    assert found is not None
    in_force = found[1]
    assert found[0].pk == service.pk
    assert in_force is not None
    assert in_force.pk == current.pk
    found = catalogue.service_to_apply_for("kz", "10220001", now + dt.timedelta(hours=8))
    assert found is not None
    assert found[1] is not None
    assert found[1].pk == later.pk
    assert catalogue.service_to_apply_for("kz", "99999999", now) is None
