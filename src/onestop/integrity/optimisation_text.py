"""The optimisation report's changes in words, in the active language (pages, PDF, CLI)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import get_language, gettext, gettext_lazy, ngettext

from onestop.core.text import localize
from onestop.integrity.optimisation import Change, Report

KIND_NAMES = {
    "state_database_document": gettext_lazy("Document from a state database"),
    "repeated_document": gettext_lazy("Document requested after submission"),
    "automate_stage": gettext_lazy("Stage that could be automated"),
    "interagency_wait": gettext_lazy("Inter-agency wait"),
    "understaffed_centre": gettext_lazy("Under-staffed centre"),
}


def _names(report: Report, change: Change) -> tuple[str, str]:
    """The localized name of the change's subject, and "service X" or "services X, Y"."""
    language = get_language() or "en"
    languages = report.country.languages
    codes = change.services
    services = ngettext("service %(codes)s", "services %(codes)s", len(codes)) % {
        "codes": ", ".join(codes)}
    for result in report.analyses:
        if result.service.code not in codes:
            continue
        if change.kind in ("state_database_document", "repeated_document"):
            name = result.document_names.get(change.subject)
            if name:
                return localize(name, language, languages), services
        elif change.kind == "automate_stage":
            state = result.workflow.states.get(change.subject)
            if state:
                return localize(state.name, language, languages), services
    return change.subject, services


def _num(value: Any, digits: int = 1) -> str:
    return "–" if value is None else f"{float(value):.{digits}f}"


def change_title(change: Change, report: Report) -> str:
    subject, service = _names(report, change)
    values = {"subject": subject, "service": service}
    if change.kind == "state_database_document":
        return gettext("Take “%(subject)s” from the state database instead of asking the "
                       "applicant (%(service)s)") % values
    if change.kind == "repeated_document":
        return gettext("Check “%(subject)s” at submission, so that it is not asked for "
                       "later (%(service)s)") % values
    if change.kind == "automate_stage":
        return gettext("Automate the stage “%(subject)s” (%(service)s)") % values
    if change.kind == "interagency_wait":
        return gettext("Replace the request to %(subject)s by a data link, or agree a "
                       "faster answer (%(service)s)") % values
    return gettext("Add counter staff at the centre %(subject)s") % values


def change_evidence(change: Change) -> str:
    """The facts behind the change, per service when it was found in several."""
    if len(change.evidence) == 1:
        return _evidence(change.kind, next(iter(change.evidence.values())))
    return " ".join(f"{code}: {_evidence(change.kind, facts)}"
                    for code, facts in change.evidence.items())


def _evidence(kind: str, e: dict[str, Any]) -> str:
    if kind == "state_database_document":
        return gettext(
            "Requested %(requests)s times in %(applications)s applications (%(repeated)s "
            "asked again); applicants waited %(days)s days for it. The standard says it is "
            "obtainable from a state database.") % {
            "requests": e["requests"], "applications": e["applications"],
            "repeated": e["repeated_applications"], "days": _num(e["citizen_days"], 2)}
    if kind == "repeated_document":
        return gettext(
            "Requested %(requests)s times after submission in %(applications)s applications "
            "(%(repeated)s asked again); applicants waited %(days)s days for it.") % {
            "requests": e["requests"], "repeated": e["repeated_applications"],
            "applications": e["applications"], "days": _num(e["citizen_days"], 2)}
    if kind == "automate_stage":
        return gettext(
            "%(visits)s stays, median %(median)s h (%(wd)s working days), 90th percentile "
            "%(p90)s h; left by %(exits)s: the agency's step may be taken by the system or "
            "needs no input.") % {
            "visits": e["visits"], "median": _num(e["median_hours"]),
            "wd": _num(e["median_working_days"], 2), "p90": _num(e["p90_hours"]),
            "exits": ", ".join(f"{code} ×{n}" for code, n in sorted(e["exits"].items()))}
    if kind == "interagency_wait":
        return gettext(
            "%(requests)s requests (%(open)s unanswered), median answer %(wd)s working days, "
            "90th percentile %(p90)s; %(over)s over the stage's limit; %(days)s "
            "citizen-days waiting.") % {
            "requests": e["requests"], "open": e["open"],
            "wd": _num(e["median_working_days"], 2), "p90": _num(e["p90_working_days"], 2),
            "over": e["over_limit"], "days": _num(e["citizen_days"], 2)}
    return gettext(
        "%(over)s of %(served)s tickets served waited longer than the standard allows; "
        "%(days)s days over the standard in all.") % {
        "over": e["over_standard"], "served": e["served"], "days": _num(e["citizen_days"], 2)}


def change_text(change: Change, report: Report) -> str:
    return f"{change_title(change, report)}. {change_evidence(change)}"
