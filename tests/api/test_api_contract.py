"""The HTTP contract around the flow: errors, auth, listing, cancelling, events, screenshots, health."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.serving import ServerThread
from guardian_bridge_fake.harness import FakeTenantClient
from tests.api.conftest import TOKEN, bridge_settings
from tests.hosting import BridgeHost

PHONE = "+14155550123"


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "enrollment_id"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_unknown_enrollment_is_404(api: httpx.Client) -> None:
    error = _error(api.get("/v1/enrollments/enr_nope"), 404, "enrollment_not_found")
    assert error["enrollment_id"] == "enr_nope"
    _error(api.post("/v1/enrollments/enr_nope/code", json={"code": "123456"}), 404, "enrollment_not_found")


def test_step_out_of_order_is_409_and_changes_nothing(
    flavour: str, api: httpx.Client, start: Callable[..., dict[str, Any]]
) -> None:
    enrollment = start()
    error = _error(
        api.post(f"/v1/enrollments/{enrollment['id']}/code", json={"code": "123456"}),
        409,
        "step_out_of_order",
    )
    assert error["enrollment_id"] == enrollment["id"]
    assert "awaiting_phone" in error["message"]
    _error(api.post(f"/v1/enrollments/{enrollment['id']}/resend"), 409, "step_out_of_order")
    after = api.get(f"/v1/enrollments/{enrollment['id']}").json()
    assert after["state"] == "awaiting_phone"
    assert after["steps"] == enrollment["steps"]


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/guardian/enroll?ticket=x",
        "http://localhost:1/guardian/enroll?ticket=x",
        "https://user:pw@127.0.0.1/guardian/enroll",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http://2130706433/guardian/enroll",
    ],
)
def test_ticket_on_a_host_not_allowed_is_422(api: httpx.Client, url: str) -> None:
    error = _error(api.post("/v1/enrollments", json={"ticket_url": url}), 422, "ticket_url_rejected")
    assert url not in error["message"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ticket_url": "https://a.auth0.com/x", "unknown": 1},
        {"ticket_url": "https://a.auth0.com/x", "channel": "pigeon"},
        {"ticket_url": "https://a.auth0.com/x", "phone_number": "not-a-phone"},
        [],
    ],
)
def test_bad_bodies_are_422_invalid_request(api: httpx.Client, body: Any) -> None:
    response = api.post("/v1/enrollments", json=body)
    error = _error(response, 422, "invalid_request")
    assert "not-a-phone" not in error["message"]


def test_phone_that_is_not_e164_is_422_and_keeps_state(
    flavour: str, api: httpx.Client, start: Callable[..., dict[str, Any]]
) -> None:
    eid = start()["id"]
    _error(
        api.post(f"/v1/enrollments/{eid}/phone", json={"phone_number": "4155550123"}), 422, "invalid_request"
    )
    assert api.get(f"/v1/enrollments/{eid}").json()["state"] == "awaiting_phone"


def test_every_route_but_healthz_needs_the_token(bridge_server: ServerThread) -> None:
    with httpx.Client(base_url=bridge_server.base_url) as anonymous:
        assert anonymous.get("/healthz").status_code == 200
        routes = [
            ("GET", "/v1/enrollments"),
            ("POST", "/v1/enrollments"),
            ("GET", "/v1/enrollments/x"),
            ("POST", "/v1/enrollments/x/phone"),
            ("POST", "/v1/enrollments/x/code"),
            ("POST", "/v1/enrollments/x/resend"),
            ("DELETE", "/v1/enrollments/x"),
            ("GET", "/v1/enrollments/x/events"),
            ("GET", "/v1/enrollments/x/calls"),
            ("GET", "/v1/enrollments/x/screenshot"),
        ]
        for method, path in routes:
            _error(anonymous.request(method, path), 401, "unauthorized")
            wrong = anonymous.request(method, path, headers={"Authorization": "Bearer nope"})
            _error(wrong, 401, "unauthorized")
            basic = anonymous.request(method, path, headers={"Authorization": f"Basic {TOKEN}"})
            _error(basic, 401, "unauthorized")


def test_unknown_route_and_method_use_the_error_shape(api: httpx.Client) -> None:
    _error(api.get("/v1/nothing"), 404, "not_found")
    _error(api.put("/v1/enrollments"), 405, "method_not_allowed")


def test_list_delete_and_cancelled_state(
    flavour: str, api: httpx.Client, start: Callable[..., dict[str, Any]]
) -> None:
    enrollment = start()
    ids = [e["id"] for e in api.get("/v1/enrollments").json()["enrollments"]]
    assert enrollment["id"] in ids
    assert api.delete(f"/v1/enrollments/{enrollment['id']}").status_code == 204
    assert api.get(f"/v1/enrollments/{enrollment['id']}").json()["state"] == "cancelled"
    _error(
        api.post(f"/v1/enrollments/{enrollment['id']}/phone", json={"phone_number": PHONE}),
        409,
        "step_out_of_order",
    )


def test_screenshot_is_a_png(flavour: str, api: httpx.Client, start: Callable[..., dict[str, Any]]) -> None:
    eid = start()["id"]
    response = api.get(f"/v1/enrollments/{eid}/screenshot")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")


def test_healthz_reports_the_browser_and_sessions(api: httpx.Client) -> None:
    body = api.get("/healthz").json()
    assert body["browser_connected"] is True
    assert body["status"] == "ok"
    assert body["session_limit"] == 12
    assert 0 <= body["sessions_in_use"] <= 12


def test_openapi_documents_the_routes(api: httpx.Client) -> None:
    spec = api.get("/openapi.json").json()
    for path in ("/v1/enrollments", "/v1/enrollments/{enrollment_id}/code", "/healthz", "/v1/otp-inbox"):
        assert path in spec["paths"]
    assert api.get("/docs").status_code == 200


def test_events_stream_state_and_step_changes(
    flavour: str, api: httpx.Client, fake: FakeTenantClient, start: Callable[..., dict[str, Any]]
) -> None:
    eid = start(phone_number=PHONE)["id"]
    api.post(f"/v1/enrollments/{eid}/code", json={"code": fake.latest_code(PHONE)})
    events: list[tuple[str, dict[str, Any]]] = []
    with api.stream("GET", f"/v1/enrollments/{eid}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        kind = ""
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((kind, json.loads(line.removeprefix("data: "))))
    states = [data["state"] for kind, data in events if kind == "state"]
    assert states == ["starting", "awaiting_phone", "awaiting_code", "completed"]
    steps = [data["name"] for kind, data in events if kind == "step"]
    assert steps == ["start", "phone", "code"]
    assert PHONE not in json.dumps(events)


def test_five_parallel_enrollments_stay_isolated(
    flavour: str, bridge_server: ServerThread, fake: FakeTenantClient
) -> None:
    phones = [f"+1415555{n:04d}" for n in range(201, 206)]
    tickets = [fake.create_ticket() for _ in phones]

    async def one(client: httpx.AsyncClient, ticket: dict[str, str], phone: str) -> dict[str, Any]:
        started = await client.post(
            "/v1/enrollments", json={"ticket_url": ticket["ticket_url"], "phone_number": phone}
        )
        assert started.status_code == 201, started.text
        eid = started.json()["id"]
        code = await asyncio.to_thread(fake.latest_code, phone)
        done = await client.post(f"/v1/enrollments/{eid}/code", json={"code": code})
        result: dict[str, Any] = done.json()
        result["_calls"] = (await client.get(f"/v1/enrollments/{eid}/calls")).json()["calls"]
        return result

    async def run() -> list[dict[str, Any]]:
        async with httpx.AsyncClient(
            base_url=bridge_server.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
        ) as client:
            return await asyncio.gather(*(one(client, t, p) for t, p in zip(tickets, phones, strict=True)))

    results = asyncio.run(run())
    for result, ticket, phone in zip(results, tickets, phones, strict=True):
        assert result["state"] == "completed", result
        assert result["recovery_code"] == fake.ticket_info(ticket["ticket_id"])["recovery_code"]
        assert result["phone_number"].endswith(phone[-4:])
        # Each enrollment's capture shows only its own phone (masked) and never another's.
        others = [p[-4:] for p in phones if p != phone]
        dumped = json.dumps(result["_calls"])
        assert all(f"*{tail}" not in dumped for tail in others)
    assert len({r["recovery_code"] for r in results}) == 5


def test_idle_enrollments_expire_and_close(
    bridge_host: BridgeHost, tmp_path: Path, fake: FakeTenantClient, fake_server: ServerThread
) -> None:
    settings = bridge_settings(tmp_path, fake_server.port, idle_ttl_s=1.0, reap_interval_s=0.2)
    with (
        bridge_host.serve(settings) as server,
        httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
        ) as client,
    ):
        eid = client.post("/v1/enrollments", json={"ticket_url": fake.create_ticket()["ticket_url"]}).json()[
            "id"
        ]
        assert client.get("/healthz").json()["sessions_in_use"] == 1
        deadline = time.monotonic() + 10
        while client.get(f"/v1/enrollments/{eid}").json()["state"] != "expired":
            assert time.monotonic() < deadline, "the reaper never expired the enrollment"
            time.sleep(0.1)
        assert client.get("/healthz").json()["sessions_in_use"] == 0
        _error(
            client.post(f"/v1/enrollments/{eid}/phone", json={"phone_number": PHONE}),
            410,
            "enrollment_expired",
        )


def test_session_limit_is_429_with_retry_after(
    bridge_host: BridgeHost, tmp_path: Path, fake: FakeTenantClient, fake_server: ServerThread
) -> None:
    settings = bridge_settings(tmp_path, fake_server.port, max_enrollments=1)
    with (
        bridge_host.serve(settings) as server,
        httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
        ) as client,
    ):
        first = client.post("/v1/enrollments", json={"ticket_url": fake.create_ticket()["ticket_url"]})
        assert first.status_code == 201
        second = client.post("/v1/enrollments", json={"ticket_url": fake.create_ticket()["ticket_url"]})
        _error(second, 429, "session_limit")
        assert int(second.headers["Retry-After"]) >= 1
        client.delete(f"/v1/enrollments/{first.json()['id']}")
        third = client.post("/v1/enrollments", json={"ticket_url": fake.create_ticket()["ticket_url"]})
        assert third.status_code == 201
