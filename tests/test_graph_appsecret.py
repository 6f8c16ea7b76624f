"""``appsecret_proof`` on every Graph call the relay makes (Meta's "Require App Secret")."""

from __future__ import annotations

import asyncio
import hashlib
import hmac

import httpx

from inbox_app.whatsapp.graph import GraphClient, appsecret_proof


def test_every_graph_call_carries_the_proof_and_media_downloads_do_not() -> None:
    seen: list[httpx.URL] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        if request.url.host == "lookaside.example":
            return httpx.Response(200, content=b"\xff\xd8\xff")
        return httpx.Response(200, json={"messages": [{"id": "wamid.X"}], "data": []})

    async def scenario() -> None:
        graph = GraphClient(
            base_url="https://graph.example",
            access_token="token-123",
            phone_number_id="42",
            app_secret="app-secret-456",
            transport=httpx.MockTransport(answer),
        )
        try:
            await graph.send({"to": "4915100000001", "type": "text", "text": {"body": "x"}})
            await graph.message_templates("77")
            await graph.download("https://lookaside.example/file?sig=abc", max_bytes=100)
        finally:
            await graph.aclose()

    asyncio.run(scenario())
    expected = hmac.new(b"app-secret-456", b"token-123", hashlib.sha256).hexdigest()
    assert appsecret_proof("token-123", "app-secret-456") == expected
    graph_calls = [u for u in seen if u.host == "graph.example"]
    assert len(graph_calls) == 2
    assert {u.params.get("appsecret_proof") for u in graph_calls} == {expected}
    (download,) = [u for u in seen if u.host == "lookaside.example"]
    assert "appsecret_proof" not in download.params and download.params["sig"] == "abc"


def test_without_an_app_secret_no_proof_is_added() -> None:
    seen: list[httpx.URL] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={"messages": [{"id": "wamid.X"}]})

    async def scenario() -> None:
        graph = GraphClient(
            base_url="https://graph.example",
            access_token="t",
            phone_number_id="42",
            transport=httpx.MockTransport(answer),
        )
        try:
            await graph.send({"to": "1", "type": "text", "text": {"body": "x"}})
        finally:
            await graph.aclose()

    asyncio.run(scenario())
    assert "appsecret_proof" not in seen[0].params
