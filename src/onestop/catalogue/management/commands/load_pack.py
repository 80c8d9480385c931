from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onestop.catalogue.packs import PackInvalid, read_pack, resolve_pack_path, shipped_pack_codes
from onestop.catalogue.services import load_pack


class Command(BaseCommand):
    help = (
        "Load or update a country pack: a shipped one by its code (kz, uz) or a folder. "
        "The whole pack is validated first; an invalid pack is refused with every problem "
        "listed and nothing written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("pack", help=f"a shipped pack ({', '.join(shipped_pack_codes())}) "
                            "or the path of a pack folder")
        parser.add_argument("--check", action="store_true",
                            help="validate only; write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        path = resolve_pack_path(options["pack"])
        try:
            pack = read_pack(path)
        except PackInvalid as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"pack {options['pack']} refused: {len(exc.problems)} problem(s); "
                "nothing was written"
            ) from None
        if options["check"]:
            self.stdout.write(f"pack {pack.code} is valid: {len(pack.services)} services")
            return
        report = load_pack(pack)
        for line in report.lines():
            self.stdout.write(f"  {line}")
        verdict = "loaded" if report.changed else "already up to date"
        self.stdout.write(self.style.SUCCESS(f"pack {pack.code} {verdict}"))
