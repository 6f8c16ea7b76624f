"""An administrator's view of the relay's audit trail: filtered pages, the hash-chain check,
CSV export (relay: ``GET /v1/audit``, ``GET /v1/admin/audit/verify``).

An admin either is the desktop's signed-in user (the engine's session is reused) or signs
in just for this window (the practice PC stays signed in as, say, the receptionist).
Nothing here is cached: the audit trail stays on the relay.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

import httpx

from inbox_app.client.api import RelayClient, RelayError
from inbox_app.client.records import SignedInUser

EXPORT_COLUMNS = (
    "id",
    "at",
    "user_id",
    "username",
    "action",
    "conversation_id",
    "detail",
    "address",
    "hash",
)


@dataclass(frozen=True, slots=True)
class AuditFilters:
    user: str | None = None
    patient: str | None = None
    action: str | None = None
    since: str | None = None  # ISO 8601
    until: str | None = None

    def params(self) -> dict[str, str]:
        return {
            k: v.strip()
            for k, v in (
                ("user", self.user),
                ("patient", self.patient),
                ("action", self.action),
                ("since", self.since),
                ("until", self.until),
            )
            if v and v.strip()
        }


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[dict[str, Any]]
    more: bool
    actions: list[str]


@dataclass(frozen=True, slots=True)
class ChainCheck:
    ok: bool
    problems: list[str]


class NotAdmin(RelayError):
    """Signed in, but not as an administrator."""


class AuditSession:
    """Reads the audit trail as an administrator."""

    def __init__(self, client: RelayClient, *, owned: bool = False) -> None:
        self._client = client
        self._owned = owned  # signed in for this window: signed out when it closes

    @classmethod
    def for_relay(
        cls, relay_url: str, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> AuditSession:
        return cls(RelayClient(relay_url, transport=transport), owned=True)

    @property
    def owned(self) -> bool:
        """Signed in for this window only (so it signs out when the window closes)."""
        return self._owned

    @property
    def signed_in(self) -> bool:
        return bool(self._client.token)

    async def login(self, username: str, password: str, code: str | None = None) -> SignedInUser:
        """Sign in for this window; ``NotAdmin`` (and signed out again) for other roles."""
        user = await self._client.login(username, password, code=code)
        if user.role != "admin":
            await self.close()
            raise NotAdmin("Only administrators see the audit trail.", status=403)
        return user

    async def page(
        self,
        filters: AuditFilters,
        *,
        before: int | None = None,
        limit: int = 500,
        export: bool = False,
    ) -> AuditPage:
        params: dict[str, Any] = {**filters.params(), "limit": limit}
        if before is not None:
            params["before"] = before
        if export:
            params["export"] = "true"
        body = await self._client.get("/v1/audit", params)
        try:
            return AuditPage(
                entries=[dict(e) for e in body["entries"]],
                more=bool(body["more"]),
                actions=[str(a) for a in body.get("actions") or []],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RelayError("The relay sent an unreadable answer.", status=200) from exc

    async def export(self, filters: AuditFilters, *, limit: int = 2000) -> str:
        """Every row matching ``filters`` as CSV (the relay records the export)."""
        rows: list[dict[str, Any]] = []
        before: int | None = None
        while True:
            page = await self.page(filters, before=before, limit=limit, export=before is None)
            rows += page.entries
            if not page.more or not page.entries:
                break
            before = int(page.entries[-1]["id"])
        return to_csv(rows)

    async def verify(self) -> ChainCheck:
        body = await self._client.get("/v1/admin/audit/verify")
        try:
            return ChainCheck(ok=bool(body["ok"]), problems=[str(p) for p in body["problems"]])
        except (KeyError, TypeError) as exc:
            raise RelayError("The relay sent an unreadable answer.", status=200) from exc

    async def close(self) -> None:
        if not self._owned:
            return
        if self._client.token:
            try:
                await self._client.post("/v1/auth/logout")
            except RelayError:
                pass  # the token expires by itself
            self._client.token = None
        await self._client.aclose()


def to_csv(entries: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=list(EXPORT_COLUMNS), lineterminator="\n", extrasaction="ignore"
    )
    writer.writeheader()
    for entry in entries:
        writer.writerow(
            {
                **entry,
                "detail": json.dumps(
                    entry.get("detail") or {}, separators=(",", ":"), sort_keys=True
                ),
            }
        )
    return out.getvalue()
