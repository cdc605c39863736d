"""In-app SMS enrollment example: an application's backend that enrolls its signed-in user through the bridge.

The browser talks only to this backend, about "my SMS verification"; the backend creates the Guardian
ticket for its own user (Auth0 Management API), drives the bridge with its own API token and passes back
what the page needs: which step is next, the masked phone, a friendly message, and once the recovery code.
The browser never sees a bridge token, a ticket URL or an enrollment id, so it cannot reach anyone
else's enrollment.

Run it with run.py (``--fake`` for the embedded fake tenant and a bridge, all on loopback).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

STATIC = Path(__file__).with_name("static")
SESSION_COOKIE = "inapp_session"
Step = Literal["off", "phone", "code", "recovery", "on"]

# What the person reads for each problem the bridge reports (its stable error codes).
FRIENDLY: dict[str, str] = {
    "invalid_phone_number": "That number can't receive our texts. Check it, including the country code "
    "(for example +1 415 555 0123).",
    "invalid_request": "That number can't receive our texts. Check it, including the country code "
    "(for example +1 415 555 0123).",
    "invalid_otp": "That code isn't right. Check the latest text message and try again.",
    "invalid_otp_format": "Codes are 6 digits. Check the latest text message and try again.",
    "too_many_attempts": "Too many wrong codes. For your security this setup was stopped; start again "
    "in a few minutes.",
    "too_many_sms": "We've sent several codes already. Wait a minute before asking for another one.",
    "resend_limit": "We can't send more codes for this setup. Enter the last code we sent, or cancel and "
    "start again later.",
    "error_sending_sms": "We couldn't send the text message. Try again in a moment.",
    "upstream_error": "We couldn't reach the verification service. Try again in a moment.",
    "expired": "This setup took too long and expired. Start again.",
    "already_enrolled": "SMS verification is already set up for your account.",
    "session_limit": "Many people are setting up verification right now. Try again in a minute.",
    "rate_limited": "Many people are setting up verification right now. Try again in a minute.",
}
GENERIC = "Something went wrong on our side. Try again in a moment."
EXPIRED_CODES = {"enrollment_expired", "enrollment_not_found", "ticket_expired", "ticket_used", "expired"}


@dataclass(frozen=True)
class ExampleConfig:
    """Where the bridge and the tenant are, with this app's own credentials for each."""

    bridge_url: str
    bridge_token: str
    auth0_base_url: str  # https://TENANT.auth0.com, or the fake tenant's http://127.0.0.1:PORT
    auth0_client_id: str
    auth0_client_secret: str
    user_id: str  # the signed-in user of the demo session
    user_name: str = "Ada Lovelace"

    @classmethod
    def from_env(cls) -> ExampleConfig:
        def need(name: str) -> str:
            value = os.environ.get(name, "")
            if not value:
                raise SystemExit(f"set {name} (see examples/in-app/README.md), or run with --fake")
            return value

        domain = need("INAPP_AUTH0_DOMAIN")
        return cls(
            bridge_url=need("INAPP_BRIDGE_URL"),
            bridge_token=need("INAPP_BRIDGE_TOKEN"),
            auth0_base_url=domain if "://" in domain else f"https://{domain}",
            auth0_client_id=need("INAPP_AUTH0_CLIENT_ID"),
            auth0_client_secret=need("INAPP_AUTH0_CLIENT_SECRET"),
            user_id=need("INAPP_USER_ID"),
            user_name=os.environ.get("INAPP_USER_NAME", "Ada Lovelace"),
        )


class Management:
    """The one Management API call this app needs: a Guardian enrollment ticket for its user."""

    def __init__(self, http: httpx.AsyncClient, config: ExampleConfig) -> None:
        self.http = http
        self.config = config
        self._token: tuple[str, float] | None = None

    async def _access_token(self) -> str:
        if self._token is None or self._token[1] < time.monotonic():
            response = await self.http.post(
                f"{self.config.auth0_base_url}/oauth/token",
                json={
                    "grant_type": "client_credentials",
                    "client_id": self.config.auth0_client_id,
                    "client_secret": self.config.auth0_client_secret,
                    "audience": f"{self.config.auth0_base_url}/api/v2/",
                },
            )
            response.raise_for_status()
            body = response.json()
            lifetime = float(body.get("expires_in", 3600))
            self._token = (str(body["access_token"]), time.monotonic() + lifetime / 2)
        return self._token[0]

    async def ticket_url(self, user_id: str) -> str:
        response = await self.http.post(
            f"{self.config.auth0_base_url}/api/v2/guardian/enrollments/ticket",
            json={"user_id": user_id, "send_mail": False},
            headers={"Authorization": f"Bearer {await self._access_token()}"},
        )
        response.raise_for_status()
        return str(response.json()["ticket_url"])


