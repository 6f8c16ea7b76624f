"""``inbox-app``: the desktop client's entry point (sign-in, or the self-contained demo)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import PySide6  # noqa: F401 (imported before qasync so qasync binds to PySide6)
import qasync
from PySide6.QtCore import (
    QCoreApplication,
    QMessageLogContext,
    QSettings,
    QTimer,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtWidgets import QApplication

from inbox_app.client.api import SECOND_FACTOR_CODES
from inbox_app.client.engine import EngineConfig
from ui.contract import SessionEngine
from ui.demo import DEMO_PASSWORD, DEMO_USER, DemoError, DemoStack
from ui.gc_guard import GuiThreadCollector
from ui.i18n import LANGUAGES, install_language
from ui.login import LoginDialog
from ui.main_window import MainWindow
from ui.preferences import Preferences
from ui.theme import THEMES, apply_theme

log = logging.getLogger("inbox.ui.app")

EngineFactory = Callable[[EngineConfig], SessionEngine]
StackFactory = Callable[[Path | None], DemoStack]

NO_SCREEN_DEMO = (
    "No screen found: the demo needs a desktop session; to get a picture instead run "
    "`inbox-app demo --screenshot inbox.png --quit-after 8` (it runs offscreen)."
)
NO_SCREEN_APP = (
    "No screen found: Praxis Inbox needs a desktop session (DISPLAY or WAYLAND_DISPLAY is not set)."
)
# Platforms that draw without a display server.
_HEADLESS_PLATFORMS = {"offscreen", "minimal", "vnc", "eglfs", "linuxfb", "vkkhrdisplay"}
DEFAULT_SCREENSHOT_DELAY = 8.0
SCREENSHOT_SETTLE = 0.6
LOCK_VIEW_DELAY = 1.0

ViewOpener = Callable[[MainWindow], None]
# ``--view`` choices: name → what shows that page. Later pages (escalations, reports, audit)
# join with ``register_view``; only views that exist are offered.
VIEW_OPENERS: dict[str, ViewOpener] = {
    "inbox": lambda window: window.show_page("inbox"),
    "settings": lambda window: window.show_page("settings"),
    "lock": lambda window: window.show_page("lock"),
}


def register_view(name: str, opener: ViewOpener) -> None:
    """Offer ``--view name``; ``opener(window)`` shows that page."""
    VIEW_OPENERS[name] = opener


def open_view(window: MainWindow, name: str) -> None:
    """Show the page ``--view`` named (the inbox for an unknown name)."""
    VIEW_OPENERS.get(name, VIEW_OPENERS["inbox"])(window)


def _show_escalations(window: MainWindow) -> None:
    from ui import escalations  # the queue page (issue 7)

    escalations.show(window)


def _show_audit(window: MainWindow) -> None:
    from ui import audit_view  # the administrator's audit trail (issue 7)

    audit_view.show_page(window)


def _show_reports(window: MainWindow) -> None:
    from ui import reports  # the clinic's figures (issue 8)

    reports.show_page(window)


register_view("escalations", _show_escalations)
register_view("audit", _show_audit)
register_view("reports", _show_reports)


def has_screen(env: dict[str, str] | None = None, platform: str = sys.platform) -> bool:
    """Whether Qt can open windows here (on Linux it needs X11/Wayland or a headless plugin)."""
    env = dict(os.environ) if env is None else env
    if not platform.startswith("linux"):
        return True
    qpa = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()
    if qpa in _HEADLESS_PLATFORMS:
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inbox-app", description="Praxis Inbox: answer patients on WhatsApp."
    )
    parser.add_argument("--relay", metavar="URL", help="relay address to sign in to")
    parser.add_argument("--data-dir", metavar="DIR", type=Path, help="where the local cache lives")
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser(
        "demo", help="start a local relay and WhatsApp simulator and sign in to them"
    )
    demo.add_argument(
        "--screenshot",
        metavar="FILE",
        type=Path,
        help="save a picture of the window and exit (runs offscreen)",
    )
    demo.add_argument(
        "--quit-after",
        metavar="SECONDS",
        type=float,
        help="exit after this many seconds (with --screenshot: default 8)",
    )
    demo.add_argument(
        "--lang",
        choices=[lang for lang in LANGUAGES if lang != "system"],
        help="user interface language (default: the system's); pseudo finds clipped text",
    )
    demo.add_argument("--theme", choices=THEMES, help="light or dark (default: light)")
    demo.add_argument(
        "--view",
        choices=list(VIEW_OPENERS),
        default="inbox",
        help="which page to show (for screenshots of every main state)",
    )
    demo.add_argument(
        "--conversation",
        metavar="NAME",
        help="with --screenshot: show the conversation whose name contains NAME",
    )
    demo.add_argument(
        "--data-dir",
        metavar="DIR",
        type=Path,
        dest="demo_data_dir",
        help="keep the demo's relay and cache here instead of a temporary folder",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the desktop client; returns the process exit code."""
    args = build_parser().parse_args(argv)
    demo = args.command == "demo"
    if demo and args.screenshot is not None:
        # Must happen before QApplication exists: the platform plugin is chosen then.
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if not has_screen():
        print(NO_SCREEN_DEMO if demo else NO_SCREEN_APP, file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app = _application()
    if demo:
        # The demo never writes the user's settings: its choices come from the flags.
        prefs = Preferences()
        prefs.set_language(args.lang or "system")
        prefs.set_theme(args.theme or "light")
        apply_preferences(app, prefs)
        coro: Coroutine[Any, Any, int] = run_demo(
            data_dir=args.demo_data_dir or args.data_dir,
            screenshot=args.screenshot,
            quit_after=args.quit_after,
            preferences=prefs,
            view=args.view,
            conversation=args.conversation,
        )
    else:
        prefs = Preferences(QSettings())
        apply_preferences(app, prefs)
        coro = run_app(relay_url=args.relay, data_dir=args.data_dir, preferences=prefs)
    try:
        return run_in_qt(app, coro)
    except KeyboardInterrupt:
        return 130


def _quiet_offscreen_notes(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    # The offscreen plugin warns on every shown window; that note is noise in a terminal.
    if "propagateSizeHints" in message:
        return
    print(message, file=sys.stderr)


def _application() -> QApplication:
    if os.environ.get("QT_QPA_PLATFORM", "").startswith("offscreen"):
        qInstallMessageHandler(_quiet_offscreen_notes)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0]])
    app.setApplicationName("Praxis Inbox")
    app.setOrganizationName("Praxis Inbox")
    # We end the session ourselves (after cleanup); Qt quitting first would stop the loop mid-task.
    app.setQuitOnLastWindowClosed(False)
    return app


