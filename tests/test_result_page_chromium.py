"""The phi-safe result page in a real browser: Debian's headless Chromium, driven over the
DevTools protocol (``--remote-debugging-pipe``: no extra package), on a phone-sized screen,
in German and in English. Screenshots land in /tmp for a look."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import pytest

from inbox_app.relay.settings import RelaySettings
from tests.conftest import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN
from tests.pdfs import make_pdf
from tests.test_relay_results import ERIKA, Rig, code_of, sent_result, start_rig

SHOTS = Path("/tmp")


class Browser:
    """One headless Chromium; CDP messages are JSON separated by NUL on fds 3 (in), 4 (out)."""

    def __init__(self, profile: Path) -> None:
        exe = shutil.which("chromium") or shutil.which("chromium-browser")
        if exe is None:
            pytest.fail("chromium not installed (apt-get install chromium; .ci/run does)")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        args = [
            "--headless=new",
            "--remote-debugging-pipe",
            "--no-sandbox",  # CI runs as root in a container
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            f"--user-data-dir={profile}",
            "about:blank",
        ]
        # The shell moves our pipe ends onto fds 3 and 4, where Chromium expects them.
        self.proc = subprocess.Popen(
            ["sh", "-c", 'exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null 2>/dev/null', exe, *args],
            stdin=to_chrome_r,
            stdout=from_chrome_w,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next = 0
        self._answers: dict[int, Queue[dict[str, Any]]] = {}
        self.events: Queue[dict[str, Any]] = Queue()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.session = ""

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 1 << 16)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._lock:
                        queue = self._answers.get(message["id"])
                    if queue is not None:
                        queue.put(message)
                else:
                    self.events.put(message)

    def call(self, method: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        with self._lock:
            self._next += 1
            ident = self._next
            self._answers[ident] = Queue()
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        session = kw.get("session", self.session)
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        answer = self._answers[ident].get(timeout=30)
        if "error" in answer:
            raise AssertionError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    def wait_event(self, name: str, timeout: float = 15) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except Empty:
                raise AssertionError(f"no {name} within {timeout}s") from None
            if event.get("method") == name:
                return dict(event.get("params", {}))

    def open_tab(self, language: str) -> None:
        target = self.call("Target.createTarget", {"url": "about:blank"}, session="")
        attached = self.call(
            "Target.attachToTarget",
            {"targetId": target["targetId"], "flatten": True},
            session="",
        )
        self.session = attached["sessionId"]
        self.call("Page.enable")
        # A phone: 390×844 CSS pixels, touch, the patient's language.
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True},
        )
        self.call(
            "Network.setUserAgentOverride",
            {
                "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari/537.36",
                "acceptLanguage": language,
            },
        )

    def go(self, url: str) -> None:
        self._drain()
        self.call("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def _drain(self) -> None:
        while True:
            try:
                self.events.get_nowait()
            except Empty:
                return

    def js(self, expression: str) -> Any:
        answer = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return answer["result"].get("value")

    def submit(self, field: str, value: str, button: str) -> None:
        """Type into a field and press a button, as a patient would; waits for the page."""
        self._drain()
        self.js(
            f"document.querySelector({json.dumps(field)}).value = {json.dumps(value)};"
            f"document.querySelector({json.dumps(button)}).click();"
        )
        self.wait_event("Page.loadEventFired")

    def click(self, selector: str) -> None:
        self._drain()
        self.js(f"document.querySelector({json.dumps(selector)}).click()")
        self.wait_event("Page.loadEventFired")

    def text(self) -> str:
        return str(self.js("document.body.innerText"))

    def screenshot(self, name: str) -> Path:
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        path = SHOTS / name
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            self.call("Browser.close", session="")
        except (AssertionError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        self._reader.join(timeout=5)
        os.close(self._from_chrome)


@pytest.fixture
def relay_settings(tmp_path: Path) -> RelaySettings:
    """SQLite only: the page's storage logic is covered on PostgreSQL by the relay tests."""
    return RelaySettings(
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
        access_token=ACCESS_TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        graph_url="http://127.0.0.1:9",
        database_url=f"sqlite:///{tmp_path / 'relay.db'}",
    )


@pytest.fixture
def rig(
    relay_settings: RelaySettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Rig]:
    yield from start_rig(relay_settings, monkeypatch, tmp_path)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    b = Browser(tmp_path / "chromium-profile")
    try:
        yield b
    finally:
        b.close()


def test_patient_opens_the_result_on_a_phone_in_german(
    rig: Rig, browser: Browser, tmp_path: Path
) -> None:
    result, link = sent_result(rig)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.call(
        "Browser.setDownloadBehavior",
        {"behavior": "allow", "downloadPath": str(downloads), "eventsEnabled": True},
        session="",
    )
    browser.open_tab("de-DE,de;q=0.9")
    browser.go(link)
    assert "Geburtsdatum" in browser.text()
    # Fits a phone: nothing wider than the screen.
    assert browser.js("document.documentElement.scrollWidth") <= 390
    browser.screenshot("results_page_de.png")

    browser.submit("#dob", "01.02.1990", "#send-code")
    assert "Das Geburtsdatum stimmt nicht. Noch 4 Versuch(e)" in browser.text()
    browser.submit("#dob", "12.03.1980", "#send-code")
    assert "6-stelligen Code" in browser.text()
    browser.screenshot("results_page_code_de.png")
    code = code_of(rig.sent(2)[1])
    browser.submit("#code", code, "#verify")
    shown = browser.text()
    assert "Ihr Dokument" in shown and "Laborbefund.pdf" in shown and "1 Seite(n)" in shown
    browser.screenshot("results_page_view_de.png")
    assert rig.result_state(result["id"], "opened")["times"]["opened"] is not None

    browser.js("document.querySelector('#download').click()")
    deadline = time.monotonic() + 15
    while not (files := [p for p in downloads.iterdir() if p.suffix == ".pdf"]):
        assert time.monotonic() < deadline, list(downloads.iterdir())
        time.sleep(0.1)
    while files[0].stat().st_size < len(make_pdf(ERIKA)):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert files[0].read_bytes() == make_pdf(ERIKA)
    assert rig.result_state(result["id"], "downloaded")["state"] == "downloaded"

    # The link dies with time: the same browser, cookie and all, sees only the notice.
    rig.shift(expires_at=time.time() - 1)
    browser.go(link + "/view")
    assert "abgelaufen" in browser.text() and "Laborbefund" not in browser.text()


def test_patient_switches_to_english_and_is_locked_out_after_wrong_codes(
    rig: Rig, browser: Browser
) -> None:
    _result, link = sent_result(rig)
    browser.open_tab("de-DE")
    browser.go(link)
    assert "Geburtsdatum" in browser.text()
    browser.click("#lang")
    assert "Date of birth" in browser.text()
    browser.screenshot("results_page_en.png")
    browser.submit("#dob", "12.03.1980", "#send-code")
    assert "6-digit code" in browser.text()
    code = code_of(rig.sent(2)[1])
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        browser.submit("#code", wrong, "#verify")
        assert f"{left} attempt(s) left" in browser.text()
    browser.submit("#code", wrong, "#verify")
    assert "locked" in browser.text()
    browser.screenshot("results_page_locked_en.png")
    browser.go(link + "?lang=en")
    assert "locked" in browser.text() and "Date of birth" not in browser.text()
