"""A real bridge server (uvicorn on loopback, its own headless Chromium) next to the fake tenant."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.serving import ServerThread
from bridge.settings import BridgeSettings
from guardian_bridge_fake.harness import FakeTenantClient
from tests.hosting import BridgeHost, HostedBridge

TOKEN = "test-token-1-for-the-api-suite"


def bridge_settings(tmp: Path, *tenant_ports: int, **overrides: Any) -> BridgeSettings:
    """A bridge's settings whose allowlist names the loopback port of each fake tenant it will open."""
    values: dict[str, Any] = {
        "api_tokens": [TOKEN],
        "allowed_hosts": [f"127.0.0.1:{port}" for port in tenant_ports],
        "max_enrollments": 12,
        "step_timeout_s": 15,
        "artifacts_dir": tmp / "artifacts",
        **overrides,
    }
    return BridgeSettings(**values)


@contextmanager
def own_bridge(bridge_host: BridgeHost, tmp: Path, *tenant_ports: int) -> Iterator[httpx.Client]:
    """A bridge of a test's own whose allowlist names ``tenant_ports`` (the shared one names the fake's),
    and a client holding the suite's token."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with (
        bridge_host.serve(bridge_settings(tmp, *tenant_ports)) as server,
        httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client,
    ):
        yield client


@pytest.fixture(scope="session")
def bridge_server(
    tmp_path_factory: pytest.TempPathFactory, bridge_host: BridgeHost, fake_server: ServerThread
) -> Iterator[HostedBridge]:
    settings = bridge_settings(tmp_path_factory.mktemp("bridge"), fake_server.port)
    with bridge_host.serve(settings) as server:
        yield server


@pytest.fixture
def api(bridge_server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=bridge_server.base_url,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=60.0,
    ) as client:
        yield client
        # Free the shared bridge's session slots for the next test.
        for enrollment in client.get("/v1/enrollments").json()["enrollments"]:
            if enrollment["state"] in ("starting", "awaiting_phone", "awaiting_code"):
                client.delete(f"/v1/enrollments/{enrollment['id']}")


@pytest.fixture(params=["classic", "universal"])
def flavour(request: pytest.FixtureRequest, fake: FakeTenantClient) -> str:
    experience: str = request.param
    fake.set_experience(experience)  # type: ignore[arg-type]
    return experience


@pytest.fixture(params=["browser", "protocol"])
def engine(request: pytest.FixtureRequest) -> str:
    """The engine of a test that takes this fixture: such a test runs on both (docs/engines.md)."""
    name: str = request.param
    return name


@pytest.fixture
def start(
    api: httpx.Client, fake: FakeTenantClient, request: pytest.FixtureRequest
) -> Callable[..., dict[str, Any]]:
    """Creates a ticket on the fake and starts an enrollment for it through the bridge, on the test's
    ``engine`` when it takes one."""
    chosen = {"engine": request.getfixturevalue("engine")} if "engine" in request.fixturenames else {}

    def _start(**body: Any) -> dict[str, Any]:
        ticket = fake.create_ticket()
        response = api.post("/v1/enrollments", json={"ticket_url": ticket["ticket_url"], **chosen, **body})
        assert response.status_code == 201, response.text
        enrollment: dict[str, Any] = response.json()
        enrollment["_ticket"] = ticket
        return enrollment

    return _start
