"""The `onestop` console command: a thin wrapper over Django management commands.

`onestop load-pack kz` runs the `load_pack` management command; every command's
`--help` lists its options. docs/cli.md is the reference.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onestop.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.core.management import execute_from_command_line

        if args and not args[0].startswith("-"):
            args[0] = args[0].replace("-", "_")
        execute_from_command_line(["onestop", *args])
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"onestop: configuration problem: {exc}\n")
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
