"""The roles of onestop's users and what each is scoped to."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CITIZEN = "citizen"
    OPERATOR = "operator"      # counter of a one-stop-shop centre
    OFFICER = "officer"        # agency back office
    SUPERVISOR = "supervisor"  # agency head of unit
    CONTROLLER = "controller"  # quality-control body
    ANALYST = "analyst"
    ADMIN = "admin"


STAFF_ROLES = frozenset(Role) - {Role.CITIZEN}
AGENCY_ROLES = frozenset({Role.OFFICER, Role.SUPERVISOR})
CENTRE_ROLES = frozenset({Role.OPERATOR})
# A supervisor heads a unit of an agency or manages a centre (its queue, staffing plan).
CENTRE_MANAGER_ROLES = frozenset({Role.SUPERVISOR})
# Roles that may change the register of their own agency (admins: of every agency).
REGISTER_EDITORS = frozenset({Role.SUPERVISOR, Role.ADMIN})


def scope_problem(role: Role, *, has_agency: bool, has_centre: bool) -> str | None:
    """Why this role cannot have this scope, or None when it can."""
    if role in CENTRE_MANAGER_ROLES:
        if has_agency == has_centre:
            return f"a {role} belongs to an agency or to a centre: give --agency or --centre"
        return None
    if role in AGENCY_ROLES and not has_agency:
        return f"a {role} belongs to an agency: give --agency"
    if role in CENTRE_ROLES and not has_centre:
        return f"an {role} belongs to a centre: give --centre"
    if role not in AGENCY_ROLES and has_agency:
        return f"a {role} is not scoped to an agency"
    if role not in CENTRE_ROLES and has_centre:
        return f"a {role} is not scoped to a centre"
    return None
