"""The demo launcher: a relay on SQLite and the WhatsApp simulator, in a throwaway folder.

Everything here is plain subprocess and asyncio work; the Qt side is in ``ui.app``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import IO, Any

import httpx

from inbox_app.relay.demo_seed import seed as seed_demo

log = logging.getLogger("inbox.ui.demo")

DEMO_USER = "demo"
DEMO_PASSWORD = "demo-password"  # noqa: S105 (a throwaway account in a temp database)
DEMO_DISPLAY_NAME = "Anna Empfang"
DEMO_ROLE = "receptionist"
HEALTH_TIMEOUT = 20.0
STOP_GRACE = 5.0

# Fixed values: the simulator and relay only need to agree with each other.
DEMO_ENV = {
    "WHATSAPP_APP_SECRET": "demo-app-secret",
    "WHATSAPP_VERIFY_TOKEN": "demo-verify-token",
    "WHATSAPP_ACCESS_TOKEN": "demo-access-token",
    "WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
    # Synthetic patients only: the demo relay may run without a database key.
    "INBOX_DEMO": "1",
}

SCENARIO = Path(__file__).resolve().parent.parent / "resources" / "demo" / "scenario.json"
# A second (synthetic) staff member who answers some patients, so the inbox shows teamwork.
COLLEAGUE = SCENARIO.with_name("colleague.json")
# The demo clinic's reminder settings (appointments.json: its synthetic appointments).
REMINDERS = SCENARIO.with_name("reminders.json")


class DemoError(Exception):
    """The demo could not start (an environment fault, shown to the user as one sentence)."""


def free_port() -> int:
    """A free loopback port (there is a small race until the server binds it; fine for a demo)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DemoStack:
    """Starts and stops the demo relay and simulator; use ``async with`` or start()/stop()."""

    def __init__(self, data_dir: Path | None = None, *, scenario: Path = SCENARIO) -> None:
        self._own_dir = data_dir is None
        self.data_dir = (
            Path(tempfile.mkdtemp(prefix="praxis-inbox-demo-")) if data_dir is None else data_dir
        )
        self.relay_dir = self.data_dir / "relay"
        self.client_dir = self.data_dir / "client"
        self.scenario = scenario
        self.relay_port = 0
        self.sim_port = 0
        self._procs: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []
        self._colleague: asyncio.Task[None] | None = None

    @property
    def relay_url(self) -> str:
        return f"http://127.0.0.1:{self.relay_port}"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(DEMO_ENV)
        env["WHATSAPP_GRAPH_URL"] = f"http://127.0.0.1:{self.sim_port}"
        env["INBOX_DATABASE_URL"] = f"sqlite:///{self.relay_dir / 'relay.db'}"
        # Reminders, their buttons and the satisfaction question (docs/reminders.md); the
        # WABA id lets the relay sync the simulator's approved templates.
        env["INBOX_REMINDERS_CONFIG"] = str(REMINDERS)
        env.setdefault("WHATSAPP_WABA_ID", "102290129340398")
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def _cli(self, *args: str) -> list[str]:
        if getattr(sys, "frozen", False):
            # Inside the PyInstaller bundle there is no Python to run -m with: the app's
            # own executable runs the relay CLI (ui/launcher.py).
            return [sys.executable, "relay", *args]
        return [sys.executable, "-m", "inbox_app.relay.cli", *args]

    async def start(self) -> None:
        """Create the demo user, start relay and simulator, wait until the relay is healthy."""
        if not self.scenario.is_file():
            raise DemoError(
                f"The demo scenario is missing ({self.scenario}); the install looks incomplete."
            )
        self.relay_dir.mkdir(parents=True, exist_ok=True)
        self.client_dir.mkdir(parents=True, exist_ok=True)
        self.relay_port, self.sim_port = free_port(), free_port()
        while self.sim_port == self.relay_port:
            self.sim_port = free_port()
        env = self._env()
        colleague = (
            json.loads(COLLEAGUE.read_text(encoding="utf-8")) if COLLEAGUE.is_file() else None
        )
        await asyncio.get_running_loop().run_in_executor(None, self._add_user, env)
        # Synthetic patients and appointments relative to now, so reminders go out at once.
        database_url = env["INBOX_DATABASE_URL"]
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: seed_demo(database_url, folder=SCENARIO.parent)
        )
        if colleague is not None:
            person = colleague["user"]
            await asyncio.get_running_loop().run_in_executor(
                None,
                lambda: self._add_user(
                    env,
                    username=person["username"],
                    password=person["password"],
                    role=person["role"],
                    display_name=person["display_name"],
                ),
            )
        self._spawn(
            "relay",
            self._cli("serve", "--host", "127.0.0.1", "--port", str(self.relay_port)),
            env,
        )
        self._spawn(
            "simulator",
            self._cli(
                "simulator",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.sim_port),
                "--webhook-url",
                f"{self.relay_url}/webhook",
                "--scenario",
                str(self.scenario),
            ),
            env,
        )
        await self._wait_healthy()
        if colleague is not None:
            self._colleague = asyncio.create_task(
                play_colleague(self.relay_url, colleague), name="demo-colleague"
            )

    def _add_user(
        self,
        env: dict[str, str],
        *,
        username: str = DEMO_USER,
        password: str = DEMO_PASSWORD,
        role: str = DEMO_ROLE,
        display_name: str = DEMO_DISPLAY_NAME,
    ) -> None:
        log_path = self.relay_dir / f"user-add-{username}.log"
        cmd = self._cli("user", "add", username, "--role", role, "--display-name", display_name)
        try:
            with log_path.open("wb") as out:
                result = subprocess.run(
                    cmd,
                    input=f"{password}\n".encode(),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=self.relay_dir,
                    timeout=60,
                    check=False,
                )
        except subprocess.TimeoutExpired as exc:
            raise DemoError(f"Creating the demo user timed out; see {log_path}.") from exc
        if result.returncode != 0:
            raise DemoError(
                f"Creating the demo user failed (exit {result.returncode}); see {log_path}."
            )

    async def add_user(self, username: str, password: str, *, role: str, display_name: str) -> None:
        """Another synthetic staff account on the running demo relay (e.g. an admin for
        ``--view audit``)."""
        env = self._env()
        await asyncio.get_running_loop().run_in_executor(
            None,
            lambda: self._add_user(
                env, username=username, password=password, role=role, display_name=display_name
            ),
        )

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        out = (self.relay_dir / f"{name}.log").open("wb")
        self._logs.append(out)
        proc = subprocess.Popen(  # logs go to files, not the terminal
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=self.relay_dir,
        )
        self._procs.append(proc)
        log.info("started %s (pid %d)", name, proc.pid)

    async def _wait_healthy(self) -> None:
        deadline = time.monotonic() + HEALTH_TIMEOUT
        url = f"{self.relay_url}/healthz"
        async with httpx.AsyncClient(timeout=2.0) as client:
            while True:
                for proc, name in zip(self._procs, ("relay", "simulator"), strict=False):
                    if proc.poll() is not None:
                        raise DemoError(
                            f"The demo {name} stopped at start (exit {proc.returncode}); "
                            f"see {self.relay_dir / (name + '.log')}."
                        )
                try:
                    response = await client.get(url)
                    if response.status_code == 200 and self._port_open(self.sim_port):
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise DemoError(
                        f"The demo relay did not answer within {HEALTH_TIMEOUT:.0f} s; "
                        f"see the logs in {self.relay_dir}."
                    )
                await asyncio.sleep(0.2)

    @staticmethod
    def _port_open(port: int) -> bool:
        # Loopback connects answer at once (accepted or refused), so this never stalls the UI.
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        """Terminate both processes (then kill after 5 s) and remove a temporary folder."""
        if self._colleague is not None:
            self._colleague.cancel()
            self._colleague = None
        for proc in self._procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self._procs:
            try:
                proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_GRACE)
        self._procs.clear()
        for out in self._logs:
            out.close()
        self._logs.clear()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    async def __aenter__(self) -> DemoStack:
        try:
            await self.start()
        except BaseException:
            self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop()


