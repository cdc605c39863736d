"""The directory of every enrollment in Redis (owner replica, owner token, state, expiry, last view) and
the replicas' heartbeats that say which owners are alive."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from datetime import datetime

from pydantic import BaseModel

from bridge import models as m
from bridge.cluster.store import Store, stop_task
from bridge.engine import EngineName
from bridge.errors import StoreUnavailableError

log = logging.getLogger("bridge.cluster")


class Entry(BaseModel):
    """One enrollment as every replica sees it."""

    id: str
    owner: str  # the replica id holding it (its browser context, or the last to run a protocol step)
    owner_token: str  # the fingerprint of the token that started it (never the token)
    engine: EngineName
    state: m.EnrollmentState
    expires_at: datetime
    # Set by a draining owner: any replica may adopt it (protocol enrollments only).
    handed_over: bool = False
    view: m.Enrollment


class ReplicaInfo(BaseModel):
    replica_id: str
    advertise_url: str
    draining: bool = False


class Directory:
    def __init__(self, store: Store, *, keep_s: float) -> None:
        self._store = store
        self._keys = store.keys
        # An entry outlives its enrollment's longest life plus its retention, then Redis forgets it.
        self._keep_ms = int(keep_s * 1000)

    async def put(
        self, entry: Entry, protocol_state: str | None = None, new_calls: list[str] | None = None
    ) -> None:
        """Writes ``entry`` (and a protocol enrollment's state, a secret kept only here, and the calls it
        captured since the last write) in one round trip."""
        redis, keys = self._store.redis, self._keys
        with self._store.guard("writing the directory"):
            async with redis.pipeline(transaction=True) as pipe:
                pipe.set(keys.enrollment(entry.id), entry.model_dump_json(), px=self._keep_ms)
                if new_calls:
                    pipe.rpush(keys.calls(entry.id), *new_calls)
                    pipe.pexpire(keys.calls(entry.id), self._keep_ms)
                pipe.zadd(keys.enrollments, {entry.id: entry.view.created_at.timestamp()})
                if entry.state.terminal:
                    pipe.zrem(keys.open_enrollments, entry.id)
                else:
                    pipe.zadd(keys.open_enrollments, {entry.id: entry.view.created_at.timestamp()})
                if protocol_state is not None:
                    pipe.set(keys.protocol_state(entry.id), protocol_state, px=self._keep_ms)
                elif entry.state.terminal:
                    pipe.delete(keys.protocol_state(entry.id))
                await pipe.execute()

    async def get(self, enrollment_id: str) -> Entry | None:
        with self._store.guard("reading the directory"):
            raw = await self._store.redis.get(self._keys.enrollment(enrollment_id))
        return Entry.model_validate_json(raw) if raw else None

    async def protocol_state(self, enrollment_id: str) -> str | None:
        with self._store.guard("reading a protocol state"):
            raw: str | None = await self._store.redis.get(self._keys.protocol_state(enrollment_id))
        return raw

    async def calls(self, enrollment_id: str) -> list[m.CapturedCall]:
        """The calls a protocol enrollment captured on the replicas that ran it, in order."""
        with self._store.guard("reading captured calls"):
            # redis-py types list reads as maybe-synchronous; on the asyncio client they are awaitables.
            key = self._keys.calls(enrollment_id)
            raws: list[str] = await self._store.redis.lrange(key, 0, -1)  # type: ignore[misc]
        return [m.CapturedCall.model_validate_json(raw) for raw in raws]

    async def all(self) -> list[Entry]:
        """Every enrollment still known, oldest first; ids whose entry expired are dropped from the index."""
        return await self._entries(self._keys.enrollments)

    async def open(self) -> list[Entry]:
        """The enrollments not finished yet, oldest first."""
        return [e for e in await self._entries(self._keys.open_enrollments) if not e.state.terminal]

    async def _entries(self, index: str) -> list[Entry]:
        redis, keys = self._store.redis, self._keys
        with self._store.guard("listing the directory"):
            cutoff = time.time() - self._keep_ms / 1000
            await redis.zremrangebyscore(index, "-inf", cutoff)
            ids: list[str] = await redis.zrange(index, 0, -1)
            raws = await redis.mget([keys.enrollment(i) for i in ids]) if ids else []
            gone = [i for i, raw in zip(ids, raws, strict=True) if raw is None]
            if gone:
                await redis.zrem(index, *gone)
        return [Entry.model_validate_json(raw) for raw in raws if raw]


class Heartbeat:
    """Keeps this replica's key alive (TTL ``ttl_s``, renewed every third of it) and reads others'."""

    def __init__(self, store: Store, info: ReplicaInfo, ttl_s: float) -> None:
        self._store = store
        self.info = info
        self._ttl_ms = int(ttl_s * 1000)
        self.interval_s = ttl_s / 3
        self._task: asyncio.Task[None] | None = None

    async def beat(self) -> None:
        with self._store.guard("renewing the heartbeat"):
            await self._store.redis.set(
                self._store.keys.replica(self.info.replica_id), self.info.model_dump_json(), px=self._ttl_ms
            )

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._forever())

    async def _forever(self) -> None:
        while True:
            with contextlib.suppress(StoreUnavailableError):  # Store.guard logged it; retried next beat
                await self.beat()
            # While Redis is away, retried often: a Redis that comes back empty has no heartbeat of this
            # replica, and the others must not read that as its death for longer than a moment.
            await asyncio.sleep(self.interval_s if self._store.available else 0.2)

    async def set_draining(self) -> None:
        self.info = self.info.model_copy(update={"draining": True})
        with contextlib.suppress(StoreUnavailableError):
            await self.beat()

    async def stop(self) -> None:
        """Stops beating and removes the key: the others see this replica gone at once."""
        if self._task is not None:
            await stop_task(self._task)
        with contextlib.suppress(StoreUnavailableError), self._store.guard("removing the heartbeat"):
            await self._store.redis.delete(self._store.keys.replica(self.info.replica_id))

    async def replica(self, replica_id: str) -> ReplicaInfo | None:
        """The live replica ``replica_id``; None once its heartbeat key has expired."""
        with self._store.guard("reading a heartbeat"):
            raw = await self._store.redis.get(self._store.keys.replica(replica_id))
        return ReplicaInfo.model_validate(json.loads(raw)) if raw else None
