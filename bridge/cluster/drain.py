"""Graceful drain on SIGTERM (both modes): stop taking enrollments, let browser enrollments finish, hand
protocol enrollments over through Redis, cancel the rest with ``bridge_shutdown``, then let the server
exit."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

import uvicorn

from bridge import models as m
from bridge.cluster.node import ClusterNode
from bridge.outcomes import OutcomeCode
from bridge.registry import Registry

log = logging.getLogger("bridge.drain")


class Drain:
    def __init__(self, registry: Registry, timeout_s: float, node: ClusterNode | None = None) -> None:
        self._registry = registry
        self._timeout_s = timeout_s
        self._node = node
        self.draining = False
        self._task: asyncio.Task[None] | None = None

    def begin(self, then: Callable[[], None]) -> None:
        """Starts draining (once) on the running loop; calls ``then`` when done."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(then))

    async def _run(self, then: Callable[[], None]) -> None:
        try:
            await self.run()
        finally:
            then()

    def _open(self) -> list[m.EnrollmentState]:
        return [s.state for s in self._registry.all() if not s.closed]

    async def run(self) -> None:
        self.draining = True
        log.info("draining", extra={"open_enrollments": len(self._open())})
        if self._node is not None:
            self._node.draining = True
            await self._node.heartbeat.set_draining()
        handed_over: set[str] = set()
        await self._hand_over(handed_over)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_s
        # Enrollments end from many places (steps, the reaper, cancels): a short poll sees them all. A
        # start admitted just before the signal may register its enrollment only now: the slots in use
        # count it, and a protocol one is handed over as soon as it shows.
        while loop.time() < deadline and (
            self._registry.in_use > 0 or any(not s.closed for s in self._registry.all())
        ):
            await self._hand_over(handed_over)
            await asyncio.sleep(0.2)
        for session in self._registry.all():
            if not session.closed:
                await session.finish(m.EnrollmentState.CANCELLED, OutcomeCode.BRIDGE_SHUTDOWN)
        log.info("drained")

    async def _hand_over(self, done: set[str]) -> None:
        """Cluster mode: lets another replica adopt each open protocol enrollment (between steps)."""
        if self._node is None:
            return
        for session in self._registry.all():
            if session.id in done or session.closed or session.engine != "protocol":
                continue
            if session.state.terminal:
                continue
            async with session.lock:  # never in the middle of a step
                if not session.closed and not session.state.terminal:
                    await self._node.hand_over(session)
            done.add(session.id)


class DrainingServer(uvicorn.Server):
    """uvicorn that drains the app (``app.state.drain``) on the first SIGTERM or SIGINT before it stops
    listening; a second signal stops at once."""

    def __init__(self, config: uvicorn.Config, drain: Callable[[], Drain | None]) -> None:
        super().__init__(config)
        self._drain = drain
        self._loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets)  # type: ignore[arg-type]

    def handle_exit(self, sig: int, frame: object) -> None:
        drain = self._drain()
        if (
            drain is None
            or self._loop is None
            or drain.draining
            or sig not in (signal.SIGTERM, signal.SIGINT)
        ):
            super().handle_exit(sig, frame)  # type: ignore[arg-type]
            return
        drain.draining = True  # /readyz fails from this instant, before the loop runs the drain
        self._loop.call_soon_threadsafe(drain.begin, self._stop)

    def _stop(self) -> None:
        self.should_exit = True
