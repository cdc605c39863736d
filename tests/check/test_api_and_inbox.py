"""``POST /v1/checks`` on a running bridge, and the check with the code taken by the bridge's OTP inbox."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from bridge.check.contract import Contract, build_contract
from bridge.check.diff import breaking, compare
from bridge.check.runner import Target, record
from bridge.client import AsyncBridgeClient
from bridge.errors import InboxDisabledError
from bridge.serving import ServerThread
from guardian_bridge_fake.harness import FakeTenantClient
from tests.api.conftest import TOKEN as PAIR_TOKEN
from tests.api.test_inbox import Pair
from tests.check.conftest import PHONE, TOKEN, committed
from tests.hosting import BridgeHost


@pytest.fixture
async def api(check_bridge: ServerThread) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=check_bridge.base_url, headers=headers, timeout=120) as client:
        yield client


def _body(fake: FakeTenantClient, flavour: str, **extra: Any) -> dict[str, Any]:
    fake.set_experience(flavour)  # type: ignore[arg-type]
    ticket_url = fake.create_ticket()["ticket_url"]
    return {"ticket_url": ticket_url, "phone_number": PHONE, "code_source": "outbox", **extra}


async def test_a_check_without_baseline_returns_the_contract(
    api: httpx.AsyncClient, fake: FakeTenantClient
) -> None:
    response = await api.post("/v1/checks", json=_body(fake, "universal"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["report"]["differences"] == []
    assert body["report"]["breaking"] is False
    assert compare(committed("universal"), Contract.model_validate(body["contract"])) == []


async def test_a_check_against_a_baseline_reports_drift(
    api: httpx.AsyncClient, fake: FakeTenantClient
) -> None:
    baseline = committed("classic").model_dump(mode="json")
    body = _body(fake, "classic", baseline=baseline)
    fake.drift(status_overrides={"sms-enroll": 201})
    response = await api.post("/v1/checks", json=body)
    assert response.status_code == 200, response.text
    report = response.json()["report"]
    assert report["breaking"] is True
    assert [(d["kind"], d["severity"]) for d in report["differences"]] == [("status_changed", "breaking")]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {
                "ticket_url": "http://127.0.0.1:9/guardian/enroll",
                "phone_number": PHONE,
                "baseline": {"screens": 1},
            },
            422,
            "invalid_request",
        ),
        ({"phone_number": PHONE}, 422, "invalid_request"),
        (
            {
                "ticket_url": "http://127.0.0.1:9/guardian/enroll",
                "phone_number": PHONE,
                "code_source": "inbox",
            },
            InboxDisabledError.status,
            "inbox_disabled",
        ),
        # No code source named: the inbox, never the fake's outbox (this bridge has no inbox secret).
        (
            {"ticket_url": "http://127.0.0.1:9/guardian/enroll", "phone_number": PHONE},
            InboxDisabledError.status,
            "inbox_disabled",
        ),
    ],
)
async def test_requests_the_check_cannot_run_are_refused(
    api: httpx.AsyncClient, body: dict[str, Any], status: int, code: str
) -> None:
    response = await api.post("/v1/checks", json=body)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


async def test_checks_need_the_token(check_bridge: ServerThread) -> None:
    async with httpx.AsyncClient(base_url=check_bridge.base_url) as client:
        response = await client.post(
            "/v1/checks", json={"ticket_url": "http://127.0.0.1:9/guardian/enroll", "phone_number": PHONE}
        )
    assert response.status_code == 401


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, bridge_host: BridgeHost) -> Iterator[Pair]:
    with Pair(tmp_path_factory.mktemp("check-inbox"), bridge_host) as p:
        p.fake.reset()
        yield p


async def test_with_the_inbox_the_wrong_code_probe_is_skipped_and_nothing_breaks(pair: Pair) -> None:
    ticket_url = pair.fake.create_ticket()["ticket_url"]
    async with AsyncBridgeClient(str(pair.api.base_url).rstrip("/"), PAIR_TOKEN) as client:
        recording = await record(client, Target(ticket_url=ticket_url), PHONE, codes=None)
    contract = build_contract(recording)
    assert contract.outcome.state == "completed"
    assert contract.errors.wrong_code is not None
    assert contract.errors.wrong_code.outcome == "skipped"
    assert contract.errors.invalid_phone == committed("classic").errors.invalid_phone
    differences = compare(committed("classic"), contract)
    assert not breaking(differences)
    assert {d.kind for d in differences} == {"code_source", "probe_skipped"}
