"""What the citizen's own pages share (the portal's applications, the appointments): the
guard that lets only a signed-in citizen through, and the citizen it lets through."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render

from onestop.accounts.models import User
from onestop.accounts.roles import Role

View = Callable[..., HttpResponseBase]


def citizen_required(view: View) -> View:
    """A signed-in citizen's page: others sign in first; staff are told it is not theirs."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if getattr(request.user, "role", None) != Role.CITIZEN:
            return render(request, "applications/portal/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


def signed_in_user(request: HttpRequest) -> User:
    """The request's user, on a page `citizen_required` (or another guard) has let through."""
    user: User = request.user  # type: ignore[assignment]
    return user
