"""The protocol engine's safety rules, the engine choice of ``auto``, and pages unlike the fake's."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bridge.call_log import CallLog
from bridge.errors import UpstreamError
from bridge.phone import parse_e164
from bridge.protocol.auto import choose_engine
from bridge.serving import ServerThread, free_port
from guardian_bridge_fake.harness import FakeTenantClient
from tests.api.test_independent_classic import ROUTES as OTHER_CLASSIC
from tests.api.test_independent_markup import CODE as OTHER_CODE
from tests.api.test_independent_markup import RECOVERY as OTHER_RECOVERY
from tests.api.test_independent_markup import ROUTES as OTHER_UNIVERSAL
from tests.protocol.conftest import PHONE, Opener, loopback

POSTED: list[dict[str, str]] = []


def _html(body: str) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html><body>{body}</body></html>")


async def enroll(request: Request) -> Response:
    where = request.query_params.get("to", "/u/mfa-detect-browser-capabilities?state=s1")
    return RedirectResponse(where.replace("PORT", str(request.url.port)), status_code=302)


async def capabilities(request: Request) -> Response:
    if request.method == "POST":
        POSTED.append({k: str(v) for k, v in (await request.form()).items()})
        return RedirectResponse("/u/mfa-sms-enrollment?state=s1", status_code=302)
    return _html(
        "<form method='post'><input type='hidden' name='state' value='s1'>"
        "<input type='hidden' name='js-available'><input type='hidden' name='webauthn-available'>"
        "<input type='hidden' name='action' value='default'></form>"
        "<script>document.forms[0].submit()</script>"
    )


async def phone(request: Request) -> Response:
    if request.method == "POST":
        return _html(
            "<div id='prompt-alert' data-error-code='too-many-sms'><p>Trop de messages</p></div>"
            "<form method='post'><input name='phone'><button name='action' value='default'>OK</button></form>"
        )
    return _html(
        "<form method='post'><input name='phone'><button name='action' value='default'>OK</button></form>"
    )


async def novel(_: Request) -> Response:
    return _html("<form method='post'><input name='favourite_colour'><button>Go</button></form>")


ROUTES = [
    Route("/guardian/enroll", enroll),
    Route("/u/mfa-detect-browser-capabilities", capabilities, methods=["GET", "POST"]),
    Route("/u/mfa-sms-enrollment", phone, methods=["GET", "POST"]),
    Route("/u/brand-new-screen", novel),
    Route("/login", novel),
]


@pytest.fixture(scope="module")
def odd_tenant() -> Iterator[ServerThread]:
    with ServerThread(Starlette(routes=ROUTES)) as server:
        yield server


async def test_a_self_submitting_screen_is_passed_and_codes_beat_texts(
    odd_tenant: ServerThread, open_driver: Opener
) -> None:
    POSTED.clear()
    driver = await open_driver(f"{odd_tenant.base_url}/guardian/enroll")
    assert (await driver.ready()).kind == "ok"
    assert POSTED == [
        {"state": "s1", "js-available": "true", "webauthn-available": "false", "action": "default"}
    ]
    limited = await driver.submit_phone(parse_e164(PHONE), "sms")
    assert (limited.error_code, limited.widget_message) == ("too_many_sms", "Trop de messages")


async def test_an_unknown_screen_is_unrecognised_with_a_snapshot(
    odd_tenant: ServerThread, open_driver: Opener, tmp_path: Path
) -> None:
    driver = await open_driver(f"{odd_tenant.base_url}/guardian/enroll?to=/u/brand-new-screen")
    outcome = await driver.ready()
    assert (outcome.kind, outcome.error_code) == ("rejected", "widget_unrecognized")
    assert driver.snapshot is not None
    assert "favourite_colour" in driver.snapshot
    saved = [p for p in os.scandir(tmp_path) if p.name.endswith("-unrecognized.html")]
    assert len(saved) == 1
    assert saved[0].stat().st_mode & 0o077 == 0  # readable by the bridge's user only


@pytest.mark.parametrize(
    ("target", "reason"),
    [("http://localhost:PORT/u/brand-new-screen", "host not allowed"), ("/login", "route outside")],
)
async def test_every_redirect_hop_is_checked(
    odd_tenant: ServerThread, open_driver: Opener, calls: CallLog, target: str, reason: str
) -> None:
    with pytest.raises(UpstreamError):
        await open_driver(f"{odd_tenant.base_url}/guardian/enroll?to={target}")
    blocked = [c for c in calls.after(0) if c.kind == "blocked"]
    assert len(blocked) == 1
    assert reason in (blocked[0].failure or "")


async def test_environment_proxies_are_ignored(
    fake: FakeTenantClient, open_driver: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, dead)
    driver = await open_driver(fake.create_ticket()["ticket_url"])
    assert (await driver.ready()).kind == "ok"


async def test_captured_calls_hold_no_secrets(
    flavour: str, fake: FakeTenantClient, open_driver: Opener, calls: CallLog
) -> None:
    ticket = fake.create_ticket()
    driver = await open_driver(ticket["ticket_url"])
    await driver.ready()
    await driver.submit_phone(parse_e164(PHONE), "sms")
    code = fake.latest_code(PHONE)
    calls.redactor.add_secret(code)  # the enrollment learns each code as the caller gives it
    done = await driver.submit_code(code)
    captured = json.dumps([c.model_dump(mode="json") for c in calls.after(0)])
    secrets = [ticket["ticket_id"], code, "4155550123", done.recovery_code or "missing"]
    if flavour == "classic":
        secrets.append(driver.state.transaction_token or "missing-token")
    else:
        secrets.append(dict(parse_qsl(urlsplit(driver.state.page_url or "").query))["state"])
    assert [s for s in secrets if s in captured] == []


async def test_auto_picks_protocol_for_the_fake_without_using_the_ticket(
    flavour: str, fake: FakeTenantClient
) -> None:
    ticket = fake.create_ticket()
    choice = await choose_engine(ticket["ticket_url"], loopback(fake.base_url), 5.0)
    assert (choice.engine, choice.flavour and choice.flavour.value) == ("protocol", flavour), choice
    assert fake.ticket_info(ticket["ticket_id"])["used"] is False


async def test_auto_on_the_differently_built_widgets(open_driver: Opener) -> None:
    with ServerThread(Starlette(routes=OTHER_CLASSIC)) as classic:
        choice = await choose_engine(f"{classic.base_url}/guardian/enroll", loopback(classic.base_url), 5.0)
        # Its script calls a Guardian API it never declares: only a browser can find it.
        assert choice.engine == "browser", choice
    with ServerThread(Starlette(routes=OTHER_UNIVERSAL)) as universal:
        url = f"{universal.base_url}/guardian/enroll"
        choice = await choose_engine(url, loopback(url), 5.0)
        assert (choice.engine, choice.reason) == ("protocol", choice.reason)
        driver = await open_driver(url)
        assert (await driver.ready()).kind == "ok"
        bad = await driver.submit_phone(parse_e164("+14155550999"), "sms")
        assert bad.error_code == "invalid_phone_number"
        assert "not valid" in (bad.widget_message or "")
        assert (await driver.submit_phone(parse_e164(PHONE), "sms")).kind == "ok"
        assert (await driver.submit_code("135790")).error_code == "invalid_otp"
        done = await driver.submit_code(OTHER_CODE)
        assert (done.kind, done.recovery_code) == ("ok", OTHER_RECOVERY)


async def test_auto_falls_back_to_the_browser(odd_tenant: ServerThread) -> None:
    nobody = f"http://127.0.0.1:{free_port()}/guardian/enroll"
    gone = await choose_engine(nobody, loopback(nobody), 2.0)
    assert gone.engine == "browser"
    assert "could not be read" in gone.reason
    novel = await choose_engine(
        f"{odd_tenant.base_url}/guardian/enroll?to=/u/brand-new-screen", loopback(odd_tenant.base_url), 2.0
    )
    assert novel.engine == "browser", novel
