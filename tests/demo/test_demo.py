"""`onestop demo`: a history written through the same model as real submissions.

Small histories (300 applications; 2,000 for the shares) of a past year, so that every
application has reached its outcome. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import jsonschema
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from onestop.accounts.roles import Role
from onestop.applications import routing, services
from onestop.applications.models import Application, ApplicationEvent, Payment, ProactiveOffer
from onestop.applications.workflow import INPUTS
from onestop.audit.models import AuditEntry
from onestop.catalogue.models import Country
from onestop.catalogue.packs import applicant_id_properties, read_pack, resolve_pack_path
from onestop.catalogue.selectors import agency_subtree_ids, calendar_for
from onestop.catalogue.services import load_pack
from onestop.demo.generator import Params
from onestop.demo.people import iin_check_digit
from onestop.demo.writer import demo_applications, generate, history_digest
from tests.applications.samples import sample_for

YEAR = "2025"  # a whole past year: every application has its outcome


def demo(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("demo", *args, stdout=out, stderr=err)
    return out.getvalue()


def small(country: str = "kz", *extra: str, n: int = 300, seed: int = 3) -> str:
    return demo("--country", country, "--applications", str(n), "--seed", str(seed),
                "--year", YEAR, *extra)


@pytest.fixture
def uz(db: None) -> Country:
    load_pack(read_pack(resolve_pack_path("uz")))
    return Country.objects.get(code="uz")


def events_of(app: Application) -> list[ApplicationEvent]:
    return sorted(app.events.select_related("actor"), key=lambda e: (e.at, e.pk))


# --- determinism ---------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_history(kz: Country) -> None:
    def run(seed: int, *, pipeline: bool) -> str:
        params = Params(applications=300, seed=seed, year=2025, now=timezone.now(),
                        chunk_size=70, batch="t")
        generate("kz", params, replace=True, pipeline=pipeline)
        return history_digest(kz)

    first = run(3, pipeline=False)
    assert run(3, pipeline=True) == first  # a planning process draws the same history
    assert run(4, pipeline=False) != first
    assert demo_applications(kz).count() == 300


# --- the same model as real submissions -------------------------------------------------------


def check_deadlines(country: Country) -> None:
    """Every deadline is the calendar's for the standard in force, plus the stopped time."""
    calendar = calendar_for(country)
    stopped = 0
    for app in demo_applications(country).select_related("standard", "country", "service"):
        standard = app.standard
        base = calendar.deadline(app.submitted_at, standard.deadline_value,
                                 standard.deadline_unit)
        clock = services.clock_of(app)
        clock_events = [e for e in events_of(app) if e.clock]
        at = clock_events[-1].at if clock_events else app.submitted_at
        assert clock.base_deadline() == base
        assert app.deadline_at == clock.deadline_at(at), app.number
        assert app.stopped_seconds == int(clock.stopped_time(at).total_seconds())
        if not clock_events:
            assert app.deadline_at == base
        else:
            stopped += 1
            assert app.deadline_at > base
        on = app.submitted_at.astimezone(calendar.zone).date()
        in_force = app.service.versions.filter(valid_from__lte=on).order_by("-valid_from")[0]
        assert standard == in_force
    assert stopped > 10


def check_paths(country: Country) -> None:
    """Events replay through the workflow, each taken by someone allowed to take it."""
    for app in demo_applications(country).select_related("agency", "assigned_to", "standard"):
        workflow = services.workflow_of(app)
        events = events_of(app)
        assert events[0].action == "submit"
        assert events[0].from_state == ""
        assert events[0].to_state == workflow.initial
        state = workflow.initial
        previous = events[0].at
        for event in events[1:]:
            assert event.at >= previous
            previous = event.at
            assert event.from_state == state, (app.number, event.action)
            if event.action in ("assign", "offer_proactive"):
                assert event.to_state == state
                continue
            transition = workflow.decide(state, event.action, event.actor_role, INPUTS)
            assert transition.target.code == event.to_state
            assert event.clock == {"stop": "stop", "resume": "resume"}.get(
                str(transition.clock), "")
            state = event.to_state
            actor = event.actor  # whoever acted may act on it (services.role_on)
            if event.actor_role == "system":
                assert actor is None
                continue
            assert actor is not None
            assert actor.role == event.actor_role
            if actor.role in (Role.OFFICER, Role.SUPERVISOR):
                assert app.agency_id in agency_subtree_ids([actor.agency_id])
            elif actor.role == Role.CITIZEN:
                assert app.applicant_id == actor.pk
        assert state == app.state
        terminal = workflow.states[state]
        assert app.outcome == (str(terminal.outcome) if terminal.terminal else "")
        assert (app.completed_at is not None) == terminal.terminal
        if app.outcome == "refused":
            grounds = {g["code"] for g in app.standard.refusal_grounds}
            assert app.refusal_ground in grounds
            assert app.refusal_reason
        if app.assigned_to is not None:
            assert app.assigned_to.role == Role.OFFICER
            assert app.agency_id in agency_subtree_ids([app.assigned_to.agency_id])


