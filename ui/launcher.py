"""``inbox-app``'s entry point: what must hold before Qt loads, then the app.

Kept free of Qt imports so ``--version``, the bundle's own relay (``inbox-app relay …``,
which the demo starts inside a PyInstaller bundle) and the start-up checks run without it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from inbox_app import __version__

RELAY_COMMAND = "relay"
PREFLIGHT_FAILED = 3


def crash_folder() -> Path:
    import platformdirs

    return platformdirs.user_log_path("praxis-inbox", appauthor=False) / "crash-reports"


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--version"]:
        print(f"Praxis Inbox {__version__}")
        return 0
    if args[:1] == [RELAY_COMMAND]:
        from inbox_app.relay.cli import main as relay_main

        return relay_main(args[1:])
    from inbox_app.client import crash, preflight

    found = preflight.run()
    if not found.ok:
        print("Praxis Inbox cannot start:", file=sys.stderr)
        for problem in found.problems:
            print(f"  - {problem}", file=sys.stderr)
        return PREFLIGHT_FAILED
    crash.install(crash_folder())
    from ui.app import main as app_main  # Qt loads only now

    return app_main(args)


if __name__ == "__main__":
    sys.exit(main())
