"""The load generator's client: one enrollment through the bridge's HTTP API on ``http.client``.

The same requests and checks as ``through_bridge.enroll`` (and the same fake tenant calls as its
``FakeTenantClient``), on the standard library's HTTP/1.1 connection instead of httpx: a kept-alive
``http.client`` request costs about 0.2 ms of CPU on this machine against httpx's 1.3 ms, and a
closed-loop enrollment is seven or more of them, so with httpx the load generator spent about as much
CPU as the bridge it measures. Nothing here is shared between threads.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import time
from typing import Any
from urllib.parse import quote, urlsplit

from bench.through_bridge import REQUEST_TIMEOUT_S, EnrollmentFailed, Phone

# uvicorn closes a connection idle for 5 s; one idle this long is replaced before it is reused, so a
# request is never sent on a connection the server may be closing (a POST must not be retried).
IDLE_REOPEN_S = 2.0
SMS_POLL_S = 0.05
SMS_TIMEOUT_S = 5.0


class RequestFailed(RuntimeError):
    """A request answered with an unexpected status (the load generator's ``raise_for_status``)."""


class KeepAlive:
    """One kept-alive connection to one server, JSON in and out."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(base_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        self._conn: http.client.HTTPConnection | None = None
        self._used = 0.0

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """(status, parsed JSON body or None)."""
        now = time.monotonic()
        if self._conn is not None and now - self._used > IDLE_REOPEN_S:
            self.close()
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self._host, self._port, timeout=REQUEST_TIMEOUT_S)
        payload = None if body is None else json.dumps(body).encode()
        try:
            self._conn.request(method, path, payload, {**self._headers, **(headers or {})})
            response = self._conn.getresponse()
            raw = response.read()
        except BaseException:
            self.close()  # the connection's state is unknown: the next request opens a new one
            raise
        self._used = time.monotonic()
        if response.will_close:
            self.close()
        return response.status, json.loads(raw) if raw else None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class Fake:
    """The fake tenant calls a load generator client makes (see ``FakeTenantClient``)."""

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url.rstrip("/")
        self._http = KeepAlive(self._base_url)
        self._bearer: dict[str, str] = {}

    def close(self) -> None:
        self._http.close()

    def _ok(self, method: str, path: str, body: Any = None, auth: bool = False) -> Any:
        status, answer = self._http.request(method, path, body, self._bearer if auth else None)
        if not 200 <= status < 300:
            raise RequestFailed(f"fake tenant {method} {path}: HTTP {status}")
        return answer

    def login(self) -> None:
        token = self._ok(
            "POST",
            "/oauth/token",
            {
                "grant_type": "client_credentials",
                "client_id": "fake-client",
                "client_secret": "fake-secret",
                "audience": f"{self._base_url}/api/v2/",
            },
        )
        self._bearer = {"Authorization": f"Bearer {token['access_token']}"}

    def create_ticket(self) -> str:
        """A fresh ticket's URL, for a new user."""
        user = self._ok("POST", "/__test/users", {"user_id": None})
        body = {"user_id": user["user_id"], "send_mail": False}
        return str(self._ok("POST", "/api/v2/guardian/enrollments/ticket", body, auth=True)["ticket_url"])

    def latest_code(self, recipient: str) -> str:
        deadline = time.monotonic() + SMS_TIMEOUT_S
        while True:
            messages = self._ok("GET", f"/__test/sms?recipient={quote(recipient)}")
            if messages:
                return str(messages[0]["code"])
            if time.monotonic() > deadline:
                raise TimeoutError("no SMS arrived")
            time.sleep(SMS_POLL_S)


def _step(api: KeepAlive, path: str, body: dict[str, str], expect: str) -> dict[str, Any]:
    status, enrollment = api.request("POST", path, body)
    if status not in (200, 201):
        raise EnrollmentFailed(f"{path}: HTTP {status} {str(enrollment)[:200]}")
    if enrollment["state"] != expect:
        raise EnrollmentFailed(f"{path}: state {enrollment['state']}, last_error {enrollment['last_error']}")
    result: dict[str, Any] = enrollment
    return result


def enroll(api: KeepAlive, fake: Fake, ticket_url: str, phone: Phone, engine: str | None) -> float:
    """ticket -> phone -> code -> completed, as ``through_bridge.enroll``; returns wall ms."""
    enrollment_id: str | None = None
    body = {"ticket_url": ticket_url, **({"engine": engine} if engine else {})}
    try:
        t0 = time.perf_counter()
        enrollment_id = str(_step(api, "/v1/enrollments", body, "awaiting_phone")["id"])
        _step(api, f"/v1/enrollments/{enrollment_id}/phone", {"phone_number": phone.e164}, "awaiting_code")
        code = fake.latest_code(phone.e164)
        _step(api, f"/v1/enrollments/{enrollment_id}/code", {"code": code}, "completed")
        return (time.perf_counter() - t0) * 1000
    except BaseException:
        if enrollment_id is not None:
            # Frees the session; best effort, the first failure is the one reported.
            with contextlib.suppress(OSError, http.client.HTTPException):
                api.request("DELETE", f"/v1/enrollments/{enrollment_id}")
        raise