def check_rows(country: Country, id_length: int) -> None:
    """The fields `services.submit` fills, filled the same way."""
    calendar = calendar_for(country)
    apps = list(demo_applications(country).select_related(
        "service", "standard", "centre", "region", "applicant", "submitted_by"))
    numbers = set()
    for app in apps:
        # CC-YYMMDD-XXXXXX with the UTC date, as services._new_number
        prefix = f"{country.code.upper()}-{app.submitted_at.astimezone(UTC):%y%m%d}-"
        assert app.number.startswith(prefix)
        assert len(app.number) == 16
        assert app.number not in numbers
        numbers.add(app.number)
        assert len(app.applicant_national_id) == id_length
        assert app.applicant_national_id.isdigit()
        assert app.agency == routing.route(app.service, app.region)
        # the run is named in demo_batch; the form data is only what the citizen typed
        assert app.demo_batch
        assert not app.planted_flag
        form = app.form_data
        validator = jsonschema.Draft202012Validator(
            app.standard.eform, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        assert list(validator.iter_errors(form)) == [], app.service.code
        for field in applicant_id_properties(app.standard.eform):
            assert form[field] == app.applicant_national_id
        assert app.fee_amount == app.standard.fee_amount
        payments = list(app.payments.all())
        if app.fee_amount > 0 and app.channel != "proactive":
            assert [p.amount for p in payments] == [app.fee_amount]
            assert payments[0].paid_at == app.submitted_at
        else:
            assert payments == []
        if app.channel in ("portal", "api"):
            assert app.applicant is not None
            assert app.submitted_by == app.applicant
        if app.channel == "centre" and app.centre is not None:
            assert app.submitted_by.role == Role.OPERATOR
            assert app.submitted_by.centre_id == app.centre_id
            assert app.region_id == app.centre.region_id
            local = app.submitted_at.astimezone(calendar.zone)
            key = local.strftime("%A").lower()
            if calendar.is_working_day(local.date()) and local.weekday() >= 5:
                key = "monday"  # a weekend day worked by decree
            spans = app.centre.opening_hours.get(key, [])
            assert spans, (app.number, key)
            assert any(time.fromisoformat(s.split("-")[0]) <= local.time()
                       < time.fromisoformat(s.split("-")[1]) for s in spans)
        if app.workflow == "instant":
            assert app.completed_at == app.submitted_at
            assert app.outcome == "issued"
    for app in [a for a in apps if a.started_by_id]:  # started by another's result
        assert app.channel == "proactive"
        assert app.service.proactive_after == app.started_by.service
        offer = ProactiveOffer.objects.get(application=app)
        assert offer.source == app.started_by
        assert offer.status == "confirmed"
        assert app.started_by.completed_at < app.submitted_at


def check_audit(country: Country) -> None:
    events = ApplicationEvent.objects.filter(application__in=demo_applications(country))
    entries = AuditEntry.objects.filter(subject_type="application")
    assert entries.count() == events.count()
    event = events.order_by("pk").last()
    assert event is not None
    entry = entries.get(data__event=event.pk)
    assert entry.action == f"application.{event.action}"
    assert entry.subject_id == event.application.number
    assert entry.data["to"] == event.to_state
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert "intact" in out.getvalue()


def test_a_kazakh_history_goes_through_the_same_model(kz: Country) -> None:
    small(n=400)
    check_deadlines(kz)
    check_paths(kz)
    check_rows(kz, 12)
    for app in demo_applications(kz)[:50]:
        assert iin_check_digit(app.applicant_national_id[:11]) == int(
            app.applicant_national_id[11])
    check_audit(kz)


def test_an_uzbek_history_goes_through_the_same_model(uz: Country) -> None:
    small("uz")
    check_deadlines(uz)
    check_paths(uz)
    check_rows(uz, 14)
    check_audit(uz)


def test_shares_are_close_to_the_asked_ones(kz: Country) -> None:
    out = small(n=2000)
    assert "2,000 applications" in out
    apps = list(demo_applications(kz))
    n = len(apps)
    assert n == 2000
    channels = Counter(a.channel for a in apps)
    assert channels["portal"] == 900
    assert channels["centre"] == 1000
    assert channels["proactive"] == 100
    outcomes = Counter(a.outcome for a in apps)
    assert outcomes[""] == 0  # a past year: all done
    assert abs(outcomes["refused"] / n - 0.08) < 0.01
    assert abs(outcomes["withdrawn"] / n - 0.02) < 0.005
    completed = [a for a in apps if a.outcome in ("issued", "refused")]
    late = sum(a.completed_at > a.deadline_at for a in completed) / len(completed)
    assert abs(late - 0.06) < 0.01
    sent_back = ApplicationEvent.objects.filter(
        application__in=demo_applications(kz), clock="stop"
    ).values("application").distinct().count()
    assert abs(sent_back / n - 0.12) < 0.01
    # portal around the clock, centres in the day; weekday seasonality
    zone = calendar_for(kz).zone
    portal_hours = Counter(a.submitted_at.astimezone(zone).hour for a in apps
                           if a.channel == "portal")
    assert sum(v for h, v in portal_hours.items() if h < 8 or h >= 20) > 30
    assert portal_hours[11] > portal_hours[3]
    months = Counter(a.submitted_at.astimezone(zone).month for a in apps)
    assert len(months) == 12
    assert months[9] > months[1]


def test_other_shares_and_instant_services(kz: Country) -> None:
    small("kz", "--channel-mix", "portal=0.7,centre=0.3", "--refused", "0.2",
          "--late", "0.0", "--sent-back", "0", "--withdrawn", "0")
    apps = list(demo_applications(kz))
    assert Counter(a.channel for a in apps) == {"portal": 210, "centre": 90}
    assert not ApplicationEvent.objects.filter(application__in=apps, clock="stop").exists()
    assert all(a.completed_at <= a.deadline_at for a in apps if a.completed_at)
    assert not any(a.outcome == "withdrawn" for a in apps)
    assert 0.12 < sum(a.outcome == "refused" for a in apps) / len(apps) < 0.28


# --- --replace, and what the command refuses ------------------------------------------


def test_replace_deletes_only_demo_data_and_keeps_the_chain(kz: Country) -> None:
    service = kz.services.get(code="01010001")
    real = services.submit(
        service=service, form_data=sample_for(service), channel="proactive",
        national_id="900101300011", now=datetime(2025, 6, 2, 10, tzinfo=UTC),
    ).application
    real_events = list(real.events.values_list("pk", flat=True))
    small()
    with pytest.raises(CommandError, match="already has demo data"):
        small()
    assert "nothing to do" in small("kz", "--skip-existing")
    before = AuditEntry.objects.count()
    out = small("kz", "--replace", n=200)
    assert "300 demo applications of the previous run deleted" in out
    assert demo_applications(kz).count() == 200
    kept = Application.objects.get(pk=real.pk)
    assert kept.number == real.number
    assert kept.demo_batch == ""
    assert list(kept.events.values_list("pk", flat=True)) == real_events
    assert not Payment.objects.filter(application__number__in=[]).exists()
    assert AuditEntry.objects.filter(action="demo.deleted").count() == 1
    assert AuditEntry.objects.count() > before  # entries of deleted rows stay; new ones append
    call_command("audit", "verify", stdout=io.StringIO())


def test_dry_run_and_clear_errors(kz: Country) -> None:
    out = small("kz", "--dry-run")
    assert "dry run" in out
    assert not demo_applications(kz).exists()
    with pytest.raises(CommandError, match="not loaded"):
        demo("--country", "xx")
    with pytest.raises(CommandError, match="add up to 1"):
        small("kz", "--channel-mix", "portal=0.5,centre=0.4")
    with pytest.raises(CommandError, match=r"unknown channel|CHANNEL=SHARE"):
        small("kz", "--channel-mix", "fax=1")
    future = str(timezone.now().year + 1)
    with pytest.raises(CommandError, match="no whole day"):
        demo("--country", "kz", "--applications", "10", "--year", future)


def test_recent_applications_are_still_open(kz: Country) -> None:
    now = timezone.now()
    year = (now - timedelta(days=3)).year  # a year with days behind it, and recent ones
    params = Params(applications=300, seed=2, year=year, now=now, batch="t")
    generate("kz", params)
    open_apps = demo_applications(kz).filter(outcome="")
    for app in open_apps:
        assert app.completed_at is None
        assert app.events.order_by("-at").first().at <= now
    assert not ApplicationEvent.objects.filter(
        application__in=demo_applications(kz), at__gt=now + timedelta(seconds=1)
    ).exists()


def test_postgresql_plans_by_the_history_written(kz: Country) -> None:
    """The planner's statistics are taken as the tables grow and once at the end: without
    them a prepared lookup planned on the empty table reads the whole table every time,
    and a million applications take hours instead of minutes."""
    if connection.vendor != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's")
    small(n=400)
    with connection.cursor() as cursor:
        for model in (Application, ApplicationEvent, AuditEntry):
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s",
                           [model._meta.db_table])
            # -1 for a table never measured; the demo's own closing audit entries and
            # the violation scans' come after the last measurement
            assert model.objects.count() - 10 <= cursor.fetchone()[0] <= model.objects.count()