def apply_preferences(app: QApplication, prefs: Preferences) -> None:
    """Install the chosen language and theme."""
    install_language(app, prefs.language)
    apply_theme(app, prefs.theme)


def connect_preferences(window: MainWindow, prefs: Preferences) -> None:
    """Language and theme changes from the settings page apply at once and are kept."""

    def on_language(language: str) -> None:
        prefs.set_language(language)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            install_language(app, language)  # Qt sends LanguageChange: windows retranslate

    def on_theme(theme: str) -> None:
        prefs.set_theme(theme)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)
        window.repaint_all()

    window.language_requested.connect(on_language)
    window.theme_requested.connect(on_theme)
    window.saved_views_changed.connect(prefs.set_saved_views)


def run_in_qt(app: QApplication, coro: Coroutine[Any, Any, int]) -> int:
    """Run ``coro`` to completion on a qasync loop over ``app``."""
    collector = GuiThreadCollector(app)
    collector.start()
    try:
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
            return runner.run(coro)
    finally:
        collector.stop()


def _default_engine(config: EngineConfig) -> SessionEngine:
    from inbox_app.client.engine import ClientEngine

    return ClientEngine(config)


def _demo_engine(config: EngineConfig) -> SessionEngine:
    from inbox_app.client.engine import ClientEngine

    # The demo's cache is thrown away on exit: keep its key out of the user's real keyring
    # (password-wrapped in the demo folder instead), so no orphaned entries pile up.
    return ClientEngine(config, keyring_backends=[])


@contextlib.contextmanager
def _stop_on_sigint(stop: asyncio.Event) -> Iterator[None]:
    """Ctrl-C sets ``stop``. A heartbeat timer lets Python see the signal while Qt waits."""
    loop = asyncio.get_running_loop()
    heartbeat = QTimer()
    heartbeat.setInterval(200)
    heartbeat.timeout.connect(lambda: None)
    heartbeat.start()
    try:
        previous = signal.signal(signal.SIGINT, lambda *_: loop.call_soon_threadsafe(stop.set))
    except ValueError:  # not the main thread (embedded use): no handler
        previous = None
    try:
        yield
    finally:
        heartbeat.stop()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


async def _first_of(*aws: Coroutine[Any, Any, Any]) -> None:
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def run_window(
    window: MainWindow,
    *,
    stop: asyncio.Event,
    quit_after: float | None = None,
    screenshot: Path | None = None,
    view: str = "inbox",
    conversation: str | None = None,
) -> int:
    """Show ``window`` until it is closed, ``stop`` is set or ``quit_after`` passes."""
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    window.show()
    window.start()
    open_view(window, view)
    if view == "lock" and window.can_lock():
        # Really lock (not just show the page), once the first load has had its moment,
        # so unlocking checks the password as it would after an idle lock.
        await asyncio.sleep(LOCK_VIEW_DELAY)
        window.lock()
    waits: list[Coroutine[Any, Any, object]] = [closed.wait(), stop.wait()]
    if screenshot is not None and quit_after is None:
        quit_after = DEFAULT_SCREENSHOT_DELAY
    if quit_after is not None:
        waits.append(asyncio.sleep(quit_after))
    await _first_of(*waits)
    code = 0
    if screenshot is not None and not closed.is_set() and view == "inbox":
        # The picture shows the most recent conversation, as a user arriving would see it
        # (or the one ``--conversation`` names, for a picture of something in particular).
        if conversation is None or not window.open_conversation_named(conversation):
            window.open_top_conversation(prefer_answered=True)
        await asyncio.sleep(SCREENSHOT_SETTLE)
    if screenshot is not None:
        if closed.is_set():
            print("The window was closed before the screenshot was taken.", file=sys.stderr)
            code = 1
        else:
            pixmap = window.grab()
            if pixmap.isNull() or not pixmap.save(str(screenshot)):
                print(f"Could not save the screenshot to {screenshot}.", file=sys.stderr)
                code = 1
            else:
                print(f"Screenshot saved to {screenshot}.")
    if not closed.is_set():
        window.close()
    return code


