"""The contract check on the protocol engine, and ``check --engine both``: the browser is the oracle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from bridge.check.contract import Contract
from bridge.check.diff import compare
from bridge.cli.app import app
from bridge.models import CapturedCall
from bridge.protocol.compare import call_differences
from bridge.serving import ServerThread
from guardian_bridge_fake.harness import FakeTenantClient
from tests.check.conftest import PHONE, TOKEN


@pytest.fixture
async def api(check_bridge: ServerThread) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=check_bridge.base_url, headers=headers, timeout=120) as client:
        yield client


async def _check(
    api: httpx.AsyncClient, fake: FakeTenantClient, flavour: str, engine: str, baseline: Any = None
) -> dict[str, Any]:
    fake.set_experience(flavour)  # type: ignore[arg-type]
    body = {
        "ticket_url": fake.create_ticket()["ticket_url"],
        "phone_number": PHONE,
        "code_source": "outbox",
        "engine": engine,
        "baseline": baseline,
    }
    response = await api.post("/v1/checks", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_universal_login_on_the_protocol_engine_keeps_the_browsers_contract(
    api: httpx.AsyncClient, fake: FakeTenantClient
) -> None:
    """Screens read from the parsed pages, calls made by the engine: nothing differs from the contract
    the browser recorded a moment before on the same tenant."""
    browser = (await _check(api, fake, "universal", "browser"))["contract"]
    result = await _check(api, fake, "universal", "protocol", baseline=browser)
    assert result["report"]["differences"] == []
    assert compare(Contract.model_validate(browser), Contract.model_validate(result["contract"])) == []


async def test_classic_on_the_protocol_engine_differs_only_where_it_has_no_page(
    api: httpx.AsyncClient, fake: FakeTenantClient
) -> None:
    """The Classic widget's screens exist only in a browser, and so does its polling; every Guardian call
    the contract holds is made the same way."""
    browser = (await _check(api, fake, "classic", "browser"))["contract"]
    result = await _check(api, fake, "classic", "protocol", baseline=browser)
    differences = result["report"]["differences"]
    calls = [d for d in differences if d["kind"].startswith("call_")]
    assert all("transaction-state" in c["message"] for c in calls), calls
    assert {d["kind"] for d in differences} <= {
        "screen_moved",
        "text_removed",
        "field_removed",
        "call_removed",
    }


@pytest.mark.parametrize("flavour", ["classic", "universal"])
def test_check_on_both_engines_finds_no_difference(
    flavour: str, check_bridge: ServerThread, fake: FakeTenantClient, tmp_path: Path
) -> None:
    """The script once on the browser, once on the protocol engine with a second ticket: same calls,
    outcomes and probes, so nothing breaking."""
    fake.set_experience(flavour)  # type: ignore[arg-type]
    first, second = (fake.create_ticket()["ticket_url"] for _ in range(2))
    args = ["check", "--ticket-url", first, "--second-ticket-url", second, "--engine", "both"]
    # No baseline yet: the browser's run writes it, and only a difference between the engines fails.
    args += ["--phone", PHONE, "--baseline", str(tmp_path / "new.json"), "--code-from", "outbox"]
    args += ["--bridge", check_bridge.base_url, "--token", TOKEN, "--report", str(tmp_path / "r.txt")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "engines differ" not in result.output
    assert (tmp_path / "new.json").exists()


def test_engine_differences_are_breaking_and_say_what_differs() -> None:
    def call(seq: int, endpoint: str, status: int, body: dict[str, str]) -> CapturedCall:
        return CapturedCall(
            seq=seq,
            kind="api",
            method="POST",
            url=f"https://t.example/guardian/api/{endpoint}",
            path=f"/guardian/api/{endpoint}",
            endpoint=endpoint,
            status=status,
            started_at=datetime.now(UTC),
            auth_scheme="Bearer",
            request_body=body,
        )

    browser = [call(1, "sms-enroll", 200, {"phone_number": "x"}), call(2, "transaction-state", 200, {})]
    same = [call(1, "sms-enroll", 200, {"phone_number": "x"})]
    assert call_differences(browser, same) == []  # polling is left out
    other = [call(1, "sms-enroll", 200, {"phone": "x"})]
    assert call_differences(browser, other) == [
        "browser made, protocol did not: api POST sms-enroll auth=Bearer status=200 body=[phone_number]",
        "protocol made, browser did not: api POST sms-enroll auth=Bearer status=200 body=[phone]",
    ]


async def test_post_checks_runs_both_engines_on_two_tickets(
    api: httpx.AsyncClient, fake: FakeTenantClient
) -> None:
    fake.set_experience("universal")
    first, second = (fake.create_ticket()["ticket_url"] for _ in range(2))
    body = {"ticket_url": first, "second_ticket_url": second, "engine": "both"}
    response = await api.post("/v1/checks", json={**body, "phone_number": PHONE, "code_source": "outbox"})
    assert response.status_code == 200, response.text
    assert response.json()["report"] == {**response.json()["report"], "breaking": False, "differences": []}
    alone = {"ticket_url": first, "phone_number": PHONE, "engine": "both", "code_source": "outbox"}
    lonely = await api.post("/v1/checks", json=alone)
    assert (lonely.status_code, lonely.json()["error"]["code"]) == (422, "invalid_request")
