"""One complete enrollment through the bridge's HTTP API, timed per request, as a client would drive it."""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from guardian_bridge_fake.harness import FakeTenantClient

REQUEST_TIMEOUT_S = 60.0

Flavour = Literal["classic", "universal"]
FLAVOURS: tuple[Flavour, ...] = ("classic", "universal")


@dataclass(frozen=True)
class Phone:
    e164: str
    national: str


class Phones:
    """Hands out a different valid US number per enrollment: the fake allows 10 SMS per number per
    hour, and concurrent enrollments must not read each other's codes."""

    def __init__(self) -> None:
        self._next = itertools.count()
        self._lock = threading.Lock()

    def take(self) -> Phone:
        with self._lock:
            n = next(self._next) % 10_000
        national = f"415555{n:04d}"  # 415-555-xxxx: valid to libphonenumber, owned by nobody
        return Phone(e164=f"+1{national}", national=national)


@dataclass
class Run:
    """Wall times of one enrollment, ms. ``code_read`` is reading the SMS from the fake."""

    total: float
    start: float
    phone: float
    code_read: float
    code: float
    # The bridge's own step records (name, duration_ms, widget_ms, ...); empty for the baseline.
    steps: list[dict[str, Any]] = field(default_factory=list)


class EnrollmentFailed(RuntimeError):
    """An enrollment did not reach the state the happy path expects."""


def api_client(base_url: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=REQUEST_TIMEOUT_S
    )


def post_step(api: httpx.Client, path: str, body: dict[str, str], expect: str) -> dict[str, Any]:
    response = api.post(path, json=body)
    if response.status_code not in (200, 201):
        raise EnrollmentFailed(f"{path}: HTTP {response.status_code} {response.text[:200]}")
    enrollment: dict[str, Any] = response.json()
    if enrollment["state"] != expect:
        raise EnrollmentFailed(f"{path}: state {enrollment['state']}, last_error {enrollment['last_error']}")
    return enrollment


def cancel(api: httpx.Client, enrollment_id: str) -> None:
    """Frees the enrollment's session (finished ones answer 204 too). Best effort: it runs while
    another failure is being reported, which must not be replaced by this one's."""
    with contextlib.suppress(httpx.HTTPError):
        api.delete(f"/v1/enrollments/{enrollment_id}")


def enroll(
    api: httpx.Client, fake: FakeTenantClient, ticket_url: str, phone: Phone, engine: str | None = None
) -> Run:
    """ticket -> phone -> code -> recovery acknowledged -> completed, one HTTP request per step, on the
    bridge's default engine unless ``engine`` names one."""
    enrollment_id: str | None = None
    body = {"ticket_url": ticket_url, **({"engine": engine} if engine else {})}
    try:
        t0 = time.perf_counter()
        created = post_step(api, "/v1/enrollments", body, "awaiting_phone")
        enrollment_id = str(created["id"])
        t1 = time.perf_counter()
        post_step(
            api, f"/v1/enrollments/{enrollment_id}/phone", {"phone_number": phone.e164}, "awaiting_code"
        )
        t2 = time.perf_counter()
        code = fake.latest_code(phone.e164)
        t3 = time.perf_counter()
        done = post_step(api, f"/v1/enrollments/{enrollment_id}/code", {"code": code}, "completed")
        t4 = time.perf_counter()
    except BaseException:
        if enrollment_id is not None:
            cancel(api, enrollment_id)
        raise
    return Run(
        total=(t4 - t0) * 1000,
        start=(t1 - t0) * 1000,
        phone=(t2 - t1) * 1000,
        code_read=(t3 - t2) * 1000,
        code=(t4 - t3) * 1000,
        steps=list(done["steps"]),
    )


def open_idle(api: httpx.Client, fake: FakeTenantClient, phone: Phone, engine: str | None = None) -> str:
    """Starts an enrollment with its phone number and leaves it waiting for the code; returns its id."""
    ticket = fake.create_ticket()
    body = {
        "ticket_url": ticket["ticket_url"],
        "phone_number": phone.e164,
        **({"engine": engine} if engine else {}),
    }
    return str(post_step(api, "/v1/enrollments", body, "awaiting_code")["id"])
