from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count

from onestop.accounts.models import User
from onestop.accounts.services import create_user
from onestop.catalogue.models import Agency, Country
from onestop.centres.models import Centre

DEMO_ROLES = ("citizen", "operator", "officer", "supervisor", "controller", "analyst", "admin")


class Command(BaseCommand):
    help = (
        "Create one demo account per role for a loaded country (idempotent) and print them. "
        "For demonstrations on one machine only: the passwords are printed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--country", default="kz", help="a loaded country pack code")

    def handle(self, *args: Any, **options: Any) -> None:
        country = Country.objects.filter(code=options["country"]).first()
        if country is None:
            raise CommandError(
                f"country {options['country']!r} is not loaded: run `onestop load-pack "
                f"{options['country']}` first"
            )
        # The officers' agency: the provider of the most services, so the demo has work.
        agency = (
            Agency.objects.filter(country=country)
            .annotate(n_services=Count("services"))
            .order_by("-n_services", "code")
            .first()
        )
        centre = Centre.objects.filter(country=country).order_by("code").first()
        rows = []
        for role in DEMO_ROLES:
            username = f"{country.code}-{role}"
            password = f"demo-{role}-{country.code}-2026"
            if not User.objects.filter(username=username).exists():
                create_user(
                    username=username,
                    password=password,
                    role=role,
                    agency_code=agency.code if agency and role in ("officer", "supervisor")
                    else None,
                    centre_code=centre.code if centre and role == "operator" else None,
                    country_code=country.code,
                    national_id="900101300011" if role == "citizen" else "",
                    validate=False,
                )
                if role == "citizen":
                    # an address on a reserved domain: the demo's messages to the citizen
                    # land in the outbox file (README), and none can reach a real person
                    User.objects.filter(username=username).update(
                        email=f"{username}@example.org")
            rows.append((role, username, password))
        self.stdout.write("Demo accounts (sign in at /accounts/login/):")
        for role, username, password in rows:
            self.stdout.write(f"  {role:<11} {username:<16} {password}")
