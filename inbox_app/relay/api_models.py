"""Response models of the core /v1 routes, for the OpenAPI description (/openapi.json).

They allow extra fields: the relay may add fields to its answers without a new version.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class UserInfo(Open):
    id: int
    username: str
    display_name: str
    role: str


class LoginResult(Open):
    token: str
    user: UserInfo


class Ok(Open):
    ok: bool


class FeedEvent(Open):
    seq: int
    type: str
    data: dict[str, Any]


class SyncPage(Open):
    events: list[FeedEvent]
    next: int
    more: bool


class MessageResult(Open):
    message: dict[str, Any]


class ErrorBody(Open):
    error: str
    message: str
