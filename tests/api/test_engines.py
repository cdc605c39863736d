"""Choosing the engine through the API: ``engine`` on create, ``auto``'s choice and reason, the default
setting, and a protocol enrollment that needs no browser at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bridge.api import create_app
from bridge.client import BridgeClient
from bridge.models import CapturedCall
from bridge.protocol.compare import call_differences, outcome_differences
from bridge.serving import ServerThread
from guardian_bridge_fake.harness import FakeTenantClient
from tests.api.conftest import TOKEN, bridge_settings

PHONE = "+14155550123"


def _enroll(api: httpx.Client, fake: FakeTenantClient, **body: object) -> dict[str, object]:
    ticket = fake.create_ticket()
    started = api.post(
        "/v1/enrollments", json={"ticket_url": ticket["ticket_url"], "phone_number": PHONE, **body}
    )
    assert started.status_code == 201, started.text
    eid = started.json()["id"]
    done = api.post(f"/v1/enrollments/{eid}/code", json={"code": fake.latest_code(PHONE)}).json()
    assert done["state"] == "completed", done
    assert done["recovery_code"] == fake.ticket_info(ticket["ticket_id"])["recovery_code"]
    result: dict[str, object] = done
    return result


@pytest.mark.parametrize("engine", ["browser", "protocol"])
def test_the_engine_asked_for_is_the_engine_reported(
    flavour: str, engine: str, api: httpx.Client, fake: FakeTenantClient
) -> None:
    done = _enroll(api, fake, engine=engine)
    assert (done["engine"], done["engine_reason"], done["flavour"]) == (engine, None, flavour)
    steps = done["steps"]
    assert isinstance(steps, list)
    assert [s["name"] for s in steps] == ["start", "phone", "code"]
    assert all(s["widget_ms"] > 0 for s in steps)


def test_auto_chooses_the_protocol_for_the_fake_and_says_why(
    flavour: str, api: httpx.Client, fake: FakeTenantClient
) -> None:
    done = _enroll(api, fake, engine="auto")
    assert done["engine"] == "protocol"
    assert str(done["engine_reason"]).startswith("auto: ")


def test_a_guardian_url_needs_an_allowed_host_and_the_protocol(
    api: httpx.Client, fake: FakeTenantClient
) -> None:
    url = fake.create_ticket()["ticket_url"]
    elsewhere = api.post("/v1/enrollments", json={"ticket_url": url, "guardian_url": "https://evil.example/"})
    assert (elsewhere.status_code, elsewhere.json()["error"]["code"]) == (422, "invalid_request")
    browser = api.post(
        "/v1/enrollments",
        json={"ticket_url": url, "engine": "browser", "guardian_url": fake.base_url + "/guardian"},
    )
    assert browser.status_code == 422


def test_the_guardian_url_given_is_the_one_used(api: httpx.Client, fake: FakeTenantClient) -> None:
    fake.set_experience("classic")
    url = fake.create_ticket()["ticket_url"]
    body = {"ticket_url": url, "engine": "protocol", "guardian_url": fake.base_url + "/nowhere"}
    failed = api.post("/v1/enrollments", json=body).json()
    assert failed["state"] == "failed"
    calls = api.get(f"/v1/enrollments/{failed['id']}/calls").json()["calls"]
    assert [c["path"] for c in calls if c["kind"] == "api"] == ["/nowhere/api/start-flow"]


@pytest.fixture(scope="module")
def browserless(
    tmp_path_factory: pytest.TempPathFactory, fake_server: ServerThread
) -> Iterator[httpx.Client]:
    """A bridge whose browser cannot start, defaulting to the protocol engine."""
    settings = bridge_settings(
        tmp_path_factory.mktemp("browserless"),
        fake_server.port,
        browser_executable=str(Path("/nonexistent/chromium")),
        default_engine="protocol",
    )
    with (
        ServerThread(create_app(settings)) as server,
        httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
        ) as client,
    ):
        yield client


def test_a_protocol_enrollment_needs_no_browser(
    flavour: str, browserless: httpx.Client, fake: FakeTenantClient
) -> None:
    assert browserless.get("/healthz").json()["browser_connected"] is False
    assert browserless.get("/readyz").status_code == 204  # its default engine needs no browser
    done = _enroll(browserless, fake)  # BRIDGE_DEFAULT_ENGINE=protocol
    assert done["engine"] == "protocol"
    screenshot = browserless.get(f"/v1/enrollments/{done['id']}/screenshot")
    assert screenshot.status_code == 409


def _scripted(
    api: httpx.Client, fake: FakeTenantClient, engine: str
) -> tuple[dict[str, object], list[CapturedCall]]:
    """Invalid number, number, wrong code, resend, right code: the same script on either engine."""
    started = api.post(
        "/v1/enrollments", json={"ticket_url": fake.create_ticket()["ticket_url"], "engine": engine}
    )
    eid = started.json()["id"]
    api.post(f"/v1/enrollments/{eid}/phone", json={"phone_number": "+15555550100"})
    api.post(f"/v1/enrollments/{eid}/phone", json={"phone_number": PHONE})
    api.post(
        f"/v1/enrollments/{eid}/code", json={"code": "000000" if fake.latest_code(PHONE) != "000000" else "1"}
    )
    api.post(f"/v1/enrollments/{eid}/resend")
    done: dict[str, object] = api.post(
        f"/v1/enrollments/{eid}/code", json={"code": fake.latest_code(PHONE)}
    ).json()
    calls = api.get(f"/v1/enrollments/{eid}/calls").json()["calls"]
    return done, [CapturedCall.model_validate(c) for c in calls]


def test_the_protocol_engine_makes_the_calls_the_widget_makes(
    flavour: str, api: httpx.Client, fake: FakeTenantClient
) -> None:
    """The browser is the oracle: same calls by shape and order, same outcomes, step by step."""
    browser, browser_calls = _scripted(api, fake, "browser")
    protocol, protocol_calls = _scripted(api, fake, "protocol")
    assert browser["state"] == "completed"
    assert outcome_differences(browser, protocol) == []
    assert call_differences(browser_calls, protocol_calls) == []


def test_the_python_client_takes_the_engine(
    flavour: str, bridge_server: ServerThread, fake: FakeTenantClient
) -> None:
    with BridgeClient(bridge_server.base_url, token=TOKEN) as client:
        opened = client.start(fake.create_ticket()["ticket_url"], engine="protocol")
        assert (opened.state.value, opened.engine) == ("awaiting_phone", "protocol")
        client.cancel(opened.id)
        done = client.enroll(
            fake.create_ticket()["ticket_url"],
            phone=PHONE,
            code_source=lambda _: fake.latest_code(PHONE),
            engine="auto",
        )
        assert (done.state.value, done.engine) == ("completed", "protocol")
        assert done.engine_reason is not None
