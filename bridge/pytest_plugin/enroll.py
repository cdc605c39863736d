"""``enroll_sms``: one complete SMS enrollment per call, what it leaves behind cleaned up afterwards, and the
evidence of a failed one (screenshot, captured calls) kept for the test's report.

The code always comes through the bridge's OTP inbox (the fake's SMS provider or the tenant's forwarding
Action puts it there), so a test never types one.
"""

from __future__ import annotations

import itertools
import os
import re
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from bridge.errors import BridgeError, EnrollmentFailedError
from bridge.models import EngineChoice, Enrollment, EnrollmentState
from bridge.pytest_plugin.hosting import GuardianEnvironment
from bridge.pytest_plugin.tenant import TenantError

# Area codes for per-worker test numbers (NANP 555-0100..0199 are set aside for fiction): one per
# pytest-xdist worker, so no two workers ever send to the same number.
_AREA_CODES = ("415", "212", "312", "617", "206", "303", "512", "702", "404", "503", "602", "919")


def worker_id() -> str:
    """``gw0``, ``gw1``... under pytest-xdist; ``main`` without it."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def worker_index() -> int:
    match = re.fullmatch(r"gw(\d+)", worker_id())
    return int(match.group(1)) if match else 0


class PhoneNumbers:
    """Distinct fictional US numbers: this worker's area code, 555-0100 to 555-0199 in turn."""

    def __init__(self, index: int | None = None) -> None:
        area = _AREA_CODES[(worker_index() if index is None else index) % len(_AREA_CODES)]
        self._numbers = itertools.cycle(f"+1{area}5550{n:03d}" for n in range(100, 200))

    def next(self) -> str:
        return next(self._numbers)


@dataclass
class Evidence:
    """What a failed enrollment left to look at: its screenshot (browser engine) and its calls."""

    enrollment_id: str
    summary: str
    screenshot: Path | None = None
    calls: list[str] = field(default_factory=list)


@dataclass
class _Enrolled:
    user_id: str
    before: frozenset[str]  # the user's enrollments before this one (kept at cleanup)
    created_user: bool  # by this fixture: deleted at cleanup
    keep: bool  # the test opted out of cleanup


class SmsEnroller:
    """The ``enroll_sms`` fixture's value: call it; ``cleanup()`` runs at the test's teardown."""

    def __init__(
        self, env: GuardianEnvironment, artifacts: Path, *, keep: bool = False, timeout: float = 120.0
    ) -> None:
        self._env = env
        self._artifacts = artifacts
        self._keep_all = keep
        self._timeout = timeout
        self._enrolled: list[_Enrolled] = []
        self.evidence: list[Evidence] = []

    def __call__(
        self,
        phone: str,
        *,
        user_id: str | None = None,
        ticket_url: str | None = None,
        engine: EngineChoice | None = None,
        keep: bool = False,
    ) -> Enrollment:
        """Enrolls ``phone`` and returns the ``completed`` enrollment (with its ``recovery_code``).

        With neither ``user_id`` nor ``ticket_url`` a fresh user is created first (and deleted at
        teardown). ``keep=True`` (or the ``guardian_keep`` marker) leaves the enrollment in place.
        Anything else than ``completed`` raises ``EnrollmentFailedError`` (outcome code, widget message).
        """
        tenant = self._env.tenant
        created = False
        if user_id is None and ticket_url is None:
            if tenant is None:
                raise BridgeError(
                    "enroll_sms needs a user_id or a ticket_url, or BRIDGE_AUTH0_* to create a user"
                )
            email = f"guardian-bridge-{worker_id()}-{os.urandom(5).hex()}@example.com"
            user_id = tenant.create_user(email, track=False)
            created = True
        before: frozenset[str] = frozenset()
        if user_id is not None and tenant is not None and not created:
            before = frozenset(str(e["id"]) for e in tenant.enrollments(user_id))
        if user_id is not None:
            self._enrolled.append(_Enrolled(user_id, before, created, keep or self._keep_all))
        try:
            enrollment = self._env.client.enroll(
                ticket_url,
                user_id=None if ticket_url else user_id,
                phone=phone,
                code_source="inbox",
                engine=engine,
                timeout=self._timeout,
            )
        except BridgeError as exc:
            if exc.enrollment_id:
                self._keep_evidence(exc.enrollment_id, f"{exc.code}: {exc.message}")
            raise
        if enrollment.state is not EnrollmentState.COMPLETED:
            raise self._failure(enrollment)
        return enrollment

    def _failure(self, enrollment: Enrollment) -> EnrollmentFailedError:
        error = enrollment.last_error
        outcome = error.code if error else None
        widget = error.widget_message if error else None
        message = f"enrollment {enrollment.id} ended {enrollment.state.value}"
        if error:
            message += f": {error.code} ({error.message})"
        if widget:
            message += f"; the widget said: {widget}"
        self._keep_evidence(enrollment.id, message)
        return EnrollmentFailedError(
            message,
            enrollment_id=enrollment.id,
            outcome=outcome,
            widget_message=widget,
            enrollment=enrollment,
        )

    def _keep_evidence(self, enrollment_id: str, summary: str) -> None:
        evidence = Evidence(enrollment_id, summary)
        client = self._env.client
        # Evidence is a best effort: a protocol-engine enrollment has no screenshot, a vanished one nothing.
        with suppress(BridgeError):
            png = client.screenshot(enrollment_id)
            self._artifacts.mkdir(parents=True, exist_ok=True)
            evidence.screenshot = self._artifacts / f"{enrollment_id}.png"
            evidence.screenshot.write_bytes(png)
        with suppress(BridgeError):
            after = 0
            while True:
                page = client.calls(enrollment_id, after=after, limit=100)
                for c in page.calls:
                    status = "-" if c.status is None else str(c.status)
                    failure = f" ({c.failure})" if c.failure else ""
                    evidence.calls.append(f"#{c.seq} {c.kind} {c.method} {c.endpoint} -> {status}{failure}")
                if not page.calls or page.next_after == after:
                    break
                after = page.next_after
        self.evidence.append(evidence)

    def cleanup(self) -> list[str]:
        """Deletes what the calls enrolled and the users they created, except what a test kept; returns
        what could not be deleted."""
        tenant = self._env.tenant
        problems: list[str] = []
        if tenant is None:
            return problems  # a ticket_url-only run against a bridge without BRIDGE_AUTH0_*: nothing to reach
        for done in self._enrolled:
            if done.keep:
                continue
            try:
                tenant.delete_enrollments(done.user_id, keep=done.before)
                if done.created_user:
                    tenant.delete_user(done.user_id)
            except TenantError as exc:
                problems.append(f"{done.user_id}: {exc}")
        self._enrolled.clear()
        return problems
