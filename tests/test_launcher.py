"""Start-up: --version without Qt, clear words when SQLCipher or key storage is missing,
and crash reports that stay on the PC without patient data until the user decides."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMainWindow
from pytestqt.qtbot import QtBot

from inbox_app import __version__
from inbox_app.client import crash, preflight
from ui import launcher
from ui.crash_notice import CrashReportDialog, offer_crash_reports

SENTINEL = "Zaunkoenig-Beate-1971"


def test_version_prints_without_loading_qt() -> None:
    code = "import sys; from ui.launcher import main; main(['--version']); print('PySide6' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["Praxis", "Inbox", __version__, "False"]


def test_relay_subcommand_runs_the_relay_cli() -> None:
    # In a process of its own: the relay CLI configures logging for its whole process.
    code = "from ui.launcher import main; raise SystemExit(main(['relay', '--help']))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0
    assert "serve" in run.stdout


def test_this_machine_passes_the_preflight() -> None:
    found = preflight.run()
    assert found.ok, found.problems
    assert found.key_storage == "passphrase" or found.key_storage.startswith("keyring:")


def test_missing_sqlcipher_stops_the_start_with_one_clear_sentence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "sqlcipher3.dbapi2", None)  # import now fails
    monkeypatch.setattr(launcher, "crash_folder", lambda: Path("/nonexistent"))
    assert launcher.main([]) == launcher.PREFLIGHT_FAILED
    err = capsys.readouterr().err
    assert "SQLCipher is missing" in err
    assert "Traceback" not in err


def test_crash_report_has_the_code_location_but_no_patient_data(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from inbox_app.client import crash
        crash.install(Path({str(tmp_path)!r}))
        def open_patient(name):
            note = "Befund fuer " + name
            raise ValueError(note)
        open_patient({SENTINEL!r})
        """
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 1  # the crash still ends the program as before
    (report,) = crash.pending_reports(tmp_path)
    text = report.read_text()
    assert "builtins.ValueError" in text
    assert "in open_patient" in text
    assert SENTINEL not in text
    assert oct(report.stat().st_mode & 0o777) == "0o600"


def test_old_reports_are_pruned(tmp_path: Path) -> None:
    for i in range(crash.KEEP + 5):
        crash.write_report(tmp_path, RuntimeError, None, now=1_700_000_000 + i)
    assert len(crash.pending_reports(tmp_path)) == crash.KEEP


def test_user_reviews_copies_and_deletes_a_crash_report(qtbot: QtBot, tmp_path: Path) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    assert offer_crash_reports(window, tmp_path) is None  # nothing waiting: no button
    crash.write_report(tmp_path, KeyError, None, now=1_700_000_000)
    button = offer_crash_reports(window, tmp_path)
    assert button is not None and button.isVisibleTo(window)
    dialog = CrashReportDialog(crash.pending_reports(tmp_path), window)
    qtbot.addWidget(dialog)
    assert "builtins.KeyError" in dialog.text.toPlainText()
    dialog.copy_button.click()
    clipboard = QApplication.clipboard().text()
    assert clipboard.startswith("Praxis Inbox crash report")
    dialog.delete_button.click()
    assert crash.pending_reports(tmp_path) == []
