"""Malformed input always gets a JSON 4xx naming the problem: 400, 413, 415, 422, 404, 405."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from tests.services.conftest import ADMIN, PAUSE, Orchestrator

CAP = 65536


async def test_bad_json_is_400(orch: Orchestrator) -> None:
    headers = {**PAUSE, "Content-Type": "application/json"}
    response = await orch.client.post("/v1/pause", content=b'{"reason": ', headers=headers)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_json"
    assert "not valid JSON" in response.json()["message"]


async def test_validation_errors_name_the_field(orch: Orchestrator) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "body.reason"),
        ({"reason": ""}, "body.reason"),
        ({"reason": "x" * 201}, "body.reason"),
        ({"reason": "a\nb"}, "body.reason"),
        ({"reason": "x", "source": "deadman"}, "body.source"),
        ({"reason": "x", "extra": 1}, "body.extra"),
        ({"reason": 5}, "body.reason"),
    ]
    for body, field in cases:
        response = await orch.client.post("/v1/pause", json=body, headers=PAUSE)
        assert response.status_code == 422, body
        payload = response.json()
        assert payload["error"] == "validation_failed"
        assert payload["errors"][0]["field"] == field, body
        assert field in payload["message"]
    for body in ([1, 2], "text", None):
        response = await orch.client.post(
            "/v1/pause",
            content=json.dumps(body).encode(),
            headers={**PAUSE, "Content-Type": "application/json"},
        )
        assert response.status_code == 422, body
    force = await orch.client.post("/v1/resume", json={"force": "true"}, headers=ADMIN)
    assert force.status_code == 422
    assert force.json()["errors"][0]["field"] == "body.force"
    nan = await orch.client.put(
        "/v1/registry/chains/arbitrum",
        content=b'{"chain":"arbitrum","rpc_up":true,"sequencer_up":true,"head_age_s":NaN}',
        headers={**PAUSE, "Content-Type": "application/json"},
    )
    assert nan.status_code == 422
    assert nan.json()["errors"][0]["field"] == "body.head_age_s"
    limit = await orch.client.get("/v1/journal", params={"limit": 0})
    assert limit.status_code == 422
    assert limit.json()["errors"][0]["field"] == "query.limit"
    assert (await orch.status())["state"] == "running"


async def test_body_must_be_json(orch: Orchestrator) -> None:
    form = await orch.client.post("/v1/pause", data={"reason": "x"}, headers=PAUSE)
    assert form.status_code == 415
    assert "application/json" in form.json()["message"]
    bare = await orch.client.post("/v1/pause", content=b'{"reason":"x"}', headers=PAUSE)
    assert bare.status_code == 415
    # No body at all is fine where the body is optional.
    assert (await orch.client.post("/v1/resume", headers=ADMIN)).status_code == 200


async def test_body_cap_with_content_length(orch: Orchestrator) -> None:
    body = {"reason": "x", "detail": "d" * CAP}
    response = await orch.client.post("/v1/pause", json=body, headers=PAUSE)
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"
    assert "orchestrator.max_body_bytes" in response.json()["message"]


async def test_body_cap_without_content_length(orch: Orchestrator) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"reason": "x", "detail": "'
        for _ in range(20):
            yield b"d" * 8192
        yield b'"}'

    headers = {**PAUSE, "Content-Type": "application/json"}
    response = await orch.client.post("/v1/pause", content=chunks(), headers=headers)
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413
    assert (await orch.status())["state"] == "running"


async def test_body_cap_when_content_length_lies(orch: Orchestrator) -> None:
    """A client declaring 10 bytes but streaming 128 KiB is cut off at the cap."""
    sent: list[dict[str, Any]] = []
    chunk = b"d" * 16384
    pending = [chunk] * 8

    async def receive() -> dict[str, Any]:
        if pending:
            return {"type": "http.request", "body": pending.pop(), "more_body": bool(pending)}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/pause",
        "raw_path": b"/v1/pause",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"orchestrator"),
            (b"content-type", b"application/json"),
            (b"content-length", b"10"),
            (b"authorization", PAUSE["Authorization"].encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8700),
    }
    await orch.app(scope, receive, send)
    assert sent[0]["status"] == 413
    assert len(pending) == 3  # reading stopped once past the cap
    assert b"body_too_large" in sent[1]["body"]


async def test_unknown_route_and_method_are_json(orch: Orchestrator) -> None:
    missing = await orch.client.get("/v2/status")
    assert missing.status_code == 404
    assert missing.json()["error"] == "http_404"
    wrong = await orch.client.delete("/v1/status")
    assert wrong.status_code == 405
    assert wrong.json()["error"] == "http_405"
    declared = await orch.client.post(
        "/v1/pause",
        content=b"{}",
        headers={**PAUSE, "Content-Type": "application/json", "Content-Length": "x"},
    )
    assert declared.status_code == 400


async def test_openapi_documents_every_route(orch: Orchestrator) -> None:
    spec = (await orch.client.get("/openapi.json")).json()
    assert set(spec["paths"]) >= {
        "/v1/status",
        "/v1/pause",
        "/v1/resume",
        "/v1/alertmanager",
        "/v1/heartbeat",
        "/v1/registry",
        "/v1/registry/chains/{chain}",
        "/v1/registry/balances",
        "/v1/journal",
        "/metrics",
        "/healthz",
    }
    assert (await orch.client.get("/docs")).status_code == 200