async def _close_quietly(engine: SessionEngine | None) -> None:
    if engine is None:
        return
    try:
        await engine.close()
    except Exception as exc:  # closing must not hide the real outcome
        log.warning("closing the engine failed: %s", type(exc).__name__)


async def run_demo(
    *,
    data_dir: Path | None = None,
    screenshot: Path | None = None,
    quit_after: float | None = None,
    stack_factory: StackFactory = DemoStack,
    engine_factory: EngineFactory = _demo_engine,
    preferences: Preferences | None = None,
    view: str = "inbox",
    conversation: str | None = None,
) -> int:
    """Start relay + simulator, sign in as the demo receptionist and show the inbox."""
    stop = asyncio.Event()
    stack = stack_factory(data_dir)
    engine: SessionEngine | None = None
    with _stop_on_sigint(stop):
        try:
            print("Starting the demo relay and WhatsApp simulator…", file=sys.stderr)
            await stack.start()
            engine = engine_factory(
                EngineConfig(relay_url=stack.relay_url, data_dir=stack.client_dir)
            )
            user = await engine.sign_in(DEMO_USER, DEMO_PASSWORD)
            await engine.start()
            prefs = preferences or Preferences()
            window = MainWindow(
                engine,
                user,
                language=prefs.language,
                theme=prefs.theme,
                saved_views=prefs.saved_views,
            )
            connect_preferences(window, prefs)
            # ``--view audit`` adds a demo administrator to it (ui/audit_view.py).
            window.demo_stack = stack  # type: ignore[attr-defined]
            return await run_window(
                window,
                stop=stop,
                quit_after=quit_after,
                screenshot=screenshot,
                view=view,
                conversation=conversation,
            )
        except DemoError as exc:
            print(f"The demo could not start: {exc}", file=sys.stderr)
            return 1
        except Exception as exc:  # synthetic data only, so the message may be shown in full
            print(f"The demo failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        finally:
            await _close_quietly(engine)
            stack.stop()


def _sign_in_problem(exc: Exception) -> str:
    detail = str(exc).strip()
    if detail and len(detail) < 200:
        return QCoreApplication.translate("app", "Signing in failed: %1").replace("%1", detail)
    return QCoreApplication.translate(
        "app", "Signing in failed. Check the relay address and your connection, then try again."
    )


def _second_factor_problem(exc: Exception) -> str:
    if getattr(exc, "code", None) == "totp_invalid":
        return QCoreApplication.translate(
            "app", "That code did not work (wrong, or used already). Enter the current one."
        )
    return QCoreApplication.translate(
        "app", "Your account has a second factor: enter the code from your authenticator app."
    )


async def run_app(
    *,
    relay_url: str | None = None,
    data_dir: Path | None = None,
    engine_factory: EngineFactory = _default_engine,
    preferences: Preferences | None = None,
) -> int:
    """Ask for credentials, sign in and show the inbox until the window is closed."""
    import platformdirs

    cache_dir = data_dir or platformdirs.user_data_path("praxis-inbox", appauthor=False)
    stop = asyncio.Event()
    dialog = LoginDialog(relay_url=relay_url or os.environ.get("INBOX_RELAY_URL", ""))
    engine: SessionEngine | None = None
    with _stop_on_sigint(stop):
        try:
            while True:
                creds = await dialog.ask()
                if creds is None:
                    return 0
                engine = engine_factory(EngineConfig(relay_url=creds.relay_url, data_dir=cache_dir))
                # The second-factor code only once the relay asked for it (engines without
                # TOTP support keep working).
                extra = {"code": creds.code} if creds.code else {}
                try:
                    user = await engine.sign_in(creds.username, creds.password, **extra)
                except Exception as exc:  # wrong password, relay down, locked cache…
                    log.warning("sign-in failed: %s", type(exc).__name__)
                    await _close_quietly(engine)
                    engine = None
                    if getattr(exc, "code", None) in SECOND_FACTOR_CODES:
                        dialog.ask_for_code(_second_factor_problem(exc), creds)
                    else:
                        dialog.show_error(_sign_in_problem(exc))
                    continue
                break
            dialog.deleteLater()
            await engine.start()
            prefs = preferences or Preferences()
            window = MainWindow(
                engine,
                user,
                language=prefs.language,
                theme=prefs.theme,
                saved_views=prefs.saved_views,
            )
            connect_preferences(window, prefs)
            from ui.crash_notice import offer_crash_reports
            from ui.launcher import crash_folder

            offer_crash_reports(window, crash_folder())
            return await run_window(window, stop=stop)
        finally:
            await _close_quietly(engine)


if __name__ == "__main__":
    sys.exit(main())
