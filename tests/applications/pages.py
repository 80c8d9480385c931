"""What the page tests of the back office, the counter and the portal share: signed-in
browsers, uploads and a page's text. Their fixtures are in conftest.py."""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.test import Client

from onestop.accounts.models import User
from onestop.applications import services
from onestop.applications.forms import ApplicationForm

ALMATY = ZoneInfo("Asia/Almaty")
BIRTH = "01010001"  # the mini pack's birth registration
PDF = b"%PDF-1.4 a scan"


def signed_in(user: User) -> Client:
    """A browser of `user`'s that asks for English pages."""
    client = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def upload(code: str, filename: str = "") -> services.UploadedDocument:
    """A scan of document `code`, as services.submit and services.act take it."""
    return services.UploadedDocument(code, filename or f"{code}.pdf", "application/pdf", PDF)


def pdf(name: str = "scan.pdf") -> SimpleUploadedFile:
    """A scan as a page's form posts it."""
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def text(response: Any) -> str:
    """The page's text without tags, its whitespace made single spaces."""
    html = response.content.decode()
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def post_data(form: ApplicationForm, form_data: Mapping[str, Any]) -> QueryDict:
    """What a browser sends for `form_data`: the form's own widget values of it."""
    data = QueryDict(mutable=True)
    for name, value in form.initial_from(form_data).items():
        if value is True:
            data[form.add_prefix(name)] = "on"
        elif isinstance(value, list):
            data.setlist(form.add_prefix(name), [str(v) for v in value])
        elif value is not False:
            data[form.add_prefix(name)] = str(value)
    return data
