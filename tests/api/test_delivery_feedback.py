"""A code that never reaches the OTP inbox: on Auth0's tenant-level phone provider the widget reports no
delivery failure (docs/protocol.md#delivery-feedback), so the outcome says delivery may have failed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bridge.serving import ServerThread
from guardian_bridge_fake.harness import FakeTenantClient
from tests.api.conftest import TOKEN, bridge_settings
from tests.hosting import BridgeHost, HostedBridge

PHONE = "+14155550123"


@pytest.fixture(scope="module")
def inbox_bridge(
    tmp_path_factory: pytest.TempPathFactory, bridge_host: BridgeHost, fake_server: ServerThread
) -> Iterator[HostedBridge]:
    settings = bridge_settings(
        tmp_path_factory.mktemp("delivery"), fake_server.port, otp_inbox_secret="s3cret", inbox_wait_s=1.0
    )
    with bridge_host.serve(settings) as server:
        yield server


@pytest.mark.parametrize("flavour", ["classic", "universal"])
def test_a_code_that_never_arrives_says_delivery_may_have_failed(
    inbox_bridge: HostedBridge, fake: FakeTenantClient, flavour: str
) -> None:
    fake.set_experience(flavour)  # type: ignore[arg-type]
    fake.settings(forward_sms=False)  # the provider "sends", nothing arrives
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=inbox_bridge.base_url, headers=headers, timeout=60.0) as api:
        body = {
            "ticket_url": fake.create_ticket()["ticket_url"],
            "phone_number": PHONE,
            "code_source": "inbox",
        }
        started = api.post("/v1/enrollments", json=body)
        assert started.status_code == 201, started.text
        eid = started.json()["id"]
        deadline = time.monotonic() + 20
        enrollment: dict[str, Any] = started.json()
        while enrollment["last_error"] is None and time.monotonic() < deadline:
            time.sleep(0.1)
            enrollment = api.get(f"/v1/enrollments/{eid}").json()
        assert enrollment["state"] == "awaiting_code"
        assert enrollment["last_error"]["code"] == "inbox_timeout"
        assert "may not have been delivered" in enrollment["last_error"]["message"]
        api.delete(f"/v1/enrollments/{eid}")
