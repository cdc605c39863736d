"""Limits that hold across replicas in cluster mode: each token's (and everyone's) starts per minute as
token buckets in Redis, and each token's open enrollments counted from the directory plus the starts
admitted but not registered yet."""

from __future__ import annotations

import contextlib
import math
import time

from bridge.cluster.directory import Directory, Heartbeat
from bridge.cluster.store import Store
from bridge.errors import RateLimitedError, SessionLimitError, StoreUnavailableError
from bridge.registry import new_enrollment_id

# Both buckets are checked and spent together, atomically, with Redis's own clock (every replica agrees).
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local wait = 0
local state = {}
for i, key in ipairs(KEYS) do
  local cap = tonumber(ARGV[2 * i - 1])
  local rate = tonumber(ARGV[2 * i])
  local b = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens = tonumber(b[1]) or cap
  local ts = tonumber(b[2]) or now
  tokens = math.min(cap, tokens + math.max(0, now - ts) * rate)
  state[i] = tokens
  if tokens < 1 then wait = math.max(wait, (1 - tokens) / rate) end
end
for i, key in ipairs(KEYS) do
  local cap = tonumber(ARGV[2 * i - 1])
  local rate = tonumber(ARGV[2 * i])
  local tokens = state[i]
  if wait == 0 then tokens = tokens - 1 end
  redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', tostring(now))
  redis.call('PEXPIRE', key, math.ceil(cap / rate * 1000) + 1000)
end
return tostring(wait)
"""


class SharedRateLimiter:
    """``per_minute`` starts per key and ``total_per_minute`` for all keys together, across replicas."""

    def __init__(self, store: Store, per_minute: int, total_per_minute: int | None = None) -> None:
        self._store = store
        self._per_minute = per_minute
        self._total = total_per_minute
        self._script = store.redis.register_script(_TAKE)

    async def take(self, key: str) -> None:
        keys = [self._store.keys.rate(key, self._per_minute)]
        args: list[float] = [self._per_minute, self._per_minute / 60]
        if self._total is not None:
            keys.append(self._store.keys.rate("*", self._total))
            args += [self._total, self._total / 60]
        with self._store.guard("counting starts"):
            wait = float(await self._script(keys=keys, args=args))
        if wait > 0:
            raise RateLimitedError(
                "too many enrollments started with this token; slow down", retry_after=math.ceil(wait)
            )


class SharedTokenCap:
    """Each token's open enrollments across replicas.

    Counting the directory alone lets two replicas admitting starts at the same moment both take the last
    place (neither start is registered yet when the other counts), so a start is admitted under a Redis
    lock per token and reserves the id its enrollment will have; the count is the union of the token's open
    enrollments on live replicas and its reservations. The caller releases the reservation once the start
    has run (its enrollment is in the directory by then, or it failed); ``hold_s`` bounds a reservation
    whose replica died before it could.
    """

    def __init__(self, store: Store, directory: Directory, heartbeat: Heartbeat, hold_s: float) -> None:
        self._store = store
        self._directory = directory
        self._heartbeat = heartbeat
        self._hold_s = hold_s

    async def reserve(self, owner: str, cap: int | None) -> str:
        """The id the start's enrollment gets; ``SessionLimitError`` when the token is at ``cap`` (None:
        no cap across replicas, nothing to count)."""
        if cap is None:
            return new_enrollment_id()
        redis, keys = self._store.redis, self._store.keys
        lock = redis.lock(keys.cap_lock(owner), timeout=5, blocking_timeout=5)
        with self._store.guard("counting open enrollments"):
            acquired = await lock.acquire()
        if not acquired:
            raise StoreUnavailableError("the shared store (Redis) is busy; try again shortly", retry_after=1)
        try:
            with self._store.guard("counting open enrollments"):
                now = time.time()
                await redis.zremrangebyscore(keys.cap_reservations(owner), "-inf", now)
                reserved: set[str] = set(await redis.zrange(keys.cap_reservations(owner), 0, -1))
            held = reserved | await self._open_on_live_replicas(owner)
            if len(held) >= cap:
                raise SessionLimitError(f"this token already has {cap} open enrollments", retry_after=30)
            enrollment_id = new_enrollment_id()
            with self._store.guard("reserving an enrollment"):
                await redis.zadd(keys.cap_reservations(owner), {enrollment_id: now + self._hold_s})
                await redis.pexpire(keys.cap_reservations(owner), int(self._hold_s * 1000) + 1000)
            return enrollment_id
        finally:
            with contextlib.suppress(Exception):  # it lapses by itself after its timeout
                await lock.release()

    async def release(self, owner: str, enrollment_id: str) -> None:
        with contextlib.suppress(StoreUnavailableError), self._store.guard("releasing a reservation"):
            await self._store.redis.zrem(self._store.keys.cap_reservations(owner), enrollment_id)

    async def _open_on_live_replicas(self, owner: str) -> set[str]:
        alive: dict[str, bool] = {}
        held = set()
        for entry in await self._directory.open():
            if entry.owner_token != owner:
                continue
            if entry.owner not in alive:
                alive[entry.owner] = await self._heartbeat.replica(entry.owner) is not None
            if alive[entry.owner]:
                held.add(entry.id)
        return held
