"""Graph API errors in Meta's shape: ``{"error": {message, type, code, error_data, …}}``."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from inbox_app.whatsapp.simulator.ids import new_trace_id

# Titles as Meta words them; used for "(#code) title" and for failed-status errors.
TITLES: dict[int, str] = {
    4: "Application request limit reached",
    100: "Invalid parameter",
    104: "An access token is required to request this resource",
    190: "Invalid OAuth access token - Cannot parse access token",
    368: "Temporarily blocked for policies violations",
    130429: "Rate limit hit",
    130472: "User's number is part of an experiment",
    131000: "Something went wrong",
    131026: "Message undeliverable",
    131030: "Recipient phone number not in allowed list",
    131031: "Account has been locked",
    131047: "Re-engagement message",
    131048: "Spam rate limit hit",
    131049: "This message was not delivered to maintain healthy ecosystem engagement.",
    131050: "User has stopped marketing messages",
    131051: "Unsupported message type",
    131053: "Media upload error",
    131056: "(Business Account, Consumer Account) pair rate limit hit",
    131057: "Account in maintenance mode",
    132000: "Number of parameters does not match the expected number of params",
    132001: "Template name does not exist in the translation",
}


def title_for(code: int) -> str:
    """Meta's title for ``code``, or a generic one for codes we do not know."""
    return TITLES.get(code, "Unknown error")


class GraphError(Exception):
    """A Graph API call answered with an error; raised in routes, rendered by the handler."""

    def __init__(
        self,
        *,
        http_status: int,
        code: int,
        details: str,
        title: str | None = None,
        subcode: int | None = None,
    ) -> None:
        super().__init__(f"graph error {code}")
        self.http_status = http_status
        self.code = code
        self.title = title or title_for(code)
        self.details = details
        self.subcode = subcode

    @classmethod
    def invalid_parameter(cls, details: str) -> GraphError:
        """400 / code 100, the catch-all for malformed requests."""
        return cls(http_status=400, code=100, details=details)

    def body(self) -> dict[str, Any]:
        """The JSON body Meta answers with."""
        error: dict[str, Any] = {
            "message": f"(#{self.code}) {self.title}",
            "type": "OAuthException",
            "code": self.code,
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        error["fbtrace_id"] = new_trace_id()
        return {"error": error}


_VERSION = re.compile(r"v\d+\.\d+")


def graph_headers(version: str | None = None) -> dict[str, str]:
    """Response headers Meta adds to every Graph answer (clients log the trace id)."""
    headers = {"x-fb-trace-id": new_trace_id(), "x-fb-request-id": new_trace_id()}
    if version and _VERSION.fullmatch(version):  # never echo an arbitrary path into a header
        headers["facebook-api-version"] = version
    return headers


async def graph_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Render a :class:`GraphError` (registered for that class only)."""
    assert isinstance(exc, GraphError)
    version = request.path_params.get("version")
    return JSONResponse(
        exc.body(),
        status_code=exc.http_status,
        headers=graph_headers(version if isinstance(version, str) else None),
    )
