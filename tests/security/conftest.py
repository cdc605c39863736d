"""The attacker's test bed: a fake tenant whose SMS hook forwards, signed, to a bridge with two ordinary
API tokens (two tenants of the bridge) and one admin token, all on the session's shared Chromium."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.serving import ServerThread, free_port
from bridge.settings import BridgeSettings
from guardian_bridge_fake.app import create_app as create_fake
from guardian_bridge_fake.harness import FakeTenantClient
from tests.hosting import BridgeHost, HostedBridge

TOKEN_A = "security-token-alpha-000000001"
TOKEN_B = "security-token-bravo-000000002"
ADMIN = "security-token-admin-000000003"
SECRET = "security-inbox-secret-0001"
PHONE = "+14155550123"
OTHER_PHONE = "+14155550188"


def settings_for(tmp: Path, *tenant_ports: int, **overrides: Any) -> BridgeSettings:
    """A bridge's settings whose allowlist names each fake tenant's loopback port."""
    values: dict[str, Any] = {
        "api_tokens": [TOKEN_A, TOKEN_B],
        "admin_tokens": [ADMIN],
        "allowed_hosts": [f"127.0.0.1:{port}" for port in tenant_ports],
        "max_enrollments": 10,
        "step_timeout_s": 15,
        "artifacts_dir": tmp / "artifacts",
        **overrides,
    }
    return BridgeSettings(**values)


def client(base_url: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=60.0)


class Bed:
    """The fake tenant, the bridge, and one API client per token."""

    def __init__(self, tmp: Path, host: BridgeHost) -> None:
        bridge_port, fake_port = free_port(), free_port()
        self.fake_port = fake_port
        self.bridge_url, fake_url = f"http://127.0.0.1:{bridge_port}", f"http://127.0.0.1:{fake_port}"
        self.fake_server = ServerThread(
            create_fake(sms_webhook_url=f"{self.bridge_url}/v1/otp-inbox", sms_webhook_secret=SECRET),
            port=fake_port,
        )
        settings = settings_for(
            tmp,
            fake_port,
            otp_inbox_secret=SECRET,
            inbox_wait_s=20,
            auth0_domain=fake_url,
            auth0_client_id="fake-client",
            auth0_client_secret="fake-secret",
        )
        self.bridge: HostedBridge = host.serve(settings, port=bridge_port)
        self.fake = FakeTenantClient(fake_url)
        self.a = client(self.bridge_url, TOKEN_A)
        self.b = client(self.bridge_url, TOKEN_B)
        self.admin = client(self.bridge_url, ADMIN)
        self.anonymous = client(self.bridge_url, None)

    def __enter__(self) -> Bed:
        self.fake_server.start()
        self.bridge.start()
        return self

    def __exit__(self, *_: object) -> None:
        for c in (self.a, self.b, self.admin, self.anonymous):
            c.close()
        self.fake.close()
        self.bridge.stop()
        self.fake_server.stop()

    def cancel_open(self) -> None:
        for enrollment in self.admin.get("/v1/enrollments").json()["enrollments"]:
            if enrollment["state"] in ("starting", "awaiting_phone", "awaiting_code"):
                self.admin.delete(f"/v1/enrollments/{enrollment['id']}")

    def start_inbox(self, api: httpx.Client, phone: str) -> dict[str, Any]:
        """Starts an inbox-mode enrollment of ``phone`` on a fresh ticket with ``api``'s token."""
        body = {"ticket_url": self.fake.create_ticket()["ticket_url"], "phone_number": phone}
        response: dict[str, Any] = api.post("/v1/enrollments", json={**body, "code_source": "inbox"}).json()
        return response

    def post_message(self, **fields: Any) -> httpx.Response:
        """A message to the inbox as the tenant's Action sends it, signed with the inbox secret."""
        body = json.dumps(message(**fields)).encode()
        return self.anonymous.post(
            "/v1/otp-inbox",
            content=body,
            headers={"Content-Type": "application/json", "X-Signature": sign(body)},
        )


def message(**overrides: Any) -> dict[str, Any]:
    code = overrides.get("code", "123456")
    return {
        "recipient": PHONE,
        "code": code,
        "text": f"Your enrollment code is {code}",
        "action": "enrollment",
        "message_type": "sms",
        "id": f"msg_{uuid.uuid4().hex}",
        "created_at": datetime.now(UTC).isoformat(),
        **overrides,
    }


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def wait_until(api: httpx.Client, eid: str, done: Any, timeout: float = 30.0) -> dict[str, Any]:
    """Polls the enrollment until ``done(body)`` holds (bounded); returns the last body read."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = api.get(f"/v1/enrollments/{eid}").json()
        if done(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


@pytest.fixture(scope="session")
def bed_session(tmp_path_factory: pytest.TempPathFactory, bridge_host: BridgeHost) -> Iterator[Bed]:
    with Bed(tmp_path_factory.mktemp("security"), bridge_host) as bed:
        yield bed


@pytest.fixture
def bed(bed_session: Bed) -> Iterator[Bed]:
    bed_session.fake.reset()
    yield bed_session
    bed_session.cancel_open()
