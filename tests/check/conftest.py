"""A bridge for contract checks next to the session's fake tenant, and helpers to run the check on it.

The bridge's step timeout is short so a widget that drifted beyond recognition fails fast; everything else
is as in production. Drift is set on the fake through its test controls (``fake.drift(...)``), which the
``fake`` fixture resets before each test.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from typer.testing import CliRunner

from bridge.check.codes import OutboxCodes
from bridge.check.contract import Contract, Recording
from bridge.check.runner import Target, record
from bridge.cli.app import app
from bridge.client import AsyncBridgeClient
from bridge.serving import ServerThread
from bridge.settings import BridgeSettings
from guardian_bridge_fake.harness import FakeTenantClient
from tests.hosting import BridgeHost, HostedBridge

TOKEN = "check-test-token"
PHONE = "+14155550123"
CONTRACTS = Path(__file__).resolve().parents[2] / "fixtures" / "contracts"

RecordRun = Callable[..., Awaitable[Recording]]


def committed(flavour: str) -> Contract:
    return Contract.from_json((CONTRACTS / f"{flavour}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def check_bridge(
    tmp_path_factory: pytest.TempPathFactory, bridge_host: BridgeHost, fake_server: ServerThread
) -> Iterator[HostedBridge]:
    values: dict[str, Any] = {
        "api_tokens": [TOKEN],
        # The fake's port, and the discard port (9), where nothing listens: requests the tests expect to
        # be refused for another reason name a ticket URL there, which passes the allowlist.
        "allowed_hosts": [f"127.0.0.1:{fake_server.port}", "127.0.0.1:9"],
        "step_timeout_s": 6,
        "max_enrollments": 6,
        "artifacts_dir": tmp_path_factory.mktemp("check") / "artifacts",
    }
    with bridge_host.serve(BridgeSettings(**values)) as server:
        yield server


def prepare(fake: FakeTenantClient, flavour: str, drift: dict[str, Any] | None) -> str:
    """Sets the fake's flavour and drift; returns a fresh ticket URL."""
    fake.set_experience(flavour)  # type: ignore[arg-type]
    if drift:
        fake.drift(**drift)
    return fake.create_ticket()["ticket_url"]


@pytest.fixture
def record_run(check_bridge: ServerThread, fake: FakeTenantClient) -> RecordRun:
    """Runs the check's script on the bridge for a fresh ticket, the code from the fake's outbox."""

    async def run(flavour: str, drift: dict[str, Any] | None = None) -> Recording:
        ticket_url = prepare(fake, flavour, drift)
        async with AsyncBridgeClient(check_bridge.base_url, TOKEN) as client:
            return await record(
                client, Target(ticket_url=ticket_url), PHONE, OutboxCodes(fake.base_url, PHONE)
            )

    return run


class CliResult:
    def __init__(self, exit_code: int, output: str, junit: ET.Element | None) -> None:
        self.exit_code = exit_code
        self.output = output
        self.junit = junit

    def section(self, name: str) -> str:
        """The text report's "Breaking" or "Notable" part."""
        breaking, _, notable = self.output.partition("\nNotable (")
        return breaking.partition("\nBreaking (")[2] if name == "breaking" else notable

    def junit_texts(self, tag: str) -> str:
        assert self.junit is not None
        return "\n".join(element.text or "" for element in self.junit.iter(tag))


@pytest.fixture
def run_cli(check_bridge: ServerThread, fake: FakeTenantClient, tmp_path: Path) -> Callable[..., CliResult]:
    """``guardian-bridge check`` in-process against the test bridge, the code from the fake's outbox."""

    def run(flavour: str, drift: dict[str, Any] | None = None, baseline: Path | None = None) -> CliResult:
        ticket_url = prepare(fake, flavour, drift)
        junit_path = tmp_path / "junit.xml"
        args = [
            "check",
            "--ticket-url",
            ticket_url,
            "--phone",
            PHONE,
            "--baseline",
            str(baseline or CONTRACTS / f"{flavour}.json"),
            "--bridge",
            check_bridge.base_url,
            "--token",
            TOKEN,
            "--code-from",
            "outbox",
            "--report",
            str(tmp_path / "report" / "report.txt"),
            "--junit",
            str(junit_path),
        ]
        result = CliRunner().invoke(app, args)
        suite = ET.fromstring(junit_path.read_text(encoding="utf-8")) if junit_path.exists() else None  # noqa: S314 - our own output
        return CliResult(result.exit_code, result.output, suite)

    return run
