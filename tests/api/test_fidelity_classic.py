"""The Classic widget in the shapes public evidence allows, each switched on and off on the fake
(``PUT /__test/variants``), through the bridge; Guardian API answers as Auth0's own clients' fixtures
show them, on both engines.

docs/protocol.md#evidence-from-real-pages cites the evidence for each shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from bridge.serving import ServerThread
from guardian_bridge_fake.harness import FakeTenantClient
from tests.api.conftest import TOKEN, bridge_settings
from tests.hosting import BridgeHost, HostedBridge

PHONE = "+14155550123"

Start = Callable[..., dict[str, Any]]


# A tenant's own Classic texts, as BRIDGE_CLASSIC_TEXTS would give them (the fake's "custom" set).
OWN_TEXTS = {"sms_choice": r"text to my mobile", "invalid_otp_format": r"six digits please"}


@pytest.fixture(autouse=True)
def classic(fake: FakeTenantClient) -> None:
    fake.set_experience("classic")


@pytest.fixture(scope="module")
def classic_texts_server(
    tmp_path_factory: pytest.TempPathFactory, bridge_host: BridgeHost, fake_server: ServerThread
) -> Iterator[HostedBridge]:
    settings = bridge_settings(
        tmp_path_factory.mktemp("classic-texts"), fake_server.port, classic_texts=OWN_TEXTS
    )
    with bridge_host.serve(settings) as server:
        yield server


@pytest.fixture
def classic_texts_bridge(classic_texts_server: HostedBridge) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=classic_texts_server.base_url, headers=headers, timeout=60.0) as client:
        yield client


def _post(api: httpx.Client, eid: str, step: str, **body: Any) -> dict[str, Any]:
    response = api.post(f"/v1/enrollments/{eid}/{step}", json=body or None)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.mark.parametrize("buttons", ["unnamed", "named"])
def test_buttons_with_or_without_names(
    buttons: str, api: httpx.Client, fake: FakeTenantClient, start: Start
) -> None:
    fake.variants(classic_buttons=buttons)
    eid = start(phone_number=PHONE)["id"]
    resent = _post(api, eid, "resend")
    assert (resent["state"], resent["last_error"]) == ("awaiting_code", None)
    assert len(fake.sms(PHONE)) == 2
    done = _post(api, eid, "code", code=fake.latest_code(PHONE))
    assert done["state"] == "completed", done
    assert done["recovery_code"]


@pytest.mark.parametrize("label", ["code", "number"])
def test_recovery_checkbox_current_or_older_text(
    label: str, api: httpx.Client, fake: FakeTenantClient, start: Start
) -> None:
    fake.variants(classic_recovery_text=label)
    eid = start(phone_number=PHONE)["id"]
    done = _post(api, eid, "code", code=fake.latest_code(PHONE))
    assert done["state"] == "completed", done


@pytest.mark.parametrize(("messages", "expected"), [(True, "ticket_used"), (False, "ticket_invalid")])
def test_used_ticket_told_apart_only_by_a_message(
    engine: str, messages: bool, expected: str, api: httpx.Client, fake: FakeTenantClient, start: Start
) -> None:
    fake.variants(guardian_error_messages=messages)
    first = start()
    again = api.post(
        "/v1/enrollments", json={"ticket_url": first["_ticket"]["ticket_url"], "engine": engine}
    ).json()
    assert (again["state"], again["last_error"]["code"]) == ("failed", expected)


@pytest.mark.parametrize(
    ("endpoint", "error", "step", "expected"),
    [
        ("start-flow", "feature_disabled", "start", "factor_disabled"),
        ("start-flow", "no_method_available", "start", "factor_disabled"),
        ("sms-enroll", "device_account_not_found", "phone", "enrollment_removed"),
        ("sms-enroll", "transaction_not_found", "phone", "transaction_expired"),
        ("verify-otp", "invalid_token", "code", "transaction_expired"),
        ("verify-otp", "enrollment_not_found", "code", "enrollment_removed"),
    ],
)
def test_guardian_codes_end_clearly(
    engine: str,
    endpoint: str,
    error: str,
    step: str,
    expected: str,
    api: httpx.Client,
    fake: FakeTenantClient,
    start: Start,
) -> None:
    fake.variants(guardian_error_messages=False, api_errors={endpoint: error})
    enrollment = start()
    if step != "start":
        enrollment = _post(api, enrollment["id"], "phone", phone_number=PHONE)
    if step == "code":
        enrollment = _post(api, enrollment["id"], "code", code="123456")
    assert (enrollment["state"], enrollment["last_error"]["code"]) == ("failed", expected), enrollment
    assert enrollment["steps"][-1]["name"] == step


def test_own_texts_from_settings_find_a_customised_chooser(
    classic_texts_bridge: httpx.Client, fake: FakeTenantClient
) -> None:
    # The chooser link is found only by its text, which this tenant changed: BRIDGE_CLASSIC_TEXTS.
    fake.variants(texts="custom")
    fake.settings(enrollment_methods=["push-notification", "sms"])
    ticket = fake.create_ticket()
    body = {"ticket_url": ticket["ticket_url"], "phone_number": PHONE}
    started = classic_texts_bridge.post("/v1/enrollments", json=body).json()
    assert started["state"] == "awaiting_code", started
    code = fake.latest_code(PHONE)
    rejected = classic_texts_bridge.post(
        f"/v1/enrollments/{started['id']}/code", json={"code": "12345"}
    ).json()
    assert rejected["last_error"]["code"] == "invalid_otp_format"
    done = classic_texts_bridge.post(f"/v1/enrollments/{started['id']}/code", json={"code": code}).json()
    assert done["state"] == "completed", done


def test_without_them_the_customised_chooser_is_not_recognised(
    api: httpx.Client, fake: FakeTenantClient
) -> None:
    fake.variants(texts="custom")
    fake.settings(enrollment_methods=["push-notification", "sms"])
    response = api.post("/v1/enrollments", json={"ticket_url": fake.create_ticket()["ticket_url"]})
    assert (response.status_code, response.json()["error"]["code"]) == (502, "widget_unrecognized")
