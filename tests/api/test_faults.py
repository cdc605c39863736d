"""The tenant misbehaving: 500s, hanging, slow answers, and going away mid-enrollment. Each leaves the
enrollment in a state the caller can read, and nothing crashes the server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.serving import ServerThread, free_port
from guardian_bridge_fake.app import create_app as create_fake
from guardian_bridge_fake.harness import FakeTenantClient
from tests.api.conftest import TOKEN, bridge_settings
from tests.hosting import BridgeHost, HostedBridge

PHONE = "+14155550123"
PHONE_ENDPOINT = {"classic": "sms-enroll", "universal": "u/mfa-sms-enrollment"}
CODE_ENDPOINT = {"classic": "verify-otp", "universal": "u/mfa-sms-enrollment-verify"}


@pytest.fixture(scope="module")
def vanishing_port() -> int:
    """The port of the tenant that goes away mid-enrollment, chosen before the bridge so its allowlist
    can name it."""
    return free_port()


@pytest.fixture(scope="module")
def quick_bridge(
    bridge_host: BridgeHost,
    tmp_path_factory: pytest.TempPathFactory,
    fake_server: ServerThread,
    vanishing_port: int,
) -> Iterator[HostedBridge]:
    """A bridge with a short step timeout, so a hanging tenant shows within the test's patience."""
    settings = bridge_settings(
        tmp_path_factory.mktemp("faults"), fake_server.port, vanishing_port, step_timeout_s=3
    )
    with bridge_host.serve(settings) as server:
        yield server


@pytest.fixture
def quick(quick_bridge: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=quick_bridge.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
    ) as client:
        yield client


def _start(client: httpx.Client, fake: FakeTenantClient, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/enrollments", json={"ticket_url": fake.create_ticket()["ticket_url"], **body})
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_a_500_on_the_phone_step_is_readable(
    flavour: str, engine: str, quick: httpx.Client, fake: FakeTenantClient
) -> None:
    eid = _start(quick, fake, engine=engine)["id"]
    fake.add_fault(PHONE_ENDPOINT[flavour], error="http_500", times=1)
    response = quick.post(f"/v1/enrollments/{eid}/phone", json={"phone_number": PHONE})
    assert response.status_code == 200, response.text
    body = response.json()
    if flavour == "classic":
        # The widget keeps its page: the caller can simply try again.
        assert (body["state"], body["last_error"]["code"]) == ("awaiting_phone", "upstream_error")
        again = quick.post(f"/v1/enrollments/{eid}/phone", json={"phone_number": PHONE}).json()
        assert again["state"] == "awaiting_code"
    else:
        # Universal Login answers with an error page: that flow is over, and says so.
        assert body["state"] == "failed"
        assert body["last_error"]["code"] == "widget_failed"


def test_a_hanging_tenant_times_out_and_keeps_the_state(
    flavour: str, engine: str, quick: httpx.Client, fake: FakeTenantClient
) -> None:
    eid = _start(quick, fake, engine=engine)["id"]
    fake.add_fault(PHONE_ENDPOINT[flavour], error="hang", times=1)
    response = quick.post(f"/v1/enrollments/{eid}/phone", json={"phone_number": PHONE})
    assert response.status_code == 504
    assert response.json()["error"] == {
        "code": "widget_timeout",
        "message": response.json()["error"]["message"],
        "enrollment_id": eid,
    }
    after = quick.get(f"/v1/enrollments/{eid}").json()
    assert after["state"] == "awaiting_phone"
    assert after["last_error"]["code"] == "widget_timeout"
    assert after["steps"][-1]["outcome"] == "timeout"
    assert quick.delete(f"/v1/enrollments/{eid}").status_code == 204
    assert quick.get("/healthz").json()["status"] == "ok"


def test_a_slow_tenant_still_completes(
    flavour: str, engine: str, api: httpx.Client, fake: FakeTenantClient, start: Callable[..., dict[str, Any]]
) -> None:
    fake.add_fault(PHONE_ENDPOINT[flavour], latency_ms=1500)
    fake.add_fault(CODE_ENDPOINT[flavour], latency_ms=1500)
    eid = start(phone_number=PHONE)["id"]
    done = api.post(f"/v1/enrollments/{eid}/code", json={"code": fake.latest_code(PHONE)}).json()
    assert done["state"] == "completed"


@pytest.mark.parametrize("experience", ["classic", "universal"])
def test_the_tenant_going_away_mid_enrollment(
    tmp_path: Path, quick: httpx.Client, experience: str, engine: str, vanishing_port: int
) -> None:
    tenant = ServerThread(create_fake(experience=experience), port=vanishing_port)  # type: ignore[arg-type]
    tenant.start()
    fake = FakeTenantClient(tenant.base_url)
    try:
        eid = _start(quick, fake, engine=engine)["id"]
    finally:
        fake.close()
        tenant.stop()
    response = quick.post(f"/v1/enrollments/{eid}/phone", json={"phone_number": PHONE})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["last_error"]["code"] == "upstream_error"
    assert body["state"] == ("awaiting_phone" if experience == "classic" else "failed")
    assert quick.get("/healthz").json()["browser_connected"] is True
