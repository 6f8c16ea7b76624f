"""``inbox-relay user disable|role|totp``, ``team add|member``, ``audit verify|export``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from inbox_app.domain.roles import Role

from .auth import Accounts
from .db import Database
from .settings import RelaySettings


@contextmanager
def _database() -> Iterator[Database]:
    db = Database(RelaySettings.from_env().database_url)
    try:
        db.create_schema()
        yield db
    finally:
        db.dispose()


def _accounts(db: Database) -> Accounts:
    return Accounts(db, idle_seconds=0, max_seconds=0)


def _fail(message: str, code: int = 1) -> int:
    print(f"inbox-relay: {message}", file=sys.stderr)
    return code


def _user_disable(args: argparse.Namespace) -> int:
    from .auth import UnknownUser

    with _database() as db:
        try:
            _accounts(db).disable(args.name)
        except UnknownUser:
            return _fail(f"no user {args.name!r}")
    print(f"disabled user {args.name}; its sessions are revoked")
    return 0


def _user_wipe(args: argparse.Namespace) -> int:
    from .auth import UnknownUser

    with _database() as db:
        try:
            if args.clear:
                _accounts(db).clear_wipes(args.name)
            else:
                _accounts(db).order_wipe(args.name, device_id=args.device)
        except UnknownUser:
            return _fail(f"no user {args.name!r}")
    if args.clear:
        print(f"wipe orders for {args.name} cleared; they can sign in again")
    else:
        target = f"device {args.device}" if args.device else "every desktop"
        print(f"{args.name}: {target} erases its cache on next contact")
    return 0


def _user_role(args: argparse.Namespace) -> int:
    from .auth import UnknownUser

    with _database() as db:
        try:
            _accounts(db).set_role(args.name, Role(args.role))
        except UnknownUser:
            return _fail(f"no user {args.name!r}")
    print(f"user {args.name} is now {args.role}")
    return 0


def _user_totp(args: argparse.Namespace) -> int:
    """Show whether a user has a second factor; ``--reset`` removes it (lost phone)."""
    from sqlalchemy import select

    from .db import users

    with _database() as db:
        totp = _accounts(db).totp
        if args.reset:
            try:
                removed = totp.reset(args.name)
            except LookupError:
                return _fail(f"no user {args.name!r}")
            print(
                f"second factor of {args.name} removed; they sign in with their password"
                if removed
                else f"{args.name} had no second factor"
            )
            return 0
        with db.read() as conn:
            user_id = conn.execute(
                select(users.c.id).where(users.c.username == args.name)
            ).scalar_one_or_none()
        if user_id is None:
            return _fail(f"no user {args.name!r}")
        state = totp.status(int(user_id))
    word = "on" if state["enabled"] else "waiting for confirmation" if state["pending"] else "off"
    print(f"{args.name}: second factor {word}")
    return 0


def _team_add(args: argparse.Namespace) -> int:
    from .audit import Action, AuditLog
    from .teams import TeamExists, Teams

    with _database() as db:
        try:
            team = Teams(db).add(args.name)
        except TeamExists:
            return _fail(f"team {args.name!r} exists already")
        AuditLog(db).record(Action.TEAM_CREATED, detail={"team_id": team.id, "via": "cli"})
    print(f"added team {team.name}, id {team.id}")
    return 0


def _team_member(args: argparse.Namespace) -> int:
    from .audit import Action, AuditLog
    from .teams import Teams, UnknownName

    with _database() as db:
        try:
            team = Teams(db).set_member(args.team, args.user, member=not args.remove)
        except UnknownName as exc:
            return _fail(f"no team or user {str(exc)!r}")
        AuditLog(db).record(
            Action.TEAM_MEMBER,
            detail={"team_id": team.id, "username": args.user, "member": not args.remove},
        )
    print(f"team {team.name}: {len(team.members)} member(s)")
    return 0


def _audit_verify(_args: argparse.Namespace) -> int:
    from .audit import AuditLog

    with _database() as db:
        problems = AuditLog(db).verify()
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return _fail(f"the audit trail is NOT intact ({len(problems)} problem(s))", 3)
    print("audit trail intact")
    return 0


def _audit_export(args: argparse.Namespace) -> int:
    from .audit import Action, AuditLog, parse_time, to_csv

    try:
        since = parse_time(args.since) if args.since else None
        until = parse_time(args.until) if args.until else None
    except ValueError:
        return _fail("--since/--until must be ISO 8601 times", 2)
    with _database() as db:
        log = AuditLog(db)
        entries = log.entries(
            username=args.user, since=since, until=until, conversation_id=args.conversation
        )
        log.record(
            Action.EXPORT,
            conversation_id=args.conversation,
            detail={"rows": len(entries), "via": "cli"},
        )
    if args.format == "csv":
        sys.stdout.write(to_csv(entries))
    else:
        json.dump(entries, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    return 0


def add_commands(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    user_sub: argparse._SubParsersAction,  # type: ignore[type-arg]
) -> None:
    """Add the account, team and audit commands to the ``inbox-relay`` parser."""

    def command(
        parent: argparse._SubParsersAction,  # type: ignore[type-arg]
        name: str,
        help_text: str,
        func: Callable[[argparse.Namespace], int],
    ) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = parent.add_parser(name, help=help_text)
        parser.set_defaults(func=func)
        return parser

    disable = command(user_sub, "disable", "disable a user and revoke its sessions", _user_disable)
    disable.add_argument("name")
    wipe = command(
        user_sub, "wipe", "erase a user's desktop caches on their next contact", _user_wipe
    )
    wipe.add_argument("name")
    wipe.add_argument("--device", help="only this installation (its X-Inbox-Device id)")
    wipe.add_argument("--clear", action="store_true", help="end the user's wipe orders")
    totp = command(user_sub, "totp", "show or (--reset) remove a user's second factor", _user_totp)
    totp.add_argument("name")
    totp.add_argument("--reset", action="store_true", help="remove it (the user lost the device)")
    role = command(user_sub, "role", "change a user's role", _user_role)
    role.add_argument("name")
    role.add_argument("role", choices=[r.value for r in Role])

    team = sub.add_parser("team", help="manage teams")
    team_sub = team.add_subparsers(dest="team_command", required=True)
    team_add = command(team_sub, "add", "add a team", _team_add)
    team_add.add_argument("name")
    member = command(team_sub, "member", "add a user to a team (--remove: take out)", _team_member)
    member.add_argument("team")
    member.add_argument("user")
    member.add_argument("--remove", action="store_true")

    audit = sub.add_parser("audit", help="check and export the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    command(audit_sub, "verify", "check the hash chain (exit 0 when intact)", _audit_verify)
    export = command(audit_sub, "export", "write audit rows as CSV or JSON", _audit_export)
    export.add_argument("--format", choices=["csv", "json"], default="csv")
    export.add_argument("--user", help="only this user name")
    export.add_argument("--since", help="ISO 8601 time (UTC when no zone)")
    export.add_argument("--until", help="ISO 8601 time (UTC when no zone)")
    export.add_argument("--conversation", type=int, help="only this conversation id")
