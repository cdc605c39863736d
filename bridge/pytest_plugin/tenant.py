"""``GuardianTenant``: the Management API calls a test needs (users, tickets, a user's Guardian enrollments).

Works against any tenant the client-credentials application may manage: the embedded fake or a real QA
tenant (``BRIDGE_AUTH0_*``). Errors raise ``TenantError`` with the status and Auth0's error code; the
client secret and the token never appear in one.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx

from bridge.doctor.management import tenant_base

DEFAULT_CONNECTION = "Username-Password-Authentication"  # every Auth0 tenant's default database connection
TOKEN_MARGIN_S = 60.0


class TenantError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"Management API answered {status} {code}: {message}")
        self.status = status
        self.code = code


class GuardianTenant:
    """Use as ``guardian_tenant.create_user()``, ``.enrollments(user_id)``, ``.delete_enrollment(id)``."""

    def __init__(
        self, domain: str, client_id: str, client_secret: str, *, connection: str = DEFAULT_CONNECTION
    ) -> None:
        self.base_url = tenant_base(domain)
        self.connection = connection
        self._client_id = client_id
        self._client_secret = client_secret
        self._http = httpx.Client(base_url=self.base_url, timeout=30.0)
        self._token: str | None = None
        self._token_expires = 0.0
        # Every user create_user made, in order: the guardian_tenant fixture deletes a test's own at teardown.
        self.created_users: list[str] = []

    def close(self) -> None:
        self._http.close()

    def _headers(self) -> dict[str, str]:
        if self._token is None or time.monotonic() > self._token_expires:
            body = {
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self._client_secret,
                "audience": f"{self.base_url}/api/v2/",
            }
            answer = self._checked(self._http.post("/oauth/token", json=body)).json()
            self._token = str(answer["access_token"])
            lifetime = float(answer.get("expires_in", 3600))
            self._token_expires = time.monotonic() + max(lifetime - TOKEN_MARGIN_S, 1.0)
        return {"Authorization": f"Bearer {self._token}"}

    @staticmethod
    def _checked(response: httpx.Response) -> httpx.Response:
        if response.status_code < 400:
            return response
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        code = str(body.get("errorCode") or body.get("error") or "http_error")
        message = str(body.get("message") or body.get("error_description") or response.reason_phrase)
        raise TenantError(response.status_code, code, message)

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self._checked(self._http.request(method, path, headers=self._headers(), **kwargs))

    def create_user(
        self, email: str | None = None, *, connection: str | None = None, track: bool = True
    ) -> str:
        """A new database user (random strong password, nobody logs in with it); returns its ``user_id``.

        ``track=False`` leaves it out of ``created_users`` (``enroll_sms`` deletes its own users)."""
        body = {
            "connection": connection or self.connection,
            "email": email or f"guardian-bridge-{secrets.token_hex(6)}@example.com",
            "password": secrets.token_urlsafe(24) + "aA1!",
        }
        user_id = str(self._call("POST", "/api/v2/users", json=body).json()["user_id"])
        if track:
            self.created_users.append(user_id)
        return user_id

    def delete_user(self, user_id: str) -> None:
        self._call("DELETE", f"/api/v2/users/{user_id}")

    def create_ticket(self, user_id: str) -> str:
        """An enrollment ticket URL for the user (no email is sent)."""
        body = {"user_id": user_id, "send_mail": False}
        return str(self._call("POST", "/api/v2/guardian/enrollments/ticket", json=body).json()["ticket_url"])

    def enrollments(self, user_id: str) -> list[dict[str, Any]]:
        """The user's Guardian enrollments (``GET /api/v2/users/{id}/enrollments``)."""
        found: list[dict[str, Any]] = self._call("GET", f"/api/v2/users/{user_id}/enrollments").json()
        return found

    def delete_enrollment(self, enrollment_id: str) -> None:
        self._call("DELETE", f"/api/v2/guardian/enrollments/{enrollment_id}")

    def delete_enrollments(self, user_id: str, *, keep: set[str] | frozenset[str] = frozenset()) -> int:
        """Deletes the user's enrollments except the ids in ``keep``; returns how many went."""
        gone = 0
        try:
            found = self.enrollments(user_id)
        except TenantError as exc:
            if exc.status == 404:
                return 0  # the user is gone already, and its enrollments with it
            raise
        for enrollment in found:
            if str(enrollment["id"]) not in keep:
                self.delete_enrollment(str(enrollment["id"]))
                gone += 1
        return gone
