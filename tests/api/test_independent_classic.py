"""The bridge against a Classic widget imitation built differently from the fake's: its own small
script and Guardian endpoints, a country list keyed by dial codes, a phone field found only by its label,
errors without ARIA roles, a recovery button with no "Continue" on it. What it shares with Auth0's widget
is the documented part: the Guardian calls and the widget's default texts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bridge.serving import ServerThread
from tests.api.conftest import own_bridge
from tests.api.imitation import drive_full_script
from tests.hosting import BridgeHost

RECOVERY = "ZYXW9876VUTS5432RQPO1098"
CODE = "975310"
PAGE = """<!doctype html><html><body><div id="w"></div><script>
const w = document.getElementById('w');
const api = (p, body, auth) => fetch('/g/api/' + p, {method: 'POST', headers: {'Content-Type':
  'application/json', 'Authorization': auth}, body: JSON.stringify(body)});
let tx = null, rc = null;
function phone(err) {
  w.innerHTML = '<p>Please enter your phone in order to enroll.</p>' +
    '<select id="cc"><option value="+44">United Kingdom (+44)</option>' +
    '<option value="+1">United States (+1)</option></select>' +
    '<label for="n">A code will be sent to this number:</label><input id="n" type="text">' +
    (err ? '<div class="err">' + err + '</div>' : '') + '<button id="go">Next \u2192</button>';
  document.getElementById('go').onclick = async () => {
    const number = document.getElementById('cc').value + document.getElementById('n').value;
    const r = await api('device-accounts/d1/sms-enroll', {phone_number: number}, 'Bearer ' + tx);
    if (r.ok) code(); else phone('Seems that your phone number is not valid. Please check and retry.');
  };
}
function code(err) {
  w.innerHTML = '<p>Please enter the received code.</p><input id="c" placeholder="Enter the 6-digit code">' +
    (err ? '<div class="err">' + err + '</div>' : '') + '<button id="ok">Verify</button>';
  document.getElementById('ok').onclick = async () => {
    const r = await api('verify-otp', {type: 'manual_input', code: document.getElementById('c').value},
                        'Bearer ' + tx);
    if (r.status === 204) recovery(); else code('Seems that your code is not valid, please check and retry.');
  };
}
function recovery() {
  w.innerHTML = '<p>Take a note of your recovery code:</p><b>' + rc + '</b>' +
    '<input type="checkbox" id="k"><label for="k">I have safely recorded this code</label>' +
    '<button id="d" disabled>\u2714</button>';
  document.getElementById('k').onchange = e => { document.getElementById('d').disabled = !e.target.checked; };
  document.getElementById('d').onclick = () => { w.innerHTML = '<p>Congratulations, you are all set.</p>'; };
}
api('start-flow', {state_transport: 'polling'}, 'Ticket id="t1"').then(r => r.json()).then(j => {
  tx = j.transaction_token; rc = j.device_account.recovery_code; phone();
});
</script></body></html>"""


async def page(_: Request) -> Response:
    return HTMLResponse(PAGE)


async def start_flow(_: Request) -> Response:
    account = {"id": "d1", "status": "confirmation_pending", "recovery_code": RECOVERY}
    return JSONResponse(
        {"transaction_token": "tok", "enrollment_tx_id": "e1", "device_account": account}, status_code=201
    )


async def sms_enroll(request: Request) -> Response:
    number = (await request.json())["phone_number"]
    if number != "+14155550123":
        body = {"statusCode": 400, "error": "Bad Request", "errorCode": "invalid_phone_number"}
        return JSONResponse(body, status_code=400)
    return JSONResponse({"phone_number": number.lstrip("+")})


async def verify_otp(request: Request) -> Response:
    if (await request.json())["code"] == CODE:
        return Response(status_code=204)
    body = {"statusCode": 401, "error": "Unauthorized", "errorCode": "invalid_otp"}
    return Response(json.dumps(body), status_code=401, media_type="application/json")


ROUTES = [
    Route("/guardian/enroll", page),
    Route("/g/api/start-flow", start_flow, methods=["POST"]),
    Route("/g/api/device-accounts/d1/sms-enroll", sms_enroll, methods=["POST"]),
    Route("/g/api/verify-otp", verify_otp, methods=["POST"]),
]


@pytest.fixture
def other_widget() -> Iterator[ServerThread]:
    with ServerThread(Starlette(routes=ROUTES)) as server:
        yield server


@pytest.fixture
def api(bridge_host: BridgeHost, tmp_path: Path, other_widget: ServerThread) -> Iterator[httpx.Client]:
    with own_bridge(bridge_host, tmp_path, other_widget.port) as client:
        yield client


@pytest.mark.parametrize("engine", ["browser", "auto"])
def test_a_differently_built_classic_widget_is_driven_by_its_calls_and_texts(
    api: httpx.Client, other_widget: ServerThread, engine: str
) -> None:
    ticket_url = f"{other_widget.base_url}/guardian/enroll"
    done = drive_full_script(api, ticket_url, "classic", CODE, RECOVERY, engine)
    # Its script calls a Guardian API the page never names: auto leaves it to the browser.
    assert (done["engine"], bool(done["engine_reason"])) == ("browser", engine == "auto")
    calls = api.get(f"/v1/enrollments/{done['id']}/calls").json()["calls"]
    assert [c["endpoint"] for c in calls if c["kind"] == "api"][:2] == ["start-flow", "sms-enroll"]


def test_the_protocol_engine_refuses_a_widget_whose_api_it_cannot_find(
    api: httpx.Client, other_widget: ServerThread
) -> None:
    """Asked for the protocol engine anyway, it finds no widget options on the page and says so."""
    body = {"ticket_url": f"{other_widget.base_url}/guardian/enroll", "engine": "protocol"}
    refused = api.post("/v1/enrollments", json=body)
    assert (refused.status_code, refused.json()["error"]["code"]) == (502, "widget_unrecognized")
    after = api.get(f"/v1/enrollments/{refused.json()['error']['enrollment_id']}").json()
    assert (after["state"], after["engine"]) == ("failed", "protocol")
