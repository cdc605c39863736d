"""Schemathesis against the bridge's own OpenAPI schema, over a real socket: no input makes it fail.

Every operation gets Schemathesis' explicit and boundary cases plus a few generated requests (valid and
invalid bodies, odd ids and query values, undocumented methods). None may answer 5xx, every non-2xx
answer has the one error shape, and no generated ticket URL gets past the allowlist to the browser.
Routes taking an enrollment id are tried twice: with the generated (unknown) id, and with the id of a
real, finished enrollment so the handlers behind ``registry.get`` see the fuzzed input too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from bridge.api import create_app
from bridge.serving import ServerThread
from bridge.settings import BridgeSettings
from guardian_bridge_fake.harness import FakeTenantClient
from tests.api.conftest import TOKEN, bridge_settings
from tests.hosting import BridgeHost, HostedBridge

AUTH = {"Authorization": f"Bearer {TOKEN}"}
PHONE = "+14155550177"
# Generated examples per operation, on top of Schemathesis' own explicit and boundary cases: enough to
# reach each field's edge cases while the module stays well under a minute on two cores.
EXAMPLES_PER_OPERATION = 20
# The document the bridge serves at /openapi.json (checked below), built without starting anything.
SPEC = create_app(BridgeSettings(api_tokens=[TOKEN])).openapi()
schema = schemathesis.openapi.from_dict(SPEC)


@pytest.fixture(scope="module")
def fuzz_bridge(
    bridge_host: BridgeHost, tmp_path_factory: pytest.TempPathFactory, fake_server: ServerThread
) -> Iterator[HostedBridge]:
    """A bridge of its own: hundreds of refused creations must not drain the shared bridge's per-token
    rate limit for the tests that follow; the inbox is on so its route is fuzzed past the switch."""
    settings_ = bridge_settings(
        tmp_path_factory.mktemp("fuzz"),
        fake_server.port,
        create_rate_per_minute=100_000,
        otp_inbox_secret="fuzz-inbox-secret",
    )
    with bridge_host.serve(settings_) as server:
        yield server


@pytest.fixture(scope="module")
def finished_id(fuzz_bridge: ServerThread, fake_server: ServerThread) -> str:
    """A completed enrollment: every step route answers without the browser, and its event stream ends."""
    fake = FakeTenantClient(fake_server.base_url)
    with httpx.Client(base_url=fuzz_bridge.base_url, headers=AUTH, timeout=60) as api:
        try:
            fake.reset()
            ticket = fake.create_ticket()
            started = api.post(
                "/v1/enrollments", json={"ticket_url": ticket["ticket_url"], "phone_number": PHONE}
            )
            assert started.status_code == 201, started.text
            eid: str = started.json()["id"]
            done = api.post(f"/v1/enrollments/{eid}/code", json={"code": fake.latest_code(PHONE)})
            assert done.json()["state"] == "completed", done.text
        finally:
            fake.close()
    return eid


def test_the_fuzzed_schema_is_the_one_the_bridge_serves(fuzz_bridge: ServerThread) -> None:
    served = httpx.get(f"{fuzz_bridge.base_url}/openapi.json", headers=AUTH, timeout=10)
    assert served.json() == SPEC


def _call_and_check(case: schemathesis.Case[Any], base_url: str) -> None:
    # A short timeout: an event stream that never ends fails here instead of stalling the run.
    response = case.call(base_url=base_url, headers=AUTH, timeout=10)
    request = case.as_curl_command(headers=AUTH)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
    assert response.status_code < 500, f"{response.status_code} for: {request}"
    if response.status_code >= 300:
        body = json.loads(response.text)
        assert set(body) == {"error"}, request
        assert set(body["error"]) == {"code", "message", "enrollment_id"}, request
        assert isinstance(body["error"]["code"], str), request
        assert isinstance(body["error"]["message"], str), request
    if (case.method, case.path) == ("POST", "/v1/enrollments"):
        # Generated ticket URLs never name the one allowed host (127.0.0.1), so nothing may reach the
        # browser: every creation is refused before a session exists (400 only for a body that is not
        # even decodable), never a 201 or a 5xx from a page load.
        assert response.status_code in (400, 422), f"{response.status_code} for: {request}"
        body_sent: Any = case.body
        if isinstance(body_sent, dict) and isinstance(body_sent.get("ticket_url"), str):
            assert response.status_code == 422, f"{response.status_code} for: {request}"


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
def test_no_generated_request_makes_the_bridge_fail(
    case: schemathesis.Case[Any], fuzz_bridge: ServerThread, finished_id: str
) -> None:
    _call_and_check(case, fuzz_bridge.base_url)
    if "enrollment_id" in (case.path_parameters or {}):
        case.path_parameters = {**(case.path_parameters or {}), "enrollment_id": finished_id}
        _call_and_check(case, fuzz_bridge.base_url)
