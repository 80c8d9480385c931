"""Catalogue pages: search, life situations, agencies and a service's full standard."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from onestop.catalogue import selectors
from onestop.catalogue.models import Country
from onestop.core.context import SESSION_COUNTRY, current_country


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search services"), required=False, max_length=200)


class VersionForm(forms.Form):
    on = forms.DateField(label=_("Standard in force on"), required=False,
                         widget=forms.DateInput(attrs={"type": "date"}))


def _country_or_404(request: HttpRequest) -> Country:
    country = current_country(request)
    if country is None:
        raise Http404("no country pack is loaded")
    return country


def _rows(country: Country, **filters: str | None) -> list[dict[str, object]]:
    today = selectors.local_today(country)
    rows: list[dict[str, object]] = []
    for service in selectors.search_services(country=country, **filters):  # type: ignore[arg-type]
        standard = selectors.current_standard(service, today)
        if standard is not None:
            rows.append({"service": service, "standard": standard})
    return rows


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    country = current_country(request)
    context: dict[str, object] = {"form": SearchForm()}
    if country is not None:
        context["life_situations"] = selectors.life_situations(country)
        context["service_count"] = country.services.count()
        context["agency_count"] = country.agencies.count()
    return render(request, "catalogue/home.html", context)


@require_POST
def choose_country(request: HttpRequest) -> HttpResponse:
    code = request.POST.get("country", "")
    if selectors.country_by_code(code) is None:
        return render(request, "catalogue/error.html",
                      {"message": _("This country is not loaded.")}, status=400)
    request.session[SESSION_COUNTRY] = code
    target = request.POST.get("next") or reverse("catalogue:home")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("catalogue:home")
    return HttpResponseRedirect(target)


@require_GET
def service_search(request: HttpRequest) -> HttpResponse:
    country = _country_or_404(request)
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    rows = _rows(country, query=query) if form.is_valid() else []
    return render(request, "catalogue/search.html", {"form": form, "query": query, "rows": rows})


@require_GET
def life_situation(request: HttpRequest, code: str) -> HttpResponse:
    country = _country_or_404(request)
    situation = selectors.life_situations(country).filter(code=code).first()
    if situation is None:
        raise Http404("no such life situation")
    return render(request, "catalogue/life_situation.html", {
        "situation": situation, "rows": _rows(country, life_situation=code),
    })


@require_GET
def agency_list(request: HttpRequest) -> HttpResponse:
    country = _country_or_404(request)
    agencies = list(selectors.agencies(country))
    children: dict[int | None, list[object]] = {}
    for agency in agencies:
        children.setdefault(agency.parent_id, []).append(agency)
    tree: list[tuple[int, object]] = []

    def walk(parent: int | None, depth: int) -> None:
        for agency in children.get(parent, []):
            tree.append((depth, agency))
            walk(agency.pk, depth + 1)  # type: ignore[attr-defined]

    walk(None, 0)
    return render(request, "catalogue/agencies.html", {"tree": tree})


@require_GET
def agency_detail(request: HttpRequest, code: str) -> HttpResponse:
    country = _country_or_404(request)
    agency = selectors.agencies(country).filter(code=code).first()
    if agency is None:
        raise Http404("no such agency")
    return render(request, "catalogue/agency.html", {
        "agency": agency,
        "children": selectors.agencies(country).filter(parent=agency),
        "rows": _rows(country, agency=code),
    })


@require_GET
def service_detail(request: HttpRequest, code: str) -> HttpResponse:
    country = _country_or_404(request)
    service = selectors.service_by_code(country, code)
    if service is None:
        raise Http404("no such service")
    form = VersionForm(request.GET)
    day = selectors.local_today(country)
    if form.is_valid() and form.cleaned_data["on"]:
        day = form.cleaned_data["on"]
    standard = selectors.current_standard(service, day)
    return render(request, "catalogue/service.html", {
        "service": service,
        "standard": standard,
        "day": day,
        "form": form,
        "versions": list(service.versions.all()),
        "applicant_documents": standard.documents_from("applicant") if standard else [],
        "state_documents": standard.documents_from("state_database") if standard else [],
        "eform_fields": _eform_fields(standard.eform) if standard else [],
    }, status=200 if standard else 404)


def _eform_fields(schema: dict[str, object]) -> list[dict[str, object]]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))  # type: ignore[call-overload]
    fields = []
    order = [n for n in schema.get("x-order", []) if n in properties]  # type: ignore[attr-defined, operator]
    names = order + [n for n in properties if n not in order]  # type: ignore[attr-defined]
    for name in names:
        spec = properties[name]  # type: ignore[index]
        fields.append({
            "name": name,
            "titles": spec.get("x-title") or {"en": spec.get("title", name)},
            "type": spec.get("format") or spec.get("type", ""),
            "required": name in required,
        })
    return fields
