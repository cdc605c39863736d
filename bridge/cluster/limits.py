"""Limits that hold across replicas in cluster mode: each token's (and everyone's) starts per minute as
token buckets in Redis, and each token's open enrollments counted from the directory."""

from __future__ import annotations

import math

from bridge.cluster.directory import Directory, Heartbeat
from bridge.cluster.store import Store
from bridge.errors import RateLimitedError, SessionLimitError

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


async def check_token_cap(directory: Directory, heartbeat: Heartbeat, owner: str, cap: int) -> None:
    """Refuses a start when ``owner`` already has ``cap`` open enrollments on live replicas."""
    open_ = [e for e in await directory.open() if e.owner_token == owner]
    if len(open_) < cap:
        return
    alive: dict[str, bool] = {}
    count = 0
    for entry in open_:
        if entry.owner not in alive:
            alive[entry.owner] = await heartbeat.replica(entry.owner) is not None
        count += alive[entry.owner]
    if count >= cap:
        raise SessionLimitError(f"this token already has {cap} open enrollments", retry_after=30)
