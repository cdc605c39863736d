"""Captured widget calls: in order, complete, and redacted unless configured otherwise."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bridge.serving import ServerThread
from guardian_bridge_fake.harness import FakeTenantClient
from tests.api.conftest import TOKEN, bridge_settings
from tests.hosting import BridgeHost

PHONE = "+14155550123"


def _complete(api: httpx.Client, fake: FakeTenantClient, start: Callable[..., dict[str, Any]]) -> tuple:
    enrollment = start(phone_number=PHONE)
    code = fake.latest_code(PHONE)
    done = api.post(f"/v1/enrollments/{enrollment['id']}/code", json={"code": code}).json()
    calls = api.get(f"/v1/enrollments/{enrollment['id']}/calls").json()
    return enrollment, code, done, calls


def _secrets(enrollment: dict[str, Any], code: str, done: dict[str, Any]) -> list[str]:
    return [enrollment["_ticket"]["ticket_id"], code, done["recovery_code"], PHONE, PHONE[1:], PHONE[2:]]


def test_classic_calls_are_the_guardian_protocol_in_order_and_redacted(
    api: httpx.Client, fake: FakeTenantClient, start: Callable[..., dict[str, Any]]
) -> None:
    fake.set_experience("classic")
    enrollment, code, done, page = _complete(api, fake, start)
    api_calls = [c for c in page["calls"] if c["kind"] == "api"]
    endpoints = [c["endpoint"] for c in api_calls]
    assert endpoints[:3] == ["start-flow", "sms-enroll", "verify-otp"]
    assert [c["status"] for c in api_calls[:3]] == [201, 200, 204]
    assert [c["auth_scheme"] for c in api_calls[:3]] == ["Ticket", "Bearer", "Bearer"]
    assert api_calls[0]["request_headers"]["authorization"] == "Ticket [redacted]"
    assert api_calls[0]["response_body"]["device_account"]["recovery_code"] == "[redacted]"
    assert api_calls[0]["response_body"]["transaction_token"] == "[redacted]"
    assert api_calls[1]["request_body"]["phone_number"] == "+1******0123"
    assert api_calls[2]["request_body"] == {"type": "manual_input", "code": "[redacted]"}
    assert [c["seq"] for c in page["calls"]] == sorted(c["seq"] for c in page["calls"])
    dumped = json.dumps(page)
    for secret in _secrets(enrollment, code, done):
        assert secret not in dumped
    assert done["calls"] == len(page["calls"])


def test_universal_calls_are_the_form_posts_in_order_and_redacted(
    api: httpx.Client, fake: FakeTenantClient, start: Callable[..., dict[str, Any]]
) -> None:
    fake.set_experience("universal")
    enrollment, code, done, page = _complete(api, fake, start)
    posts = [(c["endpoint"], c["status"]) for c in page["calls"] if c["kind"] == "form"]
    assert posts == [
        ("guardian/enroll", 302),
        ("u/mfa-sms-enrollment", 302),
        ("u/mfa-sms-enrollment-verify", 302),
        ("u/mfa-recovery-code-enrollment", 302),
    ]
    verify = next(
        c for c in page["calls"] if c["endpoint"] == "u/mfa-sms-enrollment-verify" and c["kind"] == "form"
    )
    assert verify["request_body"]["code"] == "[redacted]"
    assert verify["request_body"]["state"] == "[redacted]"
    assert "[redacted]" in verify["redirect_to"]
    dumped = json.dumps(page)
    for secret in _secrets(enrollment, code, done):
        assert secret not in dumped


def test_calls_cursor_returns_only_newer_calls(
    api: httpx.Client, fake: FakeTenantClient, start: Callable[..., dict[str, Any]]
) -> None:
    fake.set_experience("classic")
    eid = start()["id"]
    first = api.get(f"/v1/enrollments/{eid}/calls").json()
    assert first["calls"]
    api.post(f"/v1/enrollments/{eid}/phone", json={"phone_number": PHONE})
    newer = api.get(f"/v1/enrollments/{eid}/calls", params={"after": first["next_after"]}).json()
    assert newer["calls"]
    assert all(c["seq"] > first["next_after"] for c in newer["calls"])
    assert any(c["endpoint"] == "sms-enroll" for c in newer["calls"])


def test_unredacted_capture_is_an_explicit_setting(
    bridge_host: BridgeHost, tmp_path: Path, fake: FakeTenantClient, fake_server: ServerThread
) -> None:
    fake.set_experience("classic")
    settings = bridge_settings(tmp_path, fake_server.port, capture_unredacted=True)
    with (
        bridge_host.serve(settings) as server,
        httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
        ) as client,
    ):
        ticket = fake.create_ticket()
        eid = client.post(
            "/v1/enrollments", json={"ticket_url": ticket["ticket_url"], "phone_number": PHONE}
        ).json()["id"]
        calls = client.get(f"/v1/enrollments/{eid}/calls").json()["calls"]
    sms = next(c for c in calls if c["endpoint"] == "sms-enroll")
    assert sms["redacted"] is False
    assert sms["request_body"]["phone_number"] == PHONE