async def play_colleague(relay_url: str, colleague: dict[str, Any]) -> None:
    """Answer a few scenario patients through the relay API, as a second staff member would."""
    person = colleague["user"]
    t0 = time.monotonic()
    try:
        async with httpx.AsyncClient(base_url=relay_url, timeout=10) as client:
            login = await client.post(
                "/v1/auth/login",
                json={"username": person["username"], "password": person["password"]},
            )
            login.raise_for_status()
            client.headers["Authorization"] = f"Bearer {login.json()['token']}"
            for reply in sorted(colleague["replies"], key=lambda r: float(r["after"])):
                await asyncio.sleep(max(0.0, t0 + float(reply["after"]) - time.monotonic()))
                conversation_id = await _conversation_of(client, str(reply["to"]))
                if conversation_id is None:
                    continue
                await client.post(
                    f"/v1/conversations/{conversation_id}/messages",
                    json={"client_id": str(uuid.uuid4()), "type": "text", "text": reply["text"]},
                )
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        log.warning("demo colleague stopped: %s", type(exc).__name__)


async def _conversation_of(client: httpx.AsyncClient, wa_id: str) -> int | None:
    """The conversation id for a patient number, waiting up to 10 s for it to exist."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        after = 0
        while True:
            page = (await client.get("/v1/sync", params={"after": after})).json()
            for event in page["events"]:
                if event["type"] == "conversation" and event["data"]["wa_id"] == wa_id:
                    return int(event["data"]["id"])
            after = page["next"]
            if not page["more"]:
                break
        await asyncio.sleep(0.5)
    return None
