"""The JSON API under /api/v1/, its OpenAPI document at /api/v1/openapi.json."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from onestop import __version__
from onestop.accounts.api import router as auth_router
from onestop.applications.api import router as applications_router
from onestop.catalogue.api import router as catalogue_router
from onestop.centres.api import router as centres_router
from onestop.control.api import router as control_router
from onestop.feedback.api import router as feedback_router
from onestop.integrity.api import router as integrity_router
from onestop.interop.api import router as interop_router
from onestop.opendata.api import router as opendata_router
from onestop.public.api import router as public_router
from onestop.quality.api import router as quality_router

api = NinjaAPI(
    title="onestop API",
    version=__version__,
    description=(
        "The register of public services, applications and their deadlines. "
        "Errors answer with `{\"detail\": \"...\"}`. Bearer tokens come from "
        "`POST /api/v1/auth/token`."
    ),
    urls_namespace="api",
    docs_url="/docs",
)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = []
    for error in exc.errors:
        where = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body",))
        problems.append(f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg"))
    return api.create_response(
        request, {"detail": "; ".join(str(p) for p in problems) or "invalid input"}, status=422
    )


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, {"detail": "a valid bearer token is required"}, status=401
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


api.add_router("/auth", auth_router)
api.add_router("/", catalogue_router)
api.add_router("/", applications_router)
api.add_router("/", centres_router)
api.add_router("/", feedback_router)
api.add_router("/", control_router)
api.add_router("/", quality_router)
api.add_router("/", integrity_router)
api.add_router("/", public_router)
api.add_router("/", opendata_router)
api.add_router("/", interop_router)
