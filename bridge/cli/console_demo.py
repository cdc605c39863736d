"""``guardian-bridge demo --console``: the embedded fake tenant and a bridge with its console, kept running
for a person to enroll by hand until Ctrl-C."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from contextlib import ExitStack
from typing import Literal

from bridge.errors import BridgeError
from bridge.outcomes import ExitClass

# The fake tenant's documented test credentials, not secrets.
FAKE_CLIENT_ID = "fake-client"
FAKE_CLIENT_SECRET = "fake-secret"  # noqa: S105


def run_console_demo(
    experience: Literal["classic", "universal"] = "classic",
    port: int | None = None,
    say: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Starts both servers (the fake serving ``experience`` first), says where the console is and which
    token to type, and waits for Ctrl-C (or ``stop``); returns the exit code."""
    # Imported here: only this command hosts the fake tenant (a separate distribution that may be absent)
    # and a bridge server.
    from bridge.cli.fake import require_fake

    require_fake()
    from bridge.cli.host import quiet_server_logs, settings_from_env, start_in_process
    from bridge.serving import ServerThread, free_port
    from guardian_bridge_fake.app import create_app as create_fake
    from guardian_bridge_fake.harness import FakeTenantClient

    token = secrets.token_urlsafe(24)
    fake_port = free_port()
    fake_url = f"http://127.0.0.1:{fake_port}"
    settings = settings_from_env(
        api_tokens=[token],
        allowed_hosts=[f"127.0.0.1:{fake_port}"],
        console=True,
        auth0_domain=fake_url,
        auth0_client_id=FAKE_CLIENT_ID,
        auth0_client_secret=FAKE_CLIENT_SECRET,
    )
    quiet_server_logs()
    stop = stop or threading.Event()
    say = say or _print_now
    with ExitStack() as stack:
        stack.enter_context(
            ServerThread(
                create_fake(
                    experience=experience, client_id=FAKE_CLIENT_ID, client_secret=FAKE_CLIENT_SECRET
                ),
                port=fake_port,
            )
        )
        try:
            bridge = start_in_process(settings, port)
        except BridgeError as exc:
            say(f"the bridge did not start: {exc.message}")
            return int(ExitClass.BRIDGE)
        stack.callback(bridge.stop)
        tenant = FakeTenantClient(fake_url, FAKE_CLIENT_ID, FAKE_CLIENT_SECRET)
        stack.callback(tenant.close)
        ticket = tenant.create_ticket()["ticket_url"]
        say(f"console      {bridge.base_url}/console")
        say(f"API token    {token}")
        say("User ID      auth0|test-user-1 (… -2, -3: seeded users of the fake tenant)")
        say(f"Ticket URL   {ticket}")
        say(f"SMS outbox   {fake_url}/__test/sms (the codes the fake tenant 'sent')")
        say("Any valid mobile number works, e.g. +14155550123. Ctrl-C stops both servers.")
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            say("stopping")
    return 0


def _print_now(line: str) -> None:
    # Flushed: a script or a test reading this through a pipe needs each line as it is said.
    print(line, flush=True)
