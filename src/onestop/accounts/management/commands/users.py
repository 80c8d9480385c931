from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onestop.accounts.roles import Role
from onestop.accounts.services import AccountError, create_user


class Command(BaseCommand):
    help = "Manage users: `users create --role ROLE --username U --password P`."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a user with a role and scope")
        create.add_argument("--role", required=True, choices=[r.value for r in Role])
        create.add_argument("--username", required=True)
        create.add_argument("--password", required=True)
        create.add_argument("--agency", help="agency code (officers and supervisors)")
        create.add_argument("--centre", help="centre code (operators)")
        create.add_argument("--country", help="country code, when codes repeat across packs")
        create.add_argument("--national-id", default="", help="a citizen's national ID")
        create.add_argument("--email", default="",
                            help="the work e-mail alerts go to (set by the administrator, "
                                 "so not confirmed by a code)")
        create.add_argument("--phone", default="",
                            help="a mobile phone in international form, for SMS without an "
                                 "e-mail")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = create_user(
                username=options["username"],
                password=options["password"],
                role=options["role"],
                agency_code=options["agency"],
                centre_code=options["centre"],
                country_code=options["country"],
                national_id=options["national_id"],
                email=options["email"],
                phone=options["phone"],
            )
        except AccountError as exc:
            raise CommandError(str(exc)) from None
        scope = user.agency or user.centre
        self.stdout.write(
            self.style.SUCCESS(f"created {user.role} {user.username}")
            + (f" of {scope}" if scope else "")
        )
