"""The shared pager of lists: labels by reading order, filters kept in its links."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation


def render(page_number: int, query: str, **extra: object) -> str:
    page = Paginator(list(range(25)), 10).page(page_number)
    request = RequestFactory().get(f"/list/?{query}")
    request.session = {}  # type: ignore[assignment]  # the site's context processors read it
    request.user = AnonymousUser()
    with translation.override("en"):
        return render_to_string("_pager.html", {"page": page, **extra}, request=request)


@pytest.mark.django_db
def test_the_middle_page_links_both_ways_and_keeps_the_filters() -> None:
    html = render(2, "state=submitted&page=2")
    assert "Page 2 of 3" in html
    assert 'href="?state=submitted&amp;page=1">Previous page' in html
    assert 'href="?state=submitted&amp;page=3">Next page' in html


@pytest.mark.django_db
def test_lists_read_newest_first_say_newer_and_older() -> None:
    html = render(1, "", newest_first=True)
    assert "page 1 of 3" in html
    assert 'href="?page=2">Older' in html
    assert "Newer" not in html


def test_a_single_page_shows_no_pager() -> None:
    page = Paginator([1, 2], 10).page(1)
    assert render_to_string("_pager.html", {"page": page}).strip() == ""
