"""Per-client token buckets: how many enrollments one API token may start per minute."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from bridge.errors import RateLimitedError


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> None:
        """Spends one token of ``key``'s bucket or raises ``RateLimitedError`` with a Retry-After."""
        now = self._clock()
        bucket = self._buckets.setdefault(key, _Bucket(self.capacity, now))
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens < 1:
            wait = math.ceil((1 - bucket.tokens) / self.rate)
            raise RateLimitedError(
                "too many enrollments started with this token; slow down", retry_after=wait
            )
        bucket.tokens -= 1
        if len(self._buckets) > 10_000:  # forget idle clients rather than grow without bound
            full = [k for k, b in self._buckets.items() if b.tokens >= self.capacity]
            for k in full:
                del self._buckets[k]
