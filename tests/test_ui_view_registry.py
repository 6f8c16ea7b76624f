"""``--view``: pages register themselves (escalations, reports, audit join later); only views
that exist are offered, and the chosen one opens."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from tests.test_ui_support import FakeEngine, conversation, run, settle
from ui import app
from ui.main_window import MainWindow


def test_only_existing_views_are_offered_and_registered_ones_join(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(app, "VIEW_OPENERS", dict(app.VIEW_OPENERS))
    assert set(app.VIEW_OPENERS) >= {"inbox", "settings", "lock"}
    for later in ("escalations", "reports", "audit"):
        if later not in app.VIEW_OPENERS:
            with pytest.raises(SystemExit):
                app.build_parser().parse_args(["demo", "--view", later])
            assert "invalid choice" in capsys.readouterr().err
    opened: list[MainWindow] = []
    app.register_view("reports-test", opened.append)
    args = app.build_parser().parse_args(["demo", "--view", "reports-test"])
    assert args.view == "reports-test"


def test_open_view_runs_the_registered_opener(
    qtbot, qloop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app, "VIEW_OPENERS", dict(app.VIEW_OPENERS))
    win = MainWindow(FakeEngine([conversation(1, "Lena Hoffmann", 1.0)]))
    qtbot.addWidget(win)
    win.show()
    win.start()
    run(qloop, settle(0.1))
    opened: list[MainWindow] = []
    app.register_view("audit-test", opened.append)
    app.open_view(win, "audit-test")
    assert opened == [win]
    app.open_view(win, "settings")
    assert win.current_page() == "settings"
    app.open_view(win, "no-such-page")  # an unknown name shows the inbox
    assert win.current_page() == "inbox"
