"""The bridge against a Universal Login imitation with other markup than the fake's: no ULP classes,
no ARIA alerts, a redeem page under /u/ that does not submit itself, the recovery code in a read-only
field. Only the documented routes, texts and form fields are the same, which is all the bridge uses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bridge.serving import ServerThread
from tests.api.conftest import own_bridge
from tests.api.imitation import drive_full_script
from tests.hosting import BridgeHost

RECOVERY = "ABCD1234EFGH5678IJKL9012"
CODE = "246810"


def _page(body: str) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html><body><main>{body}</main></body></html>")


def _form(inner: str) -> str:
    return f"<form method='post'><input type='hidden' name='state' value='s1'>{inner}</form>"


async def enroll(_: Request) -> Response:
    return RedirectResponse("/u/redeem-ticket?state=s1", status_code=302)


async def redeem(request: Request) -> Response:
    if request.method == "POST":
        return RedirectResponse("/u/mfa-sms-enrollment?state=s1", status_code=302)
    return _page("<h1>Loading...</h1>" + _form("<input type='submit' value='Continue'>"))


async def phone(request: Request) -> Response:
    if request.method == "POST":
        form = await request.form()
        if form.get("phone") == "4155550123":
            return RedirectResponse("/u/mfa-sms-enrollment-verify?state=s1", status_code=302)
        error = "<p class='oops'>Seems that your phone number is not valid. Please check and retry.</p>"
    else:
        error = ""
    return _page(
        "<h1>Secure Your Account</h1>"
        + error
        + _form(
            "<span>US +1</span>"
            "<input type='tel' name='phone' placeholder='Enter your phone number'>"
            "<input type='submit' value='Continue'>"
        )
    )


async def verify(request: Request) -> Response:
    if request.method == "POST":
        form = await request.form()
        if form.get("code") == CODE:
            return RedirectResponse("/u/mfa-recovery-code-enrollment?state=s1", status_code=302)
        return _page("<div>The code you entered is invalid</div>" + _form(_code_field()))
    return _page("<h1>Verify Your Identity</h1>" + _form(_code_field()))


def _code_field() -> str:
    return "<input name='code' placeholder='Enter the 6-digit code'><button>Continue</button>"


async def recovery(request: Request) -> Response:
    if request.method == "POST":
        form = await request.form()
        if form.get("saved") == "on":
            return RedirectResponse("/u/mfa-enroll-result?state=s1", status_code=302)
    return _page(
        "<h1>Almost There!</h1>"
        + _form(
            f"<input readonly value='{RECOVERY}'>"
            "<input type='checkbox' id='saved' name='saved'>"
            "<label for='saved'>I have safely recorded this code</label>"
            "<button>Continue</button>"
        )
    )


async def result(_: Request) -> Response:
    return _page("<h1>You're All Set!</h1><p>You have successfully added a new authentication factor.</p>")


ROUTES = [
    Route("/guardian/enroll", enroll),
    Route("/u/redeem-ticket", redeem, methods=["GET", "POST"]),
    Route("/u/mfa-sms-enrollment", phone, methods=["GET", "POST"]),
    Route("/u/mfa-sms-enrollment-verify", verify, methods=["GET", "POST"]),
    Route("/u/mfa-recovery-code-enrollment", recovery, methods=["GET", "POST"]),
    Route("/u/mfa-enroll-result", result),
]


@pytest.fixture
def other_widget() -> Iterator[ServerThread]:
    with ServerThread(Starlette(routes=ROUTES)) as server:
        yield server


@pytest.fixture
def api(bridge_host: BridgeHost, tmp_path: Path, other_widget: ServerThread) -> Iterator[httpx.Client]:
    with own_bridge(bridge_host, tmp_path, other_widget.port) as client:
        yield client


@pytest.mark.parametrize("engine", ["browser", "protocol", "auto"])
def test_a_differently_built_universal_login_is_driven_by_its_documented_texts(
    api: httpx.Client, other_widget: ServerThread, engine: str
) -> None:
    ticket_url = f"{other_widget.base_url}/guardian/enroll"
    done = drive_full_script(api, ticket_url, "universal", CODE, RECOVERY, engine)
    # Its pages are server-rendered forms with the documented fields: auto finds the protocol enough.
    assert done["engine"] == ("protocol" if engine == "auto" else engine)
