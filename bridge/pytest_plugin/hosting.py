"""What the plugin's fixtures talk to: a running bridge (``--guardian-bridge-url``), or the embedded fake
tenant and a bridge of its own started in this process (``--guardian-fake``), once per test session.

With ``--guardian-fake`` the fake's SMS provider forwards every code, HMAC-signed, to the bridge's OTP
inbox, and the bridge creates tickets with the fake's Management API credentials: the same wiring a real
QA tenant has with the forwarding Action. Under pytest-xdist each worker process is its own session, so
each worker runs its own pair: nothing is shared, nothing collides.
"""

from __future__ import annotations

import importlib.util
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bridge.cli.fake import FAKE_PACKAGE, missing_fake_message
from bridge.client import BridgeClient
from bridge.pytest_plugin.tenant import GuardianTenant
from bridge.settings import BridgeSettings

if TYPE_CHECKING:
    from bridge.serving import ServerThread

# The fake tenant's documented test credentials, not secrets.
FAKE_CLIENT_ID = "fake-client"
FAKE_CLIENT_SECRET = "fake-secret"  # noqa: S105


class MissingFakeError(RuntimeError):
    """--guardian-fake without the fake tenant's distribution installed."""


@dataclass
class GuardianEnvironment:
    bridge_url: str
    client: BridgeClient
    tenant: GuardianTenant | None
    hermetic: bool  # the embedded fake and an in-process bridge
    fake_url: str | None = None
    _servers: list[ServerThread] = field(default_factory=list)

    def close(self) -> None:
        self.client.close()
        if self.tenant is not None:
            self.tenant.close()
        for server in reversed(self._servers):
            server.stop()


def tenant_from_env(settings: BridgeSettings) -> GuardianTenant | None:
    """A ``GuardianTenant`` for ``BRIDGE_AUTH0_*`` when all three are set."""
    if not (settings.auth0_domain and settings.auth0_client_id and settings.auth0_client_secret):
        return None
    return GuardianTenant(
        settings.auth0_domain, settings.auth0_client_id, settings.auth0_client_secret.get_secret_value()
    )


def connect(bridge_url: str, token: str | None) -> GuardianEnvironment:
    """A running bridge; the tenant (for users and cleanup) from ``BRIDGE_AUTH0_*`` when set."""
    return GuardianEnvironment(
        bridge_url=bridge_url.rstrip("/"),
        client=BridgeClient(bridge_url, token),
        tenant=tenant_from_env(BridgeSettings()),
        hermetic=False,
    )


def start_hermetic(experience: str = "classic") -> GuardianEnvironment:
    """The fake tenant and a bridge on loopback ports of this process (the fake must be installed)."""
    if importlib.util.find_spec(FAKE_PACKAGE) is None:
        raise MissingFakeError(missing_fake_message())
    # Imported here: only a hermetic session needs the server side and the fake tenant.
    from bridge.api import create_app
    from bridge.serving import ServerThread, free_port
    from guardian_bridge_fake.app import create_app as create_fake

    token, inbox_secret = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    bridge_port, fake_port = free_port(), free_port()
    fake_url = f"http://127.0.0.1:{fake_port}"
    fake = ServerThread(
        create_fake(
            experience="universal" if experience == "universal" else "classic",
            client_id=FAKE_CLIENT_ID,
            client_secret=FAKE_CLIENT_SECRET,
            sms_webhook_url=f"http://127.0.0.1:{bridge_port}/v1/otp-inbox",
            sms_webhook_secret=inbox_secret,
        ),
        port=fake_port,
    )
    # Explicit values win over BRIDGE_* variables; the rest (browser, timeouts) still comes from them.
    settings = BridgeSettings(
        api_tokens=[token],
        allowed_hosts=[f"127.0.0.1:{fake_port}"],
        otp_inbox_secret=inbox_secret,
        inbox_wait_s=30,
        auth0_domain=fake_url,
        auth0_client_id=FAKE_CLIENT_ID,
        auth0_client_secret=FAKE_CLIENT_SECRET,
    )
    servers: list[ServerThread] = []
    try:
        servers.append(fake.start())
        servers.append(ServerThread(create_app(settings), port=bridge_port).start(timeout=60.0))
    except BaseException:
        for server in reversed(servers):
            server.stop()
        raise
    bridge_url = servers[-1].base_url
    return GuardianEnvironment(
        bridge_url=bridge_url,
        client=BridgeClient(bridge_url, token),
        tenant=GuardianTenant(fake_url, FAKE_CLIENT_ID, FAKE_CLIENT_SECRET),
        hermetic=True,
        fake_url=fake_url,
        _servers=servers,
    )
