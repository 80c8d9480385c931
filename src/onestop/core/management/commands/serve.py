from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Serve onestop with gunicorn, a production WSGI server (never Django's runserver). "
        "Static files are served by whitenoise from the collected folder."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on")
        parser.add_argument(
            "--workers", type=int, default=max(2, (os.cpu_count() or 1) * 2),
            help="worker processes (default: twice the cores)",
        )
        parser.add_argument(
            "--with-worker", action="store_true",
            help="also start `onestop worker` (notifications) beside the server, for one "
            "machine; in production run the worker as its own service",
        )
        parser.add_argument(
            "--govstack", action="store_true",
            help="serve only the GovStack Registration API at the root (with /healthcheck), "
            "for an information mediator's security server (docs/govstack.md)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 < options["port"] < 65536:
            raise CommandError("--port must be between 1 and 65535")
        if options["workers"] < 1:
            raise CommandError("--workers must be at least 1")
        argv = [
            sys.executable, "-m", "gunicorn", "onestop.wsgi:application",
            "--bind", f"{options['host']}:{options['port']}",
            "--workers", str(options["workers"]),
            "--access-logfile", "-",
            # The path without its query string and no client address: query strings
            # may carry access codes, and addresses are personal data.
            "--access-logformat", '"%(m)s %(U)s" %(s)s %(b)s %(M)sms',
        ]
        if options["govstack"]:
            # read by settings.py in the server's processes: the façade's URLconf, and the
            # Information-Mediator-Client header trusted as the mediator's member system
            os.environ["ONESTOP_GOVSTACK_GATEWAY"] = "1"
        if options["with_worker"]:
            # Same process group: Ctrl-C in the terminal stops both.
            subprocess.Popen([sys.executable, "-m", "onestop.cli", "worker"])
        what = "onestop GovStack Registration API" if options["govstack"] else "onestop"
        self.stdout.write(f"{what} on http://{options['host']}:{options['port']}/")
        sys.stdout.flush()
        os.execv(sys.executable, argv)  # noqa: S606 (replacing this process with the server)
