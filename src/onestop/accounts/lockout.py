"""The answer to a locked-out login: JSON for the API, a page for people."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

LOCKOUT_STATUS = 429


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    minutes = max(1, round(float(settings.AXES_COOLOFF_TIME) * 60))
    message = f"Too many failed sign-in attempts. Try again in {minutes} minutes."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=LOCKOUT_STATUS)
    return render(
        request, "accounts/locked_out.html", {"minutes": minutes}, status=LOCKOUT_STATUS
    )
