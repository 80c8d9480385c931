"""Admin screens for the register. Admins edit everything; a supervisor edits the
services of their own agency (and its sub-units) and may only read the rest."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from onestop.accounts.roles import STAFF_ROLES, Role
from onestop.catalogue.models import (
    Agency,
    Country,
    LifeSituation,
    Region,
    Service,
    ServiceStandard,
)
from onestop.catalogue.selectors import agencies_in_scope
from onestop.catalogue.services import can_edit_service, refresh_search_text


def _role(request: HttpRequest) -> str | None:
    return getattr(request.user, "role", None)


class RegisterAdmin(admin.ModelAdmin):
    """Readable by all staff, writable by admins."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _role(request) in STAFF_ROLES

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _role(request) in STAFF_ROLES

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _role(request) == Role.ADMIN

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _role(request) == Role.ADMIN

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _role(request) == Role.ADMIN


@admin.register(Country)
class CountryAdmin(RegisterAdmin):
    list_display = ("code", "time_zone", "currency")


@admin.register(Region)
class RegionAdmin(RegisterAdmin):
    list_display = ("code", "country")
    list_filter = ("country",)


@admin.register(Agency)
class AgencyAdmin(RegisterAdmin):
    list_display = ("code", "country", "kind", "parent", "region")
    list_filter = ("country", "kind")
    search_fields = ("code",)


@admin.register(LifeSituation)
class LifeSituationAdmin(RegisterAdmin):
    list_display = ("code", "number", "country")
    list_filter = ("country",)


class ServiceStandardInline(admin.StackedInline):
    """Versions follow the service's permissions: who may edit the service may add a
    version. Changing a version in place is for admins only (applications refer to it)."""

    model = ServiceStandard
    extra = 0
    ordering = ("-valid_from",)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _role(request) in STAFF_ROLES

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return ServiceAdmin.editable(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _role(request) == Role.ADMIN

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _role(request) == Role.ADMIN


@admin.register(Service)
class ServiceAdmin(RegisterAdmin):
    list_display = ("code", "country", "provider", "workflow")
    list_filter = ("country", "workflow")
    search_fields = ("code", "search_text")
    inlines = [ServiceStandardInline]
    filter_horizontal = ("life_situations",)

    @staticmethod
    def editable(request: HttpRequest, obj: Service | None) -> bool:
        if _role(request) == Role.ADMIN:
            return True
        if _role(request) != Role.SUPERVISOR:
            return False
        return obj is None or can_edit_service(request.user, obj)  # type: ignore[arg-type]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.editable(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.editable(request, None)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "provider" and _role(request) == Role.SUPERVISOR:
            kwargs["queryset"] = agencies_in_scope(request.user)  # type: ignore[arg-type]
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Service]:
        return super().get_queryset(request).select_related("country", "provider")

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        refresh_search_text(form.instance)
