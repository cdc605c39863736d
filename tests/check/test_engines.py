"""The contract check on the protocol engine: the contract the browser recorded holds for it too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bridge.check.contract import Contract
from bridge.check.diff import compare
from bridge.serving import ServerThread
from guardian_bridge_fake.harness import FakeTenantClient
from tests.check.conftest import PHONE, TOKEN, committed


@pytest.fixture
async def api(check_bridge: ServerThread) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=check_bridge.base_url, headers=headers, timeout=120) as client:
        yield client


async def _check(api: httpx.AsyncClient, fake: FakeTenantClient, flavour: str) -> dict[str, Any]:
    fake.set_experience(flavour)  # type: ignore[arg-type]
    body = {
        "ticket_url": fake.create_ticket()["ticket_url"],
        "phone_number": PHONE,
        "code_source": "outbox",
        "engine": "protocol",
        "baseline": committed(flavour).model_dump(mode="json"),
    }
    response = await api.post("/v1/checks", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_universal_login_on_the_protocol_engine_keeps_the_committed_contract(
    api: httpx.AsyncClient, fake: FakeTenantClient
) -> None:
    """Screens read from the parsed pages, calls made by the engine: nothing differs from the browser's."""
    result = await _check(api, fake, "universal")
    assert result["report"]["differences"] == []
    assert compare(committed("universal"), Contract.model_validate(result["contract"])) == []


async def test_classic_on_the_protocol_engine_differs_only_where_it_has_no_page(
    api: httpx.AsyncClient, fake: FakeTenantClient
) -> None:
    """The Classic widget's screens exist only in a browser, and so does its polling; every Guardian call
    the contract holds is made the same way."""
    result = await _check(api, fake, "classic")
    differences = result["report"]["differences"]
    calls = [d for d in differences if d["kind"].startswith("call_")]
    assert [c["kind"] for c in calls] == ["call_removed"]
    assert "transaction-state" in calls[0]["message"]
    assert {d["kind"] for d in differences} <= {
        "screen_moved",
        "text_removed",
        "field_removed",
        "call_removed",
    }
