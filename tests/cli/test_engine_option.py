"""``guardian-bridge enroll --engine``: the enrollment runs on the engine asked for, and says so."""

from __future__ import annotations

import json

import pytest

from guardian_bridge_fake.harness import FakeTenantClient
from tests.cli.conftest import PHONE, run_with_code_on_stdin


@pytest.mark.parametrize(("experience", "engine"), [("classic", "protocol"), ("universal", "auto")])
def test_enroll_on_the_engine_asked_for(
    fake: FakeTenantClient, env: dict[str, str], experience: str, engine: str
) -> None:
    fake.set_experience(experience)  # type: ignore[arg-type]
    ticket = fake.create_ticket()
    args = ["--ticket-url", ticket["ticket_url"], "--phone", PHONE, "--code-from", "stdin", "--json"]
    proc = run_with_code_on_stdin([*args, "--engine", engine], env, fake)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert (result["state"], result["flavour"], result["engine"]) == ("completed", experience, "protocol")
    assert result["recovery_code"] == fake.ticket_info(ticket["ticket_id"])["recovery_code"]