class BridgeProblem(Exception):
    """The bridge answered with an error: its stable code (the message stays on the server)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Bridge:
    """The bridge's HTTP API with this app's token; every reply is an enrollment (or a problem)."""

    def __init__(self, http: httpx.AsyncClient, config: ExampleConfig) -> None:
        self.http = http
        self.base = config.bridge_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {config.bridge_token}"}

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = await self.http.request(
                method, f"{self.base}{path}", json=body, headers=self.headers, timeout=60.0
            )
        except httpx.HTTPError:
            raise BridgeProblem("upstream_error") from None
        if response.status_code == 204:
            return {}
        if response.is_error:
            try:
                code = str(response.json()["error"]["code"])
            except (ValueError, KeyError, TypeError):
                code = "internal_error"
            raise BridgeProblem(code)
        enrollment: dict[str, Any] = response.json()
        return enrollment


@dataclass
class Setup:
    """One signed-in session's SMS setup, kept on the server only."""

    enrollment_id: str | None = None
    step: Step = "off"
    phone: str | None = None  # masked by the bridge, e.g. +1******0123
    recovery_code: str | None = None
    message: str | None = None
    notice: str | None = None

    def view(self) -> dict[str, Any]:
        """What the page may know: never the enrollment id, the ticket or the token."""
        return {
            "step": self.step,
            "phone": self.phone,
            "message": self.message,
            "notice": self.notice,
            "recovery_code": self.recovery_code if self.step == "recovery" else None,
        }

    def follow(self, enrollment: dict[str, Any]) -> None:
        """Moves to the step the bridge's enrollment is at, with a friendly word for any problem."""
        self.enrollment_id = enrollment["id"]
        self.phone = enrollment.get("phone_number") or self.phone
        error = enrollment.get("last_error") or {}
        code = error.get("code")
        state = enrollment["state"]
        self.message = FRIENDLY.get(code, GENERIC) if code else None
        if state == "awaiting_phone":
            self.step = "phone"
        elif state == "awaiting_code":
            self.step = "code"
        elif state == "completed":
            self.step = "recovery"
            self.recovery_code = enrollment.get("recovery_code")
        elif code == "already_enrolled":
            self.step, self.enrollment_id = "on", None
        else:  # failed, expired, cancelled: start over
            self.step, self.enrollment_id = "off", None
            if state == "expired":
                self.message = FRIENDLY["expired"]
            elif not code and state == "failed":
                self.message = GENERIC

    def problem(self, code: str) -> None:
        self.notice = None
        self.message = FRIENDLY["expired"] if code in EXPIRED_CODES else FRIENDLY.get(code, GENERIC)
        if code in EXPIRED_CODES:
            self.step, self.enrollment_id = "off", None


class PhoneBody(BaseModel):
    phone_number: str = Field(min_length=1, max_length=40)


class CodeBody(BaseModel):
    code: str = Field(min_length=1, max_length=16)


def normalise_phone(typed: str) -> str:
    """What people type (spaces, dashes, brackets) in the E.164 form the bridge takes."""
    return re.sub(r"[\s().-]", "", typed)


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def setup_of(request: Request) -> Setup:
    """The demo's "signed-in" session: any browser holding a session cookie is the demo user."""
    sessions: dict[str, Setup] = request.app.state.sessions
    session = request.cookies.get(SESSION_COOKIE)
    if session is None or session not in sessions:
        raise HTTPException(401, "sign in first")
    if request.method == "POST" and request.headers.get("content-type", "") != "application/json":
        # Only this app's own script posts JSON; a cross-site form cannot (with SameSite=Strict too).
        raise HTTPException(415, "JSON only")
    return sessions[session]


SetupDep = Annotated[Setup, Depends(setup_of)]


