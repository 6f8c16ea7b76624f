"""The ``inbox-app`` entry point: arguments, the no-screen message, the demo session flow."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtGui import QImage

from inbox_app.client.engine import EngineConfig
from tests.test_ui_support import (
    FakeEngine,
    demo_engine,
    run,
)
from ui import app as app_module
from ui.app import NO_SCREEN_DEMO, build_parser, has_screen, main, run_demo
from ui.demo import DemoError, DemoStack, free_port

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore("propagateSizeHints"),
]


def test_has_screen_rules() -> None:
    assert not has_screen({}, "linux")
    assert has_screen({"DISPLAY": ":0"}, "linux")
    assert has_screen({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert has_screen({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert not has_screen({"QT_QPA_PLATFORM": "xcb"}, "linux")
    assert has_screen({}, "darwin") and has_screen({}, "win32")


def test_no_screen_prints_one_sentence_and_exits_2(monkeypatch, capsys) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert main(["demo"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == NO_SCREEN_DEMO
    assert "--screenshot" in err
    assert main([]) == 2


def test_screenshot_forces_offscreen(monkeypatch) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    seen: dict[str, object] = {}

    def fake_run(app: object, coro: object) -> int:
        seen["platform"] = os.environ.get("QT_QPA_PLATFORM")
        coro.close()  # type: ignore[attr-defined]
        return 0

    monkeypatch.setattr(app_module, "run_in_qt", fake_run)
    assert main(["demo", "--screenshot", "x.png", "--quit-after", "1"]) == 0
    assert seen["platform"] == "offscreen"


def test_parser() -> None:
    args = build_parser().parse_args(
        ["demo", "--screenshot", "a.png", "--quit-after", "3", "--data-dir", "/tmp/d"]
    )
    assert args.command == "demo"
    assert args.screenshot == Path("a.png") and args.quit_after == 3.0
    assert args.demo_data_dir == Path("/tmp/d")
    args = build_parser().parse_args(["--relay", "https://r.example", "--data-dir", "/tmp/c"])
    assert args.command is None and args.relay == "https://r.example"


class FakeStack(DemoStack):
    """A DemoStack that starts nothing (the real processes are the lead's e2e test)."""

    fail = False
    stopped = False

    async def start(self) -> None:
        if self.fail:
            raise DemoError("The demo relay did not answer within 20 s.")
        self.client_dir.mkdir(parents=True, exist_ok=True)
        self.relay_port = 1

    def stop(self) -> None:
        FakeStack.stopped = True
        super().stop()


@pytest.fixture
def no_quit_on_close(qapp):
    qapp.setQuitOnLastWindowClosed(False)
    yield
    qapp.setQuitOnLastWindowClosed(True)


def test_demo_screenshot_flow_with_fakes(qloop, tmp_path, no_quit_on_close, capsys) -> None:
    engines: list[FakeEngine] = []
    configs: list[EngineConfig] = []

    def engine_factory(config: EngineConfig) -> FakeEngine:
        configs.append(config)
        engines.append(demo_engine())
        return engines[-1]

    shot = tmp_path / "inbox.png"
    data = tmp_path / "demo"
    FakeStack.stopped = False
    code = run(
        qloop,
        run_demo(
            data_dir=data,
            screenshot=shot,
            quit_after=0.3,
            stack_factory=FakeStack,
            engine_factory=engine_factory,  # type: ignore[arg-type]
        ),
    )
    assert code == 0, capsys.readouterr().err
    image = QImage(str(shot))
    assert not image.isNull() and image.width() > 800
    assert engines[0].started and engines[0].closed
    assert configs[0].data_dir == data / "client"
    assert FakeStack.stopped
    assert data.exists()  # a given --data-dir is kept


def test_demo_reports_a_relay_that_did_not_start(qloop, tmp_path, capsys) -> None:
    class Failing(FakeStack):
        fail = True

    code = run(
        qloop,
        run_demo(
            screenshot=tmp_path / "x.png",
            quit_after=0.1,
            stack_factory=Failing,
            engine_factory=lambda cfg: pytest.fail("no engine without a relay"),
        ),
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "could not start" in err and "20 s" in err
    assert not (tmp_path / "x.png").exists()


def test_demo_stack_refuses_a_missing_scenario_and_cleans_up(qloop, tmp_path) -> None:
    stack = DemoStack(scenario=tmp_path / "nope.json")
    folder = stack.data_dir
    with pytest.raises(DemoError, match="scenario is missing"):
        run(qloop, stack.start())
    stack.stop()
    assert not folder.exists()


def test_free_port_is_a_loopback_port() -> None:
    assert 0 < free_port() < 65536


def test_qt_binding_does_not_leak_none_references() -> None:
    """Guards the PySide6 pin: 6.12.0 drops a None reference per void call on Python 3.11
    (and aborts the process after a few thousand calls)."""
    import sys

    from PySide6.QtCore import QObject

    obj = QObject()
    before = sys.getrefcount(None)
    for _ in range(10_000):
        obj.setObjectName("x")
    assert before - sys.getrefcount(None) < 100
