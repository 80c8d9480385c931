"""`onestop apikeys create|list|revoke`: the API keys of machine clients (Open311 apps
now; other integrations later)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from onestop.core.commands import database_problem
from onestop.open311 import selectors, services


class Command(BaseCommand):
    help = (
        "API keys of machine clients: `apikeys create --name N` prints a new key once "
        "(only its hash is kept); `apikeys list`; `apikeys revoke NAME_OR_ID`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a key and print it once")
        create.add_argument("--name", required=True, help="who the key is for (unique)")
        sub.add_parser("list", help="list the keys (never the keys themselves)")
        revoke = sub.add_parser("revoke", help="revoke a key: it is refused from now on")
        revoke.add_argument("key", metavar="NAME_OR_ID")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "create":
                api_key, key = services.create_api_key(name=options["name"])
                self.stdout.write(f"created API key {api_key.pk} {api_key.name}")
                self.stdout.write(key)
                self.stderr.write("the key is shown only now: store it safely")
            elif options["action"] == "list":
                self._list()
            else:
                api_key = services.revoke_api_key(options["key"])
                when = api_key.revoked_at.isoformat(timespec="seconds") if api_key.revoked_at \
                    else ""
                self.stdout.write(f"revoked API key {api_key.pk} {api_key.name} at {when}")
        except services.ApiKeyError as exc:
            raise CommandError(str(exc)) from None
        except DatabaseError as exc:
            raise database_problem(exc) from None

    def _list(self) -> None:
        keys = list(selectors.api_keys())
        if not keys:
            self.stdout.write("no API keys")
            return
        self.stdout.write(f"{'id':>4}  {'name':<30} {'prefix':<13} {'created':<20} "
                          f"{'last used':<20} status")
        for key in keys:
            created = key.created_at.isoformat(timespec="seconds")[:19]
            used = key.last_used_at.isoformat(timespec="seconds")[:19] if key.last_used_at \
                else "never"
            status = (f"revoked {key.revoked_at.isoformat(timespec='seconds')[:19]}"
                      if key.revoked_at else "active")
            self.stdout.write(f"{key.pk:>4}  {key.name:<30} {key.prefix:<13} {created:<20} "
                              f"{used:<20} {status}")
