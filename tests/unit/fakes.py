"""Fakes behind the core's Protocols (``WidgetDriver``, ``EngineSession``, ``Engine``) and a manual clock,
so the state machine, admission and expiry run without a browser or a tenant."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from bridge.artifacts import Artifacts
from bridge.call_log import CallLog
from bridge.engine import SessionOptions
from bridge.models import Channel, Flavour, ScreenSnapshot
from bridge.outcomes import Outcome
from bridge.phone import PhoneNumber
from bridge.redact import Redactor
from bridge.widgets.base import ScreenObserver, Stopwatch

# What a driver method does when called: answer an outcome, or raise.
Answer = Outcome | BaseException


class FakeDriver:
    """A ``WidgetDriver`` that answers each step from a script (``ok`` when the script runs out)."""

    flavour = Flavour.CLASSIC

    def __init__(self, **script: list[Answer]) -> None:
        self.clock = Stopwatch()
        self.observer: ScreenObserver | None = None
        self._script = script
        self.called: list[str] = []

    async def _answer(self, step: str) -> Outcome:
        self.called.append(step)
        queue = self._script.get(step) or []
        answer = queue.pop(0) if queue else Outcome("ok")
        if isinstance(answer, BaseException):
            raise answer
        return answer

    async def ready(self) -> Outcome:
        return await self._answer("ready")

    async def submit_phone(self, phone: PhoneNumber, channel: Channel) -> Outcome:
        return await self._answer("phone")

    async def submit_code(self, code: str) -> Outcome:
        return await self._answer("code")

    async def resend(self) -> Outcome:
        return await self._answer("resend")

    async def screen_name(self) -> str:
        return "phone"


@dataclass
class FakeEngineSession:
    """An ``EngineSession`` holding no browser: opens ``driver`` (None: an unrecognised page)."""

    driver: FakeDriver | None
    name: Literal["protocol"] = "protocol"
    closed: bool = False
    shots: int = 0
    screens_read: list[str] = field(default_factory=list)

    @contextlib.contextmanager
    def translate_errors(self, what: str) -> Iterator[None]:
        yield

    async def open(self, ticket_url: str, timeout_s: float) -> FakeDriver | None:
        return self.driver

    async def screenshot(self) -> bytes | None:
        self.shots += 1
        return b"\x89PNG fake"

    async def read_screen(self, name: str) -> ScreenSnapshot:
        self.screens_read.append(name)
        return ScreenSnapshot(name=name, path="/fake")

    async def close(self) -> None:
        assert not self.closed, "an engine session is closed once"
        self.closed = True


class FakeEngine:
    """Makes one ``FakeEngineSession`` per enrollment, each with the next scripted driver."""

    name: Literal["protocol"] = "protocol"

    def __init__(self, *drivers: FakeDriver | None) -> None:
        self._drivers = list(drivers)
        self.sessions: list[FakeEngineSession] = []

    async def new_session(
        self, calls: CallLog, redactor: Redactor, artifacts: Artifacts, options: SessionOptions
    ) -> FakeEngineSession:
        driver = self._drivers.pop(0) if self._drivers else FakeDriver()
        session = FakeEngineSession(driver)
        self.sessions.append(session)
        return session


class ManualClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
