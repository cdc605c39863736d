"""Token buckets: how many enrollments one API token, and all tokens together, may start per minute."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from bridge.errors import RateLimitedError

# The key of the bucket every start also spends from.
TOTAL = "*"


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        total_per_minute: int | None = None,
    ) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.total_capacity = float(total_per_minute or per_minute)
        self.total_rate = self.total_capacity / 60.0
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def _refill(self, key: str, capacity: float, rate: float, now: float) -> _Bucket:
        bucket = self._buckets.setdefault(key, _Bucket(capacity, now))
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        return bucket

    def take(self, key: str) -> None:
        """Spends one token of ``key``'s bucket and of the total one, or raises ``RateLimitedError`` with a
        Retry-After (spending from neither)."""
        now = self._clock()
        own = self._refill(key, self.capacity, self.rate, now)
        total = self._refill(TOTAL, self.total_capacity, self.total_rate, now)
        for bucket, rate, whose in ((own, self.rate, "this token"), (total, self.total_rate, "all tokens")):
            if bucket.tokens < 1:
                wait = math.ceil((1 - bucket.tokens) / rate)
                raise RateLimitedError(
                    f"too many enrollments started by {whose}; slow down", retry_after=wait
                )
        own.tokens -= 1
        total.tokens -= 1
        if len(self._buckets) > 10_000:  # forget idle clients rather than grow without bound
            full = [k for k, b in self._buckets.items() if b.tokens >= self.capacity and k != TOTAL]
            for k in full:
                del self._buckets[k]
