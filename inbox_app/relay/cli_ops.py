"""``inbox-relay key new``, ``rekey``, ``retention run``, ``patient export|erase``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .dbkey import ServerKey, key_from_env, read_key_file, write_key_file
from .settings import RelaySettings


def _fail(command: str, message: str) -> int:
    print(f"inbox-relay {command}: {message}", file=sys.stderr)
    return 2


def _key_new(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        write_key_file(path, ServerKey.generate())
    except FileExistsError:
        return _fail("key new", f"{path} exists; a key file is never overwritten.")
    print(f"new relay key written to {path} (mode 0600); set INBOX_DB_KEY_FILE={path}")
    return 0


def _rekey(args: argparse.Namespace) -> int:
    from .media import default_media_dir
    from .rekey import rekey

    settings = RelaySettings.from_env()
    new = read_key_file(Path(args.new_key_file))
    result = rekey(
        settings.database_url, default_media_dir(settings.database_url), key_from_env(), new
    )
    print(
        f"database: {result.database}; files re-encrypted: {result.files}, "
        f"already under the new key: {result.files_skipped}. "
        f"Now set INBOX_DB_KEY_FILE={args.new_key_file} and start the relay."
    )
    return 0


def _open() -> Any:
    from .db import Database

    db = Database(RelaySettings.from_env().database_url)
    db.create_schema()
    return db


def _retention_run(args: argparse.Namespace) -> int:
    from .retention import Retention, RetentionError, policy_of

    try:
        policy = policy_of(RelaySettings.from_env())
    except RetentionError as exc:
        return _fail("retention run", str(exc))
    if not policy.active:
        return _fail(
            "retention run",
            "no retention period is set (INBOX_RETENTION_MEDIA_DAYS, "
            "INBOX_RETENTION_MESSAGE_YEARS, INBOX_RETENTION_AUDIT_YEARS).",
        )
    db = _open()
    try:
        report = Retention(db, policy).run()
    finally:
        db.dispose()
    print("purged: " + ", ".join(f"{k} {v}" for k, v in asdict(report).items()))
    return 0


def _hold_add(args: argparse.Namespace) -> int:
    from .retention import RetentionError, place_hold

    db = _open()
    try:
        hold_id = place_hold(
            db, patient_id=args.patient, conversation_id=args.conversation, reason=args.reason
        )
    except RetentionError as exc:
        return _fail("retention hold add", str(exc))
    finally:
        db.dispose()
    print(f"legal hold {hold_id} placed")
    return 0


def _hold_release(args: argparse.Namespace) -> int:
    from .retention import RetentionError, release_hold

    db = _open()
    try:
        release_hold(db, args.hold_id)
    except RetentionError as exc:
        return _fail("retention hold release", str(exc))
    finally:
        db.dispose()
    print(f"legal hold {args.hold_id} released")
    return 0


def _hold_list(args: argparse.Namespace) -> int:
    from .retention import list_holds

    db = _open()
    try:
        for hold in list_holds(db):
            target = (
                f"patient {hold['patient_id']}"
                if hold["patient_id"]
                else f"conversation {hold['conversation_id']}"
            )
            print(f"{hold['id']}\t{target}\t{hold['reason']}")
    finally:
        db.dispose()
    return 0


def _patient_export(args: argparse.Namespace) -> int:
    from .privacy import NoSuchPatient, export

    db = _open()
    try:
        data = export(db, args.patient)
    except NoSuchPatient as exc:
        return _fail("patient export", str(exc))
    finally:
        db.dispose()
    target = Path(args.file)
    # The export is patient data: readable by the operator only.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, indent=2)
    print(f"exported to {target}: {len(data['conversations'])} conversation(s)")
    return 0


def _patient_erase(args: argparse.Namespace) -> int:
    from .privacy import NoSuchPatient, UnderLegalHold, erase

    db = _open()
    try:
        done = erase(db, args.patient)
    except (NoSuchPatient, UnderLegalHold) as exc:
        return _fail("patient erase", str(exc))
    finally:
        db.dispose()
    print(
        f"erased: {done.conversations} conversation(s), {done.messages} message(s), "
        f"{done.appointments} appointment(s), {done.files} file(s); desktops follow at "
        "their next sync"
    )
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the key, rekey, retention and patient commands to the ``inbox-relay`` parser."""
    key = sub.add_parser("key", help="the relay's encryption key")
    key_sub = key.add_subparsers(dest="key_command", required=True)
    new = key_sub.add_parser("new", help="write a new random key to FILE (mode 0600)")
    new.add_argument("file")
    new.set_defaults(func=_key_new)

    rk = sub.add_parser(
        "rekey",
        help="re-encrypt the database and media under a new key (relay stopped); the "
        "current key comes from INBOX_DB_KEY / INBOX_DB_KEY_FILE (none: encrypt a "
        "plaintext relay)",
    )
    rk.add_argument("--new-key-file", required=True, help="made with `inbox-relay key new`")
    rk.set_defaults(func=_rekey)

    ret = sub.add_parser("retention", help="retention purge and legal holds")
    ret_sub = ret.add_subparsers(dest="retention_command", required=True)
    ret_sub.add_parser("run", help="purge what is past its retention period now").set_defaults(
        func=_retention_run
    )
    hold = ret_sub.add_parser("hold", help="legal holds (exempt from purges)")
    hold_sub = hold.add_subparsers(dest="hold_command", required=True)
    add = hold_sub.add_parser("add", help="hold one patient or one conversation")
    target = add.add_mutually_exclusive_group(required=True)
    target.add_argument("--patient", type=int, help="relay patient id")
    target.add_argument("--conversation", type=int, help="relay conversation id")
    add.add_argument("--reason", required=True)
    add.set_defaults(func=_hold_add)
    release = hold_sub.add_parser("release", help="release a hold")
    release.add_argument("hold_id", type=int)
    release.set_defaults(func=_hold_release)
    hold_sub.add_parser("list", help="active holds").set_defaults(func=_hold_list)

    patient = sub.add_parser("patient", help="data-protection rights (DSGVO Art. 15/17)")
    patient_sub = patient.add_subparsers(dest="patient_command", required=True)
    exp = patient_sub.add_parser("export", help="everything held about a patient, as JSON")
    exp.add_argument("patient", metavar="ID", help="relay patient id, or wa:<number>")
    exp.add_argument("file")
    exp.set_defaults(func=_patient_export)
    era = patient_sub.add_parser("erase", help="erase a patient from the relay and desktops")
    era.add_argument("patient", metavar="ID", help="relay patient id, or wa:<number>")
    era.set_defaults(func=_patient_erase)
