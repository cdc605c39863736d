"""The real ``guardian-bridge`` executable, run as a subprocess next to the fake tenant.

A subprocess rather than ``CliRunner`` wherever stdin and stdout matter: a pipe is what a script gives
the command, and it is what decides between live display and plain lines.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.serving import ServerThread, free_port
from guardian_bridge_fake.app import create_app as create_fake
from guardian_bridge_fake.harness import FakeTenantClient

CLI = str(Path(sys.executable).with_name("guardian-bridge"))
PHONE = "+14155550123"
INBOX_SECRET = "cli-inbox-secret"
# Settings a developer's shell may hold that would change what these tests exercise; the browser ones stay.
_KEPT = ("BRIDGE_BROWSER_EXECUTABLE", "BRIDGE_BROWSER_WS_ENDPOINT")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The subprocess environment: no BRIDGE_* of the caller's, artifacts kept in the test's tmp dir."""
    values = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_") or k in _KEPT}
    values["BRIDGE_ARTIFACTS_DIR"] = str(tmp_path / "artifacts")
    return values


def run_cli(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args], input=stdin, capture_output=True, text=True, env=env, timeout=90, check=False
    )


def run_with_code_on_stdin(
    args: list[str], env: dict[str, str], fake: FakeTenantClient, phone: str = PHONE
) -> subprocess.CompletedProcess[str]:
    """Runs ``enroll`` and, once the fake has sent the SMS, writes its code to the command's stdin."""
    proc = subprocess.Popen(
        [CLI, "enroll", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        code = fake.latest_code(phone, timeout=30)
        out, err = proc.communicate(code + "\n", timeout=60)
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


class ForwardingFake:
    """A fake tenant whose SMS hook posts to an inbox on ``listen_port``, where ``enroll`` will listen."""

    def __init__(self) -> None:
        self.listen_port = free_port()
        app = create_fake(
            sms_webhook_url=f"http://127.0.0.1:{self.listen_port}/v1/otp-inbox",
            sms_webhook_secret=INBOX_SECRET,
        )
        self.server = ServerThread(app).start()
        self.client = FakeTenantClient(self.server.base_url)

    def close(self) -> None:
        self.client.close()
        self.server.stop()


@pytest.fixture(scope="module")
def forwarding_fake() -> Iterator[ForwardingFake]:
    fake = ForwardingFake()
    yield fake
    fake.close()