def create_app(config: ExampleConfig) -> FastAPI:
    sessions: dict[str, Setup] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=30.0) as http:
            app.state.bridge = Bridge(http, config)
            app.state.management = Management(http, config)
            yield

    app = FastAPI(title="In-app SMS enrollment example", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.sessions = sessions

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    def reply(setup: Setup) -> JSONResponse:
        return JSONResponse(setup.view())

    @app.get("/")
    async def index(request: Request) -> Response:
        response = Response((STATIC / "index.html").read_bytes(), media_type="text/html; charset=utf-8")
        if request.cookies.get(SESSION_COOKIE) not in sessions:
            session = secrets.token_urlsafe(24)
            sessions[session] = Setup()
            response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="strict", path="/")
        return response

    @app.get("/static/{name}")
    async def static(name: str) -> Response:
        types = {"app.js": "text/javascript", "app.css": "text/css"}
        if name not in types:
            raise HTTPException(404)
        return Response((STATIC / name).read_bytes(), media_type=f"{types[name]}; charset=utf-8")

    @app.get("/api/me")
    async def me(setup: SetupDep) -> dict[str, Any]:
        return {"name": config.user_name, "sms": setup.view()}

    @app.post("/api/sms/phone")
    async def phone(body: PhoneBody, request: Request, setup: SetupDep) -> JSONResponse:
        bridge: Bridge = request.app.state.bridge
        number = normalise_phone(body.phone_number)
        setup.notice = None
        try:
            if setup.enrollment_id is None:
                ticket_url = await request.app.state.management.ticket_url(config.user_id)
                # ticket_user_id: the bridge then gives this enrollment only codes sent to this user.
                start = {"ticket_url": ticket_url, "ticket_user_id": config.user_id, "phone_number": number}
                enrollment = await bridge.call("POST", "/v1/enrollments", start)
            else:
                enrollment = await bridge.call(
                    "POST", f"/v1/enrollments/{setup.enrollment_id}/phone", {"phone_number": number}
                )
        except BridgeProblem as problem:
            setup.problem(problem.code)
            if setup.step == "off":
                setup.step = "phone"  # the number was refused before an enrollment existed: ask again
            return reply(setup)
        except httpx.HTTPError:
            setup.problem("upstream_error")
            setup.step = "phone"
            return reply(setup)
        setup.follow(enrollment)
        return reply(setup)

    @app.post("/api/sms/code")
    async def code(body: CodeBody, request: Request, setup: SetupDep) -> JSONResponse:
        return await _step(request, setup, "code", {"code": body.code.strip()})

    @app.post("/api/sms/resend")
    async def resend(request: Request, setup: SetupDep) -> JSONResponse:
        response = await _step(request, setup, "resend", None)
        if setup.step == "code" and setup.message is None:
            setup.notice = "We sent a new code."
            return reply(setup)
        return response

    async def _step(request: Request, setup: Setup, path: str, body: dict[str, Any] | None) -> JSONResponse:
        if setup.enrollment_id is None or setup.step != "code":
            raise HTTPException(409, "no code is expected now")
        setup.notice = None
        try:
            enrollment = await request.app.state.bridge.call(
                "POST", f"/v1/enrollments/{setup.enrollment_id}/{path}", body
            )
        except BridgeProblem as problem:
            setup.problem(problem.code)
            return reply(setup)
        setup.follow(enrollment)
        return reply(setup)

    @app.post("/api/sms/cancel")
    async def cancel(request: Request, setup: SetupDep) -> JSONResponse:
        if setup.enrollment_id is not None:
            # A problem means it already ended on the bridge's side: nothing left to cancel.
            with contextlib.suppress(BridgeProblem):
                await request.app.state.bridge.call("DELETE", f"/v1/enrollments/{setup.enrollment_id}")
        setup.enrollment_id, setup.step, setup.message = None, "off", None
        setup.notice = "SMS setup cancelled. Nothing was changed."
        return reply(setup)

    @app.post("/api/sms/saved")
    async def saved(setup: SetupDep) -> JSONResponse:
        """The person confirmed they saved the recovery code: forget it and show verification as on."""
        if setup.step != "recovery":
            raise HTTPException(409, "no recovery code to confirm")
        setup.step, setup.recovery_code, setup.enrollment_id = "on", None, None
        setup.message, setup.notice = None, None
        return reply(setup)

    return app
