"""Pages of public monitoring, open to everyone (no login): they read the snapshots of the
latest `onestop public refresh` through `onestop.public.pages`, never the live tables
(except a centre's live queue, a few queries over one day). Each table of a page
downloads as CSV (`<page>/<table>.csv`) and all of them as JSON (`<page>/data.json`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from onestop.catalogue.models import Country
from onestop.core.context import current_country
from onestop.core.text import localize
from onestop.public import pages, selectors

ROOT = "/monitor/"


def page_context(page: pages.Page, linker: pages.Linker, country: Country, *,
                 layout: str, language: str, language_names: dict[str, str] | None = None
                 ) -> dict[str, Any]:
    """The template context of a page, live or static."""
    return {
        "page": page, "layout": layout, "static": linker.static, "css": linker.css(),
        "home": linker.page(""), "language": language,
        "country_name": localize(country.name, language, country.languages),
        "taken_at": pages.format_taken(page.taken_at, country),
        "json_href": linker.file(page.path + "data.json"),
        "language_links": [{**link, "name": (language_names or {}).get(link["code"],
                                                                       link["code"])}
                           for link in linker.language_links()],
    }


def _not_found(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "public/missing.html", {"message": message}, status=404)


@require_GET
def monitor(request: HttpRequest, path: str = "") -> HttpResponse:
    country = current_country(request)
    if country is None:
        return _not_found(request, gettext("No country pack is loaded yet."))
    index = selectors.index(country)
    if index is None:
        return _not_found(request, gettext(
            "The monitoring figures have not been computed yet (onestop public refresh)."))
    linker = pages.Linker(prefix=ROOT)
    context = pages.Context(country, index, linker, live=True)
    page_path, _, file = path.rpartition("/")
    page_path = f"{page_path}/" if page_path else ""
    if file and file != "data.json" and not file.endswith(".csv"):
        return _not_found(request, gettext("There is no such page."))
    page = pages.build(context, page_path)
    if page is None:
        return _not_found(request, gettext("There is no such page."))
    if file == "data.json":
        return HttpResponse(page.as_json(), content_type="application/json; charset=utf-8")
    if file:
        table = page.tables.get(file.removesuffix(".csv"))
        if table is None:
            return _not_found(request, gettext("There is no such table."))
        response = HttpResponse(table.as_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{table.id}.csv"'
        return response
    return render(request, "public/page.html", page_context(
        page, linker, country, layout="base.html", language=context.language))
