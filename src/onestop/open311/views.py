"""Open311 GeoReport v2 endpoints at /open311/v2/, each in XML and JSON (by the
extension). Thin: read the parameters, call one selector or service, render.

Reading needs no key (Open311 is public; every output is built without personal
data, see selectors); creating a request needs an API key (`onestop apikeys create`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from onestop.catalogue.models import Country
from onestop.open311 import formats, selectors, services
from onestop.open311.errors import Open311Error, not_found

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,100})\](\[\])?$")
MAX_ATTRIBUTES = 200

View = Callable[..., HttpResponse]


def _respond(fmt: str, root: str, value: Mapping[str, Any] | Sequence[Any],
             status: int = 200) -> HttpResponse:
    body, content_type = formats.render(fmt, root, value)
    return HttpResponse(body, content_type=content_type, status=status)


def _error(fmt: str, exc: Open311Error) -> HttpResponse:
    problems = [(exc.status, description) for description in exc.descriptions]
    return _respond(fmt if fmt in formats.FORMATS else "xml", "errors",
                    formats.errors(problems), status=exc.status)


def endpoint(methods: tuple[str, ...]) -> Callable[[View], View]:
    """Checks the method and the format, turns an Open311Error into the spec's error
    document, and answers CORS-friendly (Open311 clients run in browsers too)."""

    def wrap(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def inner(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
            fmt = fmt.lower()
            if fmt not in formats.FORMATS:
                return _error("xml", not_found(_("format: xml or json")))
            if request.method not in methods:
                response = _error(fmt, Open311Error(
                    405, _("method: %(methods)s only") % {"methods": ", ".join(methods)}))
                response["Allow"] = ", ".join(methods)
                return response
            try:
                response = view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as exc:
                response = _error(fmt, exc)
            response["Access-Control-Allow-Origin"] = "*"
            return response

        return inner

    return wrap


def _param(request: HttpRequest, name: str) -> str:
    source = request.POST if request.method == "POST" else request.GET
    return str(source.get(name) or request.GET.get(name) or "").strip()


def _country(request: HttpRequest) -> Country:
    return selectors.jurisdiction(_param(request, "jurisdiction_id") or None)


def _lang(country: Country) -> selectors.Language:
    return selectors.language_for(country, translation.get_language() or country.languages[0])


@endpoint(("GET",))
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    countries = list(Country.objects.order_by("code"))
    changed = selectors.changeset(countries).isoformat(timespec="seconds")
    base = request.build_absolute_uri(reverse(f"open311:discovery-{fmt}"))
    base = base.rsplit("/", 1)[0]
    return _respond(fmt, "discovery", {
        "changeset": changed,
        "contact": _("The administrators of this onestop installation"),
        "key_service": _("API keys are issued by the administrators of this onestop "
                         "installation (onestop apikeys create)."),
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": base,
            "changeset": changed,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    })


@endpoint(("GET", "POST"))
def unsupported(request: HttpRequest, fmt: str) -> HttpResponse:
    """Another extension: the endpoint wrapper answers 404 before this runs."""
    raise not_found(_("format: xml or json"))


@endpoint(("GET",))
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    country = _country(request)
    return _respond(fmt, "services", selectors.service_list(country, _lang(country)))


@endpoint(("GET",))
def service_definition(request: HttpRequest, fmt: str, service_code: str) -> HttpResponse:
    country = _country(request)
    return _respond(fmt, "service_definition",
                    selectors.service_definition(country, service_code, _lang(country)))


def _attributes(request: HttpRequest) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key in request.POST:
        match = ATTRIBUTE.match(key)
        if match:
            found.setdefault(match.group(1), []).extend(request.POST.getlist(key))
    if len(found) > MAX_ATTRIBUTES:
        raise Open311Error(400, _("attribute: too many attributes"))
    return found


@endpoint(("GET", "POST"))
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    country = _country(request)
    filters = selectors.filters_from({k: str(v) for k, v in request.GET.items()})
    found = selectors.service_requests(country, filters)
    return _respond(fmt, "service_requests", selectors.request_views(found, _lang(country)))


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    # the key first: nothing about the jurisdiction or the service is told without one
    # in the body only, as the spec says: a key in a URL ends up in logs
    api_key = services.check_api_key(str(request.POST.get("api_key") or "").strip() or None)
    country = _country(request)
    created = services.create_request(
        api_key=api_key, country=country,
        service_code=_param(request, "service_code"),
        attributes=_attributes(request),
        description=str(request.POST.get("description") or ""),
        contact=services.Contact(
            email=_param(request, "email"), first_name=_param(request, "first_name"),
            last_name=_param(request, "last_name"), phone=_param(request, "phone"),
        ),
        idempotency_key=(request.headers.get("Idempotency-Key") or "").strip()[:150] or None,
    )
    return _respond(fmt, "service_requests", [{
        "service_request_id": created.request.public_id,
        "token": created.request.token,
        "service_notice": created.notice,
        "account_id": None,
    }], status=201)


@endpoint(("GET",))
def request_detail(request: HttpRequest, fmt: str, service_request_id: str) -> HttpResponse:
    country = _country(request)
    found = selectors.service_request(country, service_request_id)
    return _respond(fmt, "service_requests", selectors.request_views([found], _lang(country)))


@endpoint(("GET",))
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    country = _country(request)
    found = selectors.by_token(country, token)
    return _respond(fmt, "service_requests",
                    [{"service_request_id": found.public_id, "token": found.token}])
