"""``guardian-bridge demo``: the fake tenant and a bridge side by side, one full enrollment per flavour.

Everything runs in this process on loopback ports: the embedded fake Auth0 tenant, whose SMS provider
forwards every message, HMAC-signed, to the bridge's OTP inbox (as the example Action does for a real
tenant); and a bridge whose Management API credentials point at the fake. Each run asks the bridge to
enroll a seeded user by id, so the bridge creates the ticket itself, and the code arrives through the
inbox: nothing is typed, which is what makes it the first command to try on a fresh machine.
"""

from __future__ import annotations

import secrets
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bridge.cli.enroll import EnrollmentRunner, ExitCode, RunOutcome, exit_code_for_error
from bridge.cli.fake import require_fake
from bridge.cli.host import quiet_server_logs, settings_from_env, start_in_process
from bridge.cli.output import Display, make_display, print_json
from bridge.client import BridgeClient
from bridge.errors import BridgeError
from bridge.models import CapturedCall, EngineChoice

DEMO_PHONE = "+14155550123"
# The fake tenant's documented test credentials, not secrets.
FAKE_CLIENT_ID = "fake-client"
FAKE_CLIENT_SECRET = "fake-secret"  # noqa: S105


class DemoExperience(StrEnum):
    CLASSIC = "classic"
    UNIVERSAL = "universal"
    BOTH = "both"  # classic, then universal

    def flavours(self) -> list[str]:
        return ["classic", "universal"] if self is DemoExperience.BOTH else [self.value]


@dataclass
class DemoRun:
    experience: str
    user_id: str
    outcome: RunOutcome
    calls: list[CapturedCall] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "experience": self.experience,
            "user_id": self.user_id,
            "enrollment": self.outcome.as_json(),
            "calls": [
                call.model_dump(
                    mode="json",
                    include={"seq", "kind", "method", "endpoint", "status", "auth_scheme", "duration_ms"},
                )
                for call in self.calls
            ],
            "exit_code": int(self.outcome.exit_code),
        }


def run_demo(
    experience: DemoExperience = DemoExperience.BOTH,
    json_output: bool = False,
    engine: EngineChoice | None = None,
) -> int:
    """Runs the demo and returns its exit code: 0 when every run completed, else the first failure's."""
    # Imported here, like the bridge's server side: only this command hosts the fake tenant, and the
    # fake is a separate distribution that may be absent.
    require_fake()
    from bridge.serving import ServerThread, free_port
    from guardian_bridge_fake.app import create_app as create_fake
    from guardian_bridge_fake.harness import FakeTenantClient

    display = make_display(json_output)
    flavours = experience.flavours()
    inbox_secret, token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    bridge_port, fake_port = free_port(), free_port()
    fake_url = f"http://127.0.0.1:{fake_port}"
    fake_app = create_fake(
        experience="universal" if flavours[0] == "universal" else "classic",
        client_id=FAKE_CLIENT_ID,
        client_secret=FAKE_CLIENT_SECRET,
        sms_webhook_url=f"http://127.0.0.1:{bridge_port}/v1/otp-inbox",
        sms_webhook_secret=inbox_secret,
    )
    # Explicit values win over BRIDGE_* variables; the rest (browser, timeouts) still comes from them.
    settings = settings_from_env(
        api_tokens=[token],
        allowed_hosts=[f"127.0.0.1:{fake_port}"],
        otp_inbox_secret=inbox_secret,
        inbox_wait_s=30,
        auth0_domain=fake_url,
        auth0_client_id=FAKE_CLIENT_ID,
        auth0_client_secret=FAKE_CLIENT_SECRET,
    )
    quiet_server_logs()
    runs: list[DemoRun] = []
    with ExitStack() as stack:
        try:
            with display.running("starting the fake tenant, the bridge and its browser"):
                stack.enter_context(ServerThread(fake_app, port=fake_port))
                bridge_server = start_in_process(settings, bridge_port)
                stack.callback(bridge_server.stop)
        except BridgeError as exc:
            failed = RunOutcome(None, (exc.code, exc.message), exit_code_for_error(exc))
            failed.show(display)
            runs.append(DemoRun(flavours[0], "", failed))
        else:
            display.note(f"fake tenant {fake_url} · bridge {bridge_server.base_url}")
            tenant = FakeTenantClient(fake_url, FAKE_CLIENT_ID, FAKE_CLIENT_SECRET)
            stack.callback(tenant.close)
            client = stack.enter_context(BridgeClient(bridge_server.base_url, token))
            for n, flavour in enumerate(flavours, start=1):
                # One seeded user per run: after the first run, test-user-1 is enrolled already.
                user_id = f"auth0|test-user-{n}"
                tenant.set_experience("universal" if flavour == "universal" else "classic")
                display.heading(f"{flavour} widget · {user_id}")
                runs.append(_run_one(client, display, flavour, user_id, engine))
    exit_code = next((r.outcome.exit_code for r in runs if r.outcome.exit_code), ExitCode.COMPLETED)
    if json_output:
        print_json({"runs": [r.as_json() for r in runs], "exit_code": int(exit_code)})
    elif exit_code == ExitCode.COMPLETED:
        display.note(f"demo completed: {len(runs)} enrollment(s)")
    return int(exit_code)


def _run_one(
    client: BridgeClient, display: Display, flavour: str, user_id: str, engine: EngineChoice | None = None
) -> DemoRun:
    """One enrollment with the code from the inbox: its steps live, then its calls, then its result."""
    runner = EnrollmentRunner(client, display, inbox_timeout_s=60.0, engine=engine)
    outcome = runner.attempt(ticket_url=None, user_id=user_id, phone=DEMO_PHONE, ask=None)
    run = DemoRun(flavour, user_id, outcome)
    if outcome.enrollment is not None:
        # The outcome is still worth showing without its calls.
        with suppress(BridgeError):
            run.calls = all_calls(client, outcome.enrollment.id)
        display.calls(run.calls)
    outcome.show(display)
    return run


def all_calls(client: BridgeClient, enrollment_id: str) -> list[CapturedCall]:
    """Every call the widget made during the enrollment, read page by page."""
    calls: list[CapturedCall] = []
    after = 0
    while True:
        page = client.calls(enrollment_id, after=after, limit=100)
        calls.extend(page.calls)
        if not page.calls or page.next_after == after:
            return calls
        after = page.next_after
