from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest

from onestop.accounts.models import ApiToken, User
from onestop.accounts.roles import Role


def _is_admin(request: HttpRequest) -> bool:
    return getattr(request.user, "role", None) == Role.ADMIN


class AdminsOnly:
    """Accounts are managed by admins only; supervisors use the admin for the register."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return _is_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return _is_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return _is_admin(request)


@admin.register(User)
class UserAdmin(AdminsOnly, DjangoUserAdmin):
    list_display = ("username", "role", "agency", "centre", "is_active")
    list_filter = ("role", "is_active")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("onestop", {"fields": ("role", "agency", "centre", "national_id", "phone")}),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(AdminsOnly, admin.ModelAdmin):
    list_display = ("prefix", "name", "user", "created_at", "expires_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at", "user", "name")
    fields = ("user", "name", "prefix", "key_hash", "created_at", "expires_at",
              "last_used_at", "revoked_at")

    # Tokens are issued by their owners through the API; an admin only revokes them.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
