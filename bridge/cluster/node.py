"""This replica in the cluster: its heartbeat, what it publishes to the directory after every step, and
adopting protocol enrollments whose owner died or drained."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pydantic import BaseModel

from bridge import models as m
from bridge.cluster.directory import Directory, Entry, Heartbeat, ReplicaInfo
from bridge.cluster.inbox import ClusterInbox
from bridge.cluster.limits import SharedRateLimiter, SharedTokenCap
from bridge.cluster.store import Store, stop_task
from bridge.enrollment import EnrollmentSession
from bridge.errors import EnrollmentNotFoundError, StepOutOfOrderError, StoreUnavailableError
from bridge.outcomes import OutcomeCode
from bridge.phone import parse_e164
from bridge.protocol.engine import ProtocolSession
from bridge.protocol.state import ProtocolState
from bridge.registry import Registry
from bridge.settings import BridgeSettings

log = logging.getLogger("bridge.cluster")


def default_replica_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Saved(BaseModel):
    """What a protocol enrollment needs besides its directory entry to go on elsewhere (secrets: kept
    only in Redis, never logged)."""

    protocol: str  # ProtocolState JSON
    phone: str | None = None  # E.164, for redaction and the OTP inbox
    user_id: str | None = None
    inbox_key: str | None = None  # the OTP inbox wait it has open (code_source "inbox")


class Moved(StepOutOfOrderError):
    """A step for a protocol enrollment another replica has adopted (this one stalled past its heartbeat
    meanwhile): the request goes to ``owner_url``, the replica running it now (None: none is alive)."""

    def __init__(self, entry: Entry, owner_url: str | None) -> None:
        super().__init__("this enrollment is now run by another bridge replica", enrollment_id=entry.id)
        self.entry, self.owner_url = entry, owner_url


class ClusterNode:
    def __init__(self, settings: BridgeSettings, registry: Registry, store: Store) -> None:
        if not settings.advertise_url:
            raise ValueError("cluster mode (BRIDGE_REDIS_URL) needs BRIDGE_ADVERTISE_URL")
        self.settings = settings
        self.replica_id = settings.replica_id or default_replica_id()
        self.store = store
        self.registry = registry
        self.directory = Directory(store, keep_s=settings.max_age_s + settings.retention_s + 60)
        info = ReplicaInfo(replica_id=self.replica_id, advertise_url=settings.advertise_url.rstrip("/"))
        self.heartbeat = Heartbeat(store, info, settings.heartbeat_ttl_s)
        self.draining = False
        # Enrollments this replica let go of (handed over while draining, or adopted elsewhere): it may
        # still have their records, but no longer runs them.
        self._handed_over: set[str] = set()
        # Replicas whose heartbeat the last sweep found missing: a sweep acts on an owner only when it is
        # still missing one sweep later, so a replica that stalled for a moment is not taken for dead.
        self._missing_last_sweep: set[str] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self.limiter = SharedRateLimiter(
            store,
            settings.create_rate_per_minute,
            getattr(settings, "create_rate_per_minute_total", None),
        )
        # A start's reservation outlives any start: its wait for a session, then its step.
        hold_s = settings.queue_timeout_s + settings.step_timeout_s + 30
        self.token_cap = SharedTokenCap(store, self.directory, self.heartbeat, hold_s)
        registry.on_change = self.publish
        registry.step_guard = self.fence
        self._fenced: set[str] = set()  # protocol enrollments running a step under their lock here
        self._calls_written: dict[str, int] = {}  # per protocol enrollment: the last call seq in Redis
        self._letting_go: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        with contextlib.suppress(StoreUnavailableError):  # served anyway; /readyz says the store is down
            await self.heartbeat.beat()
        self.heartbeat.start()
        if isinstance(self.registry.inbox, ClusterInbox):
            self.registry.inbox.start()
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def close(self) -> None:
        if self._sweeper is not None:
            await stop_task(self._sweeper)
        await self.heartbeat.stop()
        if isinstance(self.registry.inbox, ClusterInbox):
            await self.registry.inbox.close()
        await self.store.close()

    # --- the directory ---
    def entry_of(self, session: EnrollmentSession, *, handed_over: bool = False) -> Entry:
        view = session.view()
        return Entry(
            id=session.id,
            owner=self.replica_id,
            owner_token=str(getattr(session, "owner", "open")),
            engine=view.engine,
            state=view.state,
            expires_at=view.expires_at,
            handed_over=handed_over,
            view=view,
        )

    def saved_of(self, session: EnrollmentSession) -> Saved | None:
        engine = session.engine_session
        if not isinstance(engine, ProtocolSession) or engine.driver is None or session.state.terminal:
            return None
        phone = session.phone.e164 if session.phone else None
        inbox = self.registry.inbox
        key = None
        if isinstance(inbox, ClusterInbox) and phone is not None and session.code_source == "inbox":
            key = inbox.key_for(phone, session.user_id)
        return Saved(
            protocol=engine.driver.state.to_json(), phone=phone, user_id=session.user_id, inbox_key=key
        )

    async def publish(self, session: EnrollmentSession, *, claim: bool = False) -> None:
        """Writes the enrollment's entry (and a protocol enrollment's state) after each of its steps;
        ``claim``: names this replica its owner even though the entry names another (an adoption).

        Redis trouble does not undo a step that ran: the entry catches up after the next one.
        """
        if session.id in self._handed_over:
            return  # another replica holds it now: what this one does with its copy is no news
        try:
            # Outside a step (an expiry, a cancel) a protocol enrollment's owner is checked here; a step
            # checked it under the enrollment's lock already.
            unchecked = isinstance(session.engine_session, ProtocolSession) and session.id not in self._fenced
            if unchecked and not claim and await self._adopted_elsewhere(session):
                return  # another replica took it over: what happens to this copy is no news
            await self._put(session)
        except StoreUnavailableError:
            log.warning("enrollment not published to the directory", extra={"enrollment_id": session.id})

    @asynccontextmanager
    async def fence(self, session: EnrollmentSession) -> AsyncIterator[None]:
        """Runs a protocol enrollment's step under its Redis lock, and only while the directory still names
        this replica its owner: one that stalled past its heartbeat may have had the enrollment adopted
        elsewhere, and a step on its stale copy would fork the enrollment (``Moved`` sends it on)."""
        if not _movable(session) or session.id in self._handed_over:
            yield
            return
        timeout = self.settings.step_timeout_s
        lock = self.store.redis.lock(
            self.store.keys.lock(session.id), timeout=timeout + 10, blocking_timeout=timeout + 5
        )
        with self.store.guard("locking an enrollment"):
            acquired = await lock.acquire()
        if not acquired:
            raise StoreUnavailableError("the enrollment is busy on another replica; try again", retry_after=1)
        try:
            entry = await self.directory.get(session.id)
            if entry is not None and entry.owner != self.replica_id:
                self._let_go(session)
                owner = await self.owner_of(entry)
                raise Moved(entry, owner.advertise_url if owner is not None else None)
            self._fenced.add(session.id)
            try:
                yield
            finally:
                self._fenced.discard(session.id)
        finally:
            with contextlib.suppress(Exception):  # it lapses by itself after its timeout
                await lock.release()

    async def _adopted_elsewhere(self, session: EnrollmentSession) -> bool:
        entry = await self.directory.get(session.id)
        if entry is None or entry.owner == self.replica_id:
            return False
        self._let_go(session)
        return True

    def _let_go(self, session: EnrollmentSession) -> None:
        """Drops this replica's stale copy without ending the enrollment (it goes on elsewhere); disposed
        on a task of its own, as the step that found out may be the copy's own inbox task."""
        log.warning(
            "protocol enrollment adopted by another replica; letting go of it here",
            extra={"enrollment_id": session.id},
        )
        self._handed_over.add(session.id)
        self._calls_written.pop(session.id, None)
        task = asyncio.get_running_loop().create_task(session.dispose())
        self._letting_go.add(task)
        task.add_done_callback(self._letting_go.discard)

    async def _put(self, session: EnrollmentSession, *, handed_over: bool = False) -> None:
        saved = self.saved_of(session)
        new_calls: list[m.CapturedCall] = []
        if isinstance(session.engine_session, ProtocolSession):
            # Its calls follow it to whichever replica runs it next: only those not written yet.
            new_calls = session.recorded_calls(self._calls_written.get(session.id, 0))
        await self.directory.put(
            self.entry_of(session, handed_over=handed_over),
            saved.model_dump_json() if saved else None,
            [call.model_dump_json() for call in new_calls],
        )
        if new_calls:
            self._calls_written[session.id] = new_calls[-1].seq
        if session.state.terminal:
            self._calls_written.pop(session.id, None)

    async def owner_of(self, entry: Entry, *, confirm: bool = False) -> ReplicaInfo | None:
        """The live replica holding ``entry``; None when it is gone (or is this replica, which no longer
        holds it: a restart under the same id).

        ``confirm``: a missing heartbeat is read again one renewal later before the owner counts as gone,
        for verdicts that cannot be taken back (``replica_lost``, an adoption): a key can be missing for a
        moment while its replica is fine (Redis restarted empty, a renewal late on a loaded machine).
        """
        if entry.owner == self.replica_id:
            return None
        owner = await self.heartbeat.replica(entry.owner)
        if owner is None and confirm:
            await asyncio.sleep(self.heartbeat.interval_s + 0.1)
            owner = await self.heartbeat.replica(entry.owner)
        return owner

    async def mark_lost(self, entry: Entry) -> Entry:
        """An enrollment whose replica died: ``failed`` / ``replica_lost`` for everyone from now on."""
        if entry.state.terminal:
            return entry
        code = OutcomeCode.REPLICA_LOST
        view = entry.view.model_copy(
            update={
                "state": m.EnrollmentState.FAILED,
                "last_error": m.LastError(code=code, message=code.message),
                "recovery_code": None,
            }
        )
        lost = entry.model_copy(update={"state": view.state, "view": view})
        await self.directory.put(lost)
        log.info("enrollment lost with its replica", extra={"enrollment_id": entry.id})
        return lost

    # --- enrollments nobody asks about: orphans found by looking ---
    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_ttl_s / 2)
            if self.draining:
                return
            try:
                await self.sweep()
            except Exception:  # the sweeper must outlive Redis outages and any one bad entry
                log.warning("directory sweep failed", exc_info=True)

    async def sweep(self) -> int:
        """Adopts the inbox protocol enrollments of dead or drained replicas (their code comes through the
        inbox, not through a caller's request that would adopt them) and marks browser enrollments of dead
        replicas lost; returns how many it adopted. An owner counts as dead here once two sweeps in a row
        found its heartbeat gone (a request that cannot reach it decides sooner, see ``routing``)."""
        adopted = 0
        missing: set[str] = set()
        for entry in await self.directory.open():
            if entry.id in self._handed_over or self.holds(entry.id):
                continue
            owner = await self.owner_of(entry)
            if owner is not None and not entry.handed_over:
                continue
            if owner is None and not entry.handed_over and entry.owner != self.replica_id:
                missing.add(entry.owner)
                if entry.owner not in self._missing_last_sweep:
                    continue  # gone for the first time: confirmed (or not) by the next sweep
            if entry.engine == "browser" and owner is None:
                await self.mark_lost(entry)
            elif entry.engine == "protocol" and entry.view.code_source == "inbox":
                adopted += await self.adopt(entry) is not None
        self._missing_last_sweep = missing
        return adopted

    def holds(self, enrollment_id: str) -> bool:
        """Whether this replica runs the enrollment: it has it and has not let go of it. One that is
        finishing (its engine closing, its final state not written yet) is still held: taking it for
        lost then would overwrite the outcome it is about to publish."""
        try:
            self.registry.get(enrollment_id)
        except EnrollmentNotFoundError:
            return False
        return enrollment_id not in self._handed_over

    # --- protocol enrollments that change hands ---
    async def adopt(self, entry: Entry) -> EnrollmentSession | None:
        """Takes over a protocol enrollment from a dead or drained owner and resumes it here; None when
        there is nothing to go on from (then it is lost like a browser enrollment)."""
        lock = self.store.redis.lock(
            self.store.keys.lock(entry.id),
            timeout=self.settings.step_timeout_s + 10,
            blocking_timeout=self.settings.step_timeout_s + 5,
        )
        with self.store.guard("locking an enrollment"):
            acquired = await lock.acquire()
        if not acquired:
            return None
        try:
            if self.holds(entry.id):
                return self.registry.get(entry.id)  # adopted by a request that held the lock first
            fresh = await self.directory.get(entry.id)
            if fresh is None or fresh.state.terminal:
                return None
            if fresh.owner != entry.owner and await self.owner_of(fresh) is not None:
                return None  # another replica adopted it meanwhile; the caller forwards there
            raw = await self.directory.protocol_state(entry.id)
            if raw is None:
                return None
            saved = Saved.model_validate_json(raw)
            session = await self.registry.create(
                fresh.view.code_source,
                engine="protocol",
                enrollment_id=entry.id,
                owner=fresh.owner_token,
                user_id=saved.user_id,
            )
            self._handed_over.discard(entry.id)  # it may come back to a replica that let go of it once
            engine = session.engine_session
            assert isinstance(engine, ProtocolSession)
            try:
                driver = await engine.resume(
                    ProtocolState.from_json(saved.protocol), self.settings.step_timeout_s
                )
            except BaseException:
                await session.finish(m.EnrollmentState.FAILED, OutcomeCode.REPLICA_LOST)
                raise
            calls = await self.directory.calls(entry.id)
            session.restore(fresh.view, parse_e164(saved.phone) if saved.phone else None, driver, calls)
            self._calls_written[entry.id] = calls[-1].seq if calls else 0  # those already in Redis
            if saved.inbox_key is not None and isinstance(self.registry.inbox, ClusterInbox):
                self.registry.inbox.take_over(saved.inbox_key)
            session.resume_inbox_wait()
            await self.publish(session, claim=True)
            log.info("protocol enrollment adopted", extra={"enrollment_id": entry.id})
            return session
        finally:
            with contextlib.suppress(Exception):
                await lock.release()

    async def hand_over(self, session: EnrollmentSession) -> None:
        """Drain: publishes a protocol enrollment as free to adopt, then lets go of it here."""
        saved = self.saved_of(session)
        try:
            await self._put(session, handed_over=True)
        except StoreUnavailableError:
            return  # not handed over: it stays here and ends with the drain like a browser enrollment
        if saved is not None and saved.inbox_key and isinstance(self.registry.inbox, ClusterInbox):
            self.registry.inbox.keep(saved.inbox_key)  # its code goes to whoever adopts it
        self._handed_over.add(session.id)
        self._calls_written.pop(session.id, None)
        await session.dispose()


def cluster_store(settings: BridgeSettings) -> Store | None:
    """The Redis connection when ``BRIDGE_REDIS_URL`` is set; None in single-process mode."""
    return Store(settings.redis_url.get_secret_value()) if settings.redis_url is not None else None


def cluster_inbox(settings: BridgeSettings, store: Store) -> ClusterInbox:
    secret = settings.otp_inbox_secret.get_secret_value() if settings.otp_inbox_secret else None
    replica = settings.replica_id or default_replica_id()
    return ClusterInbox(secret, settings.otp_inbox_max_age_s, store, replica, settings.inbox_wait_s)


def cluster_node(settings: BridgeSettings, registry: Registry, store: Store | None) -> ClusterNode | None:
    """This replica's node in cluster mode; None in single-process mode."""
    return ClusterNode(settings, registry, store) if store is not None else None


def _movable(session: EnrollmentSession) -> bool:
    """A protocol enrollment still going: the kind another replica can adopt."""
    return isinstance(session.engine_session, ProtocolSession) and not session.state.terminal
