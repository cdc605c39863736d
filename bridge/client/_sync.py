"""``BridgeClient``: the bridge's HTTP API over ``httpx.Client``, for code without an event loop."""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Collection
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import httpx

from bridge.client import _core as core
from bridge.client.flow import (
    CallableCodes,
    Codes,
    FlowHooks,
    FlowPlan,
    PrepareCode,
    Probed,
    Send,
    WaitFor,
    enroll_flow,
)
from bridge.models import (
    CallPage,
    Channel,
    CodeSource,
    EngineChoice,
    Enrollment,
    EnrollmentState,
    Health,
    ScreenSnapshot,
)
from bridge.target import EnrollmentTarget

T = TypeVar("T")


class BridgeClient(core.ClientBase):
    """Use as ``with BridgeClient(base_url, token) as bridge:``; the same API as ``AsyncBridgeClient``
    without ``events()`` (``wait`` polls instead)."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, token)
        self._http = httpx.Client(
            base_url=base_url, headers=core.auth_headers(token), timeout=timeout, transport=transport
        )

    def __enter__(self) -> Self:
        self._http.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._http.__exit__(exc_type, exc, tb)

    def close(self) -> None:
        self._http.close()

    def _send(self, call: core.Call[T]) -> T:
        with core.translate_transport_errors():
            response = self._http.request(call.method, call.path, json=call.json, params=call.params)
        return core.parse(call, response)

    def health(self) -> Health:
        return self._send(core.health_call())

    def start(
        self,
        ticket_url: str | None = None,
        *,
        user_id: str | None = None,
        phone_number: str | None = None,
        channel: Channel = "sms",
        code_source: CodeSource | None = None,
        record_screens: bool = False,
        engine: EngineChoice | None = None,
    ) -> Enrollment:
        """Opens the ticket (or one the bridge creates for ``user_id``); with a phone, runs that step too.

        With ``code_source="inbox"`` the bridge submits the code itself, so the state moves on alone.
        With ``record_screens`` the bridge records every screen reached (see ``screens``).
        ``engine`` (browser, protocol or auto) overrides the bridge's BRIDGE_DEFAULT_ENGINE.
        """
        target = EnrollmentTarget.of(ticket_url, user_id)
        call = core.start_call(target, phone_number, channel, code_source, record_screens, engine)
        return self._send(call)

    def submit_phone(
        self, enrollment_id: str, phone_number: str, channel: Channel | None = None
    ) -> Enrollment:
        return self._send(core.phone_call(enrollment_id, phone_number, channel))

    def submit_code(self, enrollment_id: str, code: str) -> Enrollment:
        return self._send(core.code_call(enrollment_id, code))

    def resend(self, enrollment_id: str) -> Enrollment:
        return self._send(core.resend_call(enrollment_id))

    def get(self, enrollment_id: str) -> Enrollment:
        return self._send(core.get_call(enrollment_id))

    def list(self) -> builtins.list[Enrollment]:
        return self._send(core.list_call())

    def cancel(self, enrollment_id: str) -> None:
        self._send(core.cancel_call(enrollment_id))

    def calls(self, enrollment_id: str, after: int = 0, limit: int = 100) -> CallPage:
        return self._send(core.calls_call(enrollment_id, after, limit))

    def screenshot(self, enrollment_id: str) -> bytes:
        """The widget's page as PNG (for a failed enrollment: as it was when it failed)."""
        return self._send(core.screenshot_call(enrollment_id))

    def screens(self, enrollment_id: str) -> builtins.list[ScreenSnapshot]:
        """The screens reached so far (only for an enrollment started with ``record_screens``)."""
        return self._send(core.screens_call(enrollment_id))

    def screen_screenshot(self, enrollment_id: str, index: int) -> bytes:
        """A PNG of screen ``index`` of ``screens`` as it was recorded."""
        return self._send(core.screen_screenshot_call(enrollment_id, index))

    def wait(
        self,
        enrollment_id: str,
        states: Collection[EnrollmentState] = core.TERMINAL_STATES,
        timeout: float = 120.0,
        poll_interval: float = 0.5,
    ) -> Enrollment:
        """The enrollment once its state is in ``states``, or terminal (it can then never get there).

        Polls ``get`` every ``poll_interval`` seconds; ``TimeoutError`` after ``timeout``.
        """
        return self._wait_until(enrollment_id, core.settled(states), timeout, poll_interval)

    def _wait_until(
        self,
        enrollment_id: str,
        done: Callable[[Enrollment], bool],
        timeout: float,
        poll_interval: float,
        seen: Callable[[Enrollment], None] = lambda _: None,
    ) -> Enrollment:
        deadline = time.monotonic() + timeout
        while True:
            current = self.get(enrollment_id)
            seen(current)
            if done(current):
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"enrollment {enrollment_id} did not settle within {timeout:g}s")
            time.sleep(min(poll_interval, remaining))
        return current

    def enroll(
        self,
        ticket_url: str | None = None,
        *,
        user_id: str | None = None,
        phone: str,
        code_source: Literal["inbox"] | Callable[[Enrollment], str],
        channel: Channel = "sms",
        max_code_attempts: int = 3,
        timeout: float = 300.0,
        engine: EngineChoice | None = None,
    ) -> Enrollment:
        """Runs the whole flow; see ``AsyncBridgeClient.enroll`` (here a ``code_source`` returns a str)."""
        inbox = core.uses_inbox(code_source, max_code_attempts)
        plan = FlowPlan(
            EnrollmentTarget.of(ticket_url, user_id),
            phone,
            channel=channel,
            inbox=inbox,
            max_code_attempts=max_code_attempts,
            timeout=timeout,
            engine=engine,
        )
        return self.run_flow(plan, CallableCodes(code_source) if callable(code_source) else None)

    def run_flow(
        self,
        plan: FlowPlan,
        codes: Codes | None,
        hooks: FlowHooks | None = None,
        poll_interval: float = 0.5,
    ) -> Enrollment:
        """Performs ``enroll_flow(plan)``: the codes from ``codes`` (None only with ``plan.inbox``), each
        step reported to ``hooks``. Raised failures propagate; the enrollment may then still be open."""
        hooks = hooks or FlowHooks()
        flow = enroll_flow(plan)
        result: Any = None
        while True:
            try:
                action = flow.send(result)
            except StopIteration as finished:
                enrollment: Enrollment = finished.value
                return enrollment
            result = None
            if isinstance(action, Send):
                with hooks.running(action):
                    result = self._send(action.call)
                hooks.seen(result)
            elif isinstance(action, WaitFor):
                with hooks.running(action):
                    result = self._wait_until(
                        action.enrollment_id, action.done, action.timeout, poll_interval, hooks.seen
                    )
            elif isinstance(action, Probed):
                hooks.probed(action)
            elif codes is None:
                raise ValueError("this flow needs a code source")
            elif isinstance(action, PrepareCode):
                codes.prepare()
            else:
                result = codes.code(action.enrollment, action.attempt)
