"""What the staff pages share: the error page, and the guard that lets only some signed-in
users through (anonymous visitors sign in first; others get a 403 page saying who may)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.functional import Promise
from django.views.decorators.http import require_GET

View = Callable[..., HttpResponseBase]


def error_page(request: HttpRequest, message: str | Promise, status: int) -> HttpResponse:
    return render(request, "applications/office/error.html",
                  {"message": message, "status": status}, status=status)


def readers_only(allowed: Callable[[Any], bool], refusal: str | Promise
                 ) -> Callable[[View], View]:
    """A read-only (GET) page for the signed-in users `allowed(user)` accepts."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not allowed(request.user):
                return error_page(request, refusal, 403)
            return view(request, *args, **kwargs)

        return login_required(require_GET(guarded))

    return decorate
