"""``inbox-relay``: serve the relay, run the WhatsApp simulator, manage staff users."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from inbox_app.domain.roles import Role

from .cli_collab import add_commands as add_collab_commands
from .cli_ops import add_commands as add_ops_commands
from .dbkey import KeyProblem
from .logs import configure as configure_logs
from .settings import ConfigError, RelaySettings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app

    settings = RelaySettings.from_env()
    if args.demo:
        settings.demo = True
    try:
        settings.check_for_serving()
    except ConfigError as exc:
        print(f"inbox-relay: {exc}", file=sys.stderr)
        return 2
    # JSON lines (configured in main): uvicorn's loggers then write through ours.
    json_logs = settings.log_format == "json"
    app = create_app(settings)
    # Live SSE streams never end by themselves: give them a few seconds on shutdown, no more.
    extra: dict[str, Any] = {"log_config": None} if json_logs else {}
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        **extra,
        timeout_graceful_shutdown=3,
        # X-Forwarded-For is the relay's to judge (INBOX_TRUSTED_PROXIES, access.py), not
        # uvicorn's: by default it believes the header from any local process.
        proxy_headers=False,
    )
    return 0


def _simulator(args: argparse.Namespace) -> int:
    import os

    from inbox_app.whatsapp.simulator import SimulatorSettings, run
    from inbox_app.whatsapp.simulator.templates_api import default_templates, result_templates

    env = os.environ
    missing = [
        name
        for name in ("WHATSAPP_APP_SECRET", "WHATSAPP_ACCESS_TOKEN", "WHATSAPP_PHONE_NUMBER_ID")
        if not env.get(name)
    ]
    if missing:
        print(f"inbox-relay simulator: set {', '.join(missing)}", file=sys.stderr)
        return 2
    settings = SimulatorSettings(
        app_secret=env["WHATSAPP_APP_SECRET"],
        access_token=env["WHATSAPP_ACCESS_TOKEN"],
        phone_number_id=env["WHATSAPP_PHONE_NUMBER_ID"],
        webhook_url=args.webhook_url,
        scenario=Path(args.scenario) if args.scenario else None,
        # The clinic's catalogue plus the phi-safe result notice and one-time code.
        templates=default_templates() + result_templates(),
    )
    run(settings, args.host, args.port)
    return 0


def _user_add(args: argparse.Namespace) -> int:
    from .auth import Accounts, UserExists
    from .db import Database

    settings = RelaySettings.from_env()
    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass("Password: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    db = Database(settings.database_url)
    try:
        db.create_schema()
        accounts = Accounts(db, idle_seconds=0, max_seconds=0)
        user = accounts.add_user(args.name, password, Role(args.role), args.display_name)
    except UserExists:
        print(f"inbox-relay: user {args.name!r} exists already", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"inbox-relay: {exc}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    print(f"added user {user.username} ({user.role.value}), id {user.id}")
    return 0


def _backup_passphrase() -> str:
    import os

    given = os.environ.get("INBOX_BACKUP_PASSPHRASE")
    if given:
        return given
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("Backup passphrase: ")
    return sys.stdin.readline().rstrip("\r\n")


def _backup(args: argparse.Namespace) -> int:
    from .backup import BackupError, backup

    try:
        size = backup(RelaySettings.from_env().database_url, Path(args.file), _backup_passphrase())
    except BackupError as exc:
        print(f"inbox-relay backup: {exc}", file=sys.stderr)
        return 2
    print(f"backup written: {args.file} ({size} bytes, encrypted)")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from .backup import BackupError, restore

    try:
        restore(
            RelaySettings.from_env().database_url,
            Path(args.file),
            _backup_passphrase(),
            force=args.force,
        )
    except (BackupError, OSError) as exc:
        print(f"inbox-relay restore: {exc}", file=sys.stderr)
        return 2
    print("restored; start the relay again")
    return 0


def _import(args: argparse.Namespace) -> int:
    from .db import Database
    from .importer import load_fhir, parse_csv
    from .patients import Registry
    from .store import Store

    if args.format == "fhir":
        batch = load_fhir(args.source)
    else:
        batch = parse_csv(Path(args.source).read_text(encoding="utf-8-sig"))
    db = Database(RelaySettings.from_env().database_url)
    try:
        db.create_schema()
        counts = Registry(Store(db)).upsert(batch.patients, batch.appointments)
    finally:
        db.dispose()
    problems = batch.problems + counts.problems
    print(
        f"imported {len(batch.patients)} patients and {len(batch.appointments)} appointments: "
        f"{counts.created} new, {counts.updated} changed, {counts.unchanged} unchanged"
    )
    for problem in problems:
        print(f"skipped: {problem}", file=sys.stderr)
    # 1: the rest was imported, but something was skipped and needs a look.
    return 1 if problems else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inbox-relay", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the relay (HTTP API and webhook)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--log-level", default="info")
    serve.add_argument(
        "--demo", action="store_true", help="allow an unencrypted SQLite database (no patients)"
    )
    serve.set_defaults(func=_serve)

    sim = sub.add_parser("simulator", help="run the local WhatsApp Cloud API simulator")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8090)
    sim.add_argument("--webhook-url", required=True, help="the relay's /webhook URL")
    sim.add_argument("--scenario", help="JSON file of virtual patients writing in")
    sim.set_defaults(func=_simulator)

    user = sub.add_parser("user", help="manage staff accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="add a staff user (password read from stdin)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--display-name")
    add.set_defaults(func=_user_add)
    add_collab_commands(sub, user_sub)  # user disable|role, team add|member, audit verify|export
    imp = sub.add_parser("import", help="import patients and appointments")
    imp_sub = imp.add_subparsers(dest="format", required=True)
    fhir = imp_sub.add_parser("fhir", help="a FHIR R4 bundle file or a FHIR server search URL")
    fhir.add_argument("source", metavar="FILE_OR_URL")
    fhir.set_defaults(func=_import)
    csv_cmd = imp_sub.add_parser("csv", help="a CSV file (columns: see docs/operations.md)")
    csv_cmd.add_argument("source", metavar="FILE")
    csv_cmd.set_defaults(func=_import)

    bak = sub.add_parser(
        "backup", help="encrypted online backup (passphrase from INBOX_BACKUP_PASSPHRASE or stdin)"
    )
    bak.add_argument("file")
    bak.set_defaults(func=_backup)
    res = sub.add_parser("restore", help="restore a backup into the stopped relay's database")
    res.add_argument("file")
    res.add_argument("--force", action="store_true", help="replace an existing database")
    res.set_defaults(func=_restore)
    add_ops_commands(sub)  # key new, rekey, retention run, patient export|erase
    return parser


def main(argv: list[str] | None = None) -> int:
    # Plain text, or JSON lines with INBOX_LOG_FORMAT=json (logs.py), from the first line.
    configure_logs(os.environ.get("INBOX_LOG_FORMAT", "text").strip().lower())
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except (KeyProblem, ConfigError) as exc:
        # A missing, wrong or badly stored key: one clear sentence, no traceback.
        print(f"inbox-relay: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
