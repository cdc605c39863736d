"""The protocol engine behind the engine seam: a session opens, reads its screen, and frees everything."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from bridge.artifacts import Artifacts
from bridge.call_log import CallLog
from bridge.engine import Engine, EngineSession, SessionOptions
from bridge.protocol.engine import ProtocolEngine
from bridge.redact import Redactor
from bridge.settings import BridgeSettings
from guardian_bridge_fake.harness import FakeTenantClient


async def test_a_session_on_the_seam(flavour: str, fake: FakeTenantClient, tmp_path: Path) -> None:
    settings = BridgeSettings(
        allowed_hosts=[f"127.0.0.1:{urlsplit(fake.base_url).port}"], artifacts_dir=tmp_path
    )
    protocol = ProtocolEngine(settings)
    engine: Engine = protocol  # mypy checks it fits the seam
    redactor = Redactor()
    calls = CallLog(redactor)
    artifacts = Artifacts(tmp_path, "enr_1")
    session: EngineSession = await engine.new_session(calls, redactor, artifacts, SessionOptions())
    assert session.name == "protocol"
    driver = await session.open(fake.create_ticket()["ticket_url"], 5.0)
    assert driver is not None
    assert driver.flavour.value == flavour
    assert (await driver.ready()).kind == "ok"
    assert await session.screenshot() is None
    screen = await session.read_screen("phone")
    if flavour == "universal":
        assert "phone" in [f.name for f in screen.fields]
        assert "Enter your phone number" in screen.placeholders
    assert calls.total >= 2
    await session.close()
    await protocol.close()  # the connection pool the engine's sessions share
