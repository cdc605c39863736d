"""The scripted enrollment both widget imitations are put through: invalid phone, phone, wrong code,
right code. It is the same for every implementation, which is the point of the imitations."""

from __future__ import annotations

from typing import Any

import httpx


def drive_full_script(
    api: httpx.Client,
    ticket_url: str,
    flavour: str,
    code: str,
    recovery_code: str,
    engine: str | None = None,
) -> dict[str, Any]:
    """Runs the script through the bridge's API, asserting each outcome; returns the final enrollment."""
    chosen = {"engine": engine} if engine else {}
    started = api.post("/v1/enrollments", json={"ticket_url": ticket_url, **chosen})
    body = started.json()
    assert (started.status_code, body["state"], body["flavour"]) == (201, "awaiting_phone", flavour), body
    eid = body["id"]
    rejected = api.post(f"/v1/enrollments/{eid}/phone", json={"phone_number": "+14155550999"}).json()
    assert (rejected["state"], rejected["last_error"]["code"]) == ("awaiting_phone", "invalid_phone_number")
    assert "not valid" in rejected["last_error"]["widget_message"]
    accepted = api.post(f"/v1/enrollments/{eid}/phone", json={"phone_number": "+14155550123"}).json()
    assert accepted["state"] == "awaiting_code", accepted
    wrong = api.post(f"/v1/enrollments/{eid}/code", json={"code": "135790"}).json()
    assert (wrong["state"], wrong["last_error"]["code"]) == ("awaiting_code", "invalid_otp")
    done: dict[str, Any] = api.post(f"/v1/enrollments/{eid}/code", json={"code": code}).json()
    assert done["state"] == "completed", done
    assert done["recovery_code"] == recovery_code
    return done
