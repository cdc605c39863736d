"""``enroll --bridge``, and the example Action feeding a running bridge's inbox (run by Node)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bridge.cli.enroll import ExitCode
from bridge.serving import ServerThread
from guardian_bridge_fake.harness import FakeTenantClient
from tests.api.conftest import TOKEN, bridge_settings
from tests.cli.conftest import INBOX_SECRET, PHONE, run_cli, run_with_code_on_stdin
from tests.hosting import BridgeHost, HostedBridge

ACTION = Path(__file__).resolve().parents[2] / "examples" / "auth0-action-forward-otp.js"
# Calls the Action the way Auth0 would: an event with message_options and secrets, and an api object.
RUN_ACTION = """
const action = require(process.argv[1]);
const [options, secrets] = [JSON.parse(process.argv[2]), JSON.parse(process.argv[3])];
action.onExecuteSendPhoneMessage({ message_options: options, secrets }, {}).then(
  () => console.log("sent"),
  (error) => { console.error(error.message); process.exit(1); },
);
"""


@pytest.fixture(scope="module")
def running_bridge(
    bridge_host: BridgeHost, tmp_path_factory: pytest.TempPathFactory, fake_server: ServerThread
) -> Iterator[HostedBridge]:
    settings = bridge_settings(
        tmp_path_factory.mktemp("bridge"), fake_server.port, otp_inbox_secret=INBOX_SECRET
    )
    with bridge_host.serve(settings) as server:
        yield server


def test_enroll_through_a_running_bridge(
    running_bridge: ServerThread, fake: FakeTenantClient, env: dict[str, str]
) -> None:
    fake.set_experience("universal")
    ticket_url = fake.create_ticket()["ticket_url"]
    args = ["--bridge", running_bridge.base_url, "--ticket-url", ticket_url, "--phone", PHONE]
    proc = run_with_code_on_stdin(args, env | {"BRIDGE_API_TOKEN": TOKEN}, fake)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("recovery code: ")
    assert TOKEN not in proc.stdout + proc.stderr


def test_wrong_token_is_a_usage_error(running_bridge: ServerThread, env: dict[str, str]) -> None:
    args = ["enroll", "--bridge", running_bridge.base_url, "--token", "not-the-token"]
    args += ["--ticket-url", "http://127.0.0.1:1/guardian/enroll", "--phone", PHONE, "--json"]
    proc = run_cli(args, env)
    assert proc.returncode == ExitCode.USAGE
    assert json.loads(proc.stdout)["error"]["code"] == "unauthorized"


@pytest.mark.node
@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")
def test_example_action_feeds_the_inbox(running_bridge: ServerThread, fake: FakeTenantClient) -> None:
    with httpx.Client(base_url=running_bridge.base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as api:
        ticket_url = fake.create_ticket()["ticket_url"]
        body = {"ticket_url": ticket_url, "phone_number": PHONE, "code_source": "inbox"}
        started = api.post("/v1/enrollments", json=body, timeout=60).json()
        assert started["state"] == "awaiting_code", started
        [sms] = fake.sms(PHONE)
        options = {k: sms[k] for k in ("recipient", "code", "text", "action", "message_type")}
        secrets = {
            "BRIDGE_INBOX_URL": f"{running_bridge.base_url}/v1/otp-inbox",
            "BRIDGE_OTP_INBOX_SECRET": INBOX_SECRET,
        }
        node = subprocess.run(
            ["node", "-e", RUN_ACTION, str(ACTION), json.dumps(options), json.dumps(secrets)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert node.returncode == 0, node.stderr
        deadline = time.monotonic() + 20
        while (state := api.get(f"/v1/enrollments/{started['id']}").json()["state"]) == "awaiting_code":
            assert time.monotonic() < deadline, "the inbox never submitted the code"
            time.sleep(0.1)
        assert state == "completed"
