"""``AsyncBridgeClient``: the bridge's HTTP API over ``httpx.AsyncClient``, plus its live event stream."""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncGenerator, Awaitable, Callable, Collection
from contextlib import aclosing
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import httpx

from bridge.client import _core as core
from bridge.client._sse import SSEDecoder
from bridge.client.flow import (
    AsyncCallableCodes,
    AsyncCodes,
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
    Event,
    Health,
    ScreenSnapshot,
)
from bridge.target import EnrollmentTarget

T = TypeVar("T")

AsyncCodeSource = Callable[[Enrollment], str | Awaitable[str]]


class AsyncBridgeClient(core.ClientBase):
    """Use as ``async with AsyncBridgeClient(base_url, token) as bridge:``; HTTP errors raise the
    server's own ``BridgeError`` subclasses, an unreachable bridge ``BridgeConnectionError``."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, token)
        self._http = httpx.AsyncClient(
            base_url=base_url, headers=core.auth_headers(token), timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> Self:
        await self._http.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._http.__aexit__(exc_type, exc, tb)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(self, call: core.Call[T]) -> T:
        with core.translate_transport_errors():
            response = await self._http.request(call.method, call.path, json=call.json, params=call.params)
        return core.parse(call, response)

    async def health(self) -> Health:
        return await self._send(core.health_call())

    async def start(
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
        return await self._send(call)

    async def submit_phone(
        self, enrollment_id: str, phone_number: str, channel: Channel | None = None
    ) -> Enrollment:
        return await self._send(core.phone_call(enrollment_id, phone_number, channel))

    async def submit_code(self, enrollment_id: str, code: str) -> Enrollment:
        return await self._send(core.code_call(enrollment_id, code))

    async def resend(self, enrollment_id: str) -> Enrollment:
        return await self._send(core.resend_call(enrollment_id))

    async def get(self, enrollment_id: str) -> Enrollment:
        return await self._send(core.get_call(enrollment_id))

    async def list(self) -> builtins.list[Enrollment]:
        return await self._send(core.list_call())

    async def cancel(self, enrollment_id: str) -> None:
        await self._send(core.cancel_call(enrollment_id))

    async def calls(self, enrollment_id: str, after: int = 0, limit: int = 100) -> CallPage:
        return await self._send(core.calls_call(enrollment_id, after, limit))

    async def screenshot(self, enrollment_id: str) -> bytes:
        """The widget's page as PNG (for a failed enrollment: as it was when it failed)."""
        return await self._send(core.screenshot_call(enrollment_id))

    async def screens(self, enrollment_id: str) -> builtins.list[ScreenSnapshot]:
        """The screens reached so far (only for an enrollment started with ``record_screens``)."""
        return await self._send(core.screens_call(enrollment_id))

    async def screen_screenshot(self, enrollment_id: str, index: int) -> bytes:
        """A PNG of screen ``index`` of ``screens`` as it was recorded."""
        return await self._send(core.screen_screenshot_call(enrollment_id, index))

    async def events(self, enrollment_id: str, after: int = 0) -> AsyncGenerator[Event, None]:
        """The enrollment's events with ``seq`` above ``after``, as they happen. Ends when the server
        closes the stream, which it does once the enrollment is finished. ``Event.at`` is the arrival
        time (the stream carries none). Close it early with ``contextlib.aclosing``."""
        decoder = SSEDecoder()
        with core.translate_transport_errors():
            async with self._http.stream(
                "GET",
                core.enrollment_path(enrollment_id, "events"),
                params={"after": after},
                headers={"Accept": "text/event-stream"},
            ) as response:
                if not response.is_success:
                    await response.aread()
                    raise core.error_from(response)
                async for line in response.aiter_lines():
                    message = decoder.feed(line)
                    event = core.event_from(message) if message is not None else None
                    if event is not None:
                        yield event

    async def wait(
        self,
        enrollment_id: str,
        states: Collection[EnrollmentState] = core.TERMINAL_STATES,
        timeout: float = 120.0,  # noqa: ASYNC109 - the same signature as BridgeClient.wait, on purpose
        poll_interval: float = 0.5,
    ) -> Enrollment:
        """The enrollment once its state is in ``states``, or terminal (it can then never get there).

        Follows ``events()``, and polls ``get`` should the stream break. ``TimeoutError`` after ``timeout``.
        """
        return await self._wait_until(enrollment_id, core.settled(states), timeout, poll_interval)

    async def _wait_until(
        self,
        enrollment_id: str,
        done: Callable[[Enrollment], bool],
        within_s: float,
        poll_interval: float,
        seen: Callable[[Enrollment], None] = lambda _: None,
    ) -> Enrollment:
        async def settled() -> Enrollment | None:
            current = await self.get(enrollment_id)
            seen(current)
            return current if done(current) else None

        try:
            async with asyncio.timeout(within_s):
                if finished := await settled():
                    return finished
                try:
                    async with aclosing(self.events(enrollment_id)) as stream:
                        async for event in stream:
                            # Events say something changed; the enrollment itself says whether it is done.
                            if event.type in ("state", "step") and (finished := await settled()):
                                return finished
                except core.BridgeConnectionError:
                    pass  # the stream broke (a proxy, a network blip): polling still answers
                while True:
                    if finished := await settled():
                        return finished
                    await asyncio.sleep(poll_interval)
        except TimeoutError:
            raise TimeoutError(f"enrollment {enrollment_id} did not settle within {within_s:g}s") from None

    async def enroll(
        self,
        ticket_url: str | None = None,
        *,
        user_id: str | None = None,
        phone: str,
        code_source: Literal["inbox"] | AsyncCodeSource,
        channel: Channel = "sms",
        max_code_attempts: int = 3,
        timeout: float = 300.0,  # noqa: ASYNC109 - the same signature as BridgeClient.enroll, on purpose
        engine: EngineChoice | None = None,
    ) -> Enrollment:
        """Runs the whole flow (start with ``phone``, then the code) and returns the final enrollment.

        ``code_source`` is ``"inbox"`` (the bridge submits the code itself; waited for up to ``timeout``
        seconds) or a callable that gets the enrollment awaiting its code and returns (or awaits to) the
        code; it is called again after a refused code, up to ``max_code_attempts`` times. A refused
        phone, a failed ticket, too many refused codes or an inbox that gave up come back as the
        enrollment as it is, still open where the widget allows another try: ``cancel`` it if you do not
        go on. An exception from ``code_source`` propagates and leaves the enrollment open too.
        """
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
        return await self.run_flow(plan, AsyncCallableCodes(code_source) if callable(code_source) else None)

    async def run_flow(
        self,
        plan: FlowPlan,
        codes: AsyncCodes | None,
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
                    result = await self._send(action.call)
                hooks.seen(result)
            elif isinstance(action, WaitFor):
                with hooks.running(action):
                    result = await self._wait_until(
                        action.enrollment_id, action.done, action.timeout, poll_interval, hooks.seen
                    )
            elif isinstance(action, Probed):
                hooks.probed(action)
            elif codes is None:
                raise ValueError("this flow needs a code source")
            elif isinstance(action, PrepareCode):
                await codes.prepare()
            else:
                result = await codes.code(action.enrollment, action.attempt)
