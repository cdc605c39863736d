"""Caps on open event streams, per enrollment and per token: a stream holds a connection and a task for
as long as the enrollment lives, so an unbounded number of them is a cheap way to exhaust the server."""

from __future__ import annotations

from collections import Counter
from types import TracebackType

from bridge.errors import RateLimitedError


class StreamLease:
    """One open stream; closing it (as a context manager or with ``close``) gives its place back."""

    def __init__(self, limits: StreamLimits, enrollment_id: str, owner: str) -> None:
        self._limits = limits
        self._keys = (enrollment_id, owner)
        self._open = True

    def close(self) -> None:
        if self._open:
            self._open = False
            self._limits.release(*self._keys)

    def __enter__(self) -> StreamLease:
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()


class StreamLimits:
    def __init__(self, per_enrollment: int, per_token: int) -> None:
        self.per_enrollment = per_enrollment
        self.per_token = per_token
        self._by_enrollment: Counter[str] = Counter()
        self._by_owner: Counter[str] = Counter()

    def open(self, enrollment_id: str, owner: str) -> StreamLease:
        """A place for one more stream of ``enrollment_id`` by ``owner``, or ``429 rate_limited``."""
        if self._by_enrollment[enrollment_id] >= self.per_enrollment:
            raise RateLimitedError(
                "too many event streams are open for this enrollment",
                enrollment_id=enrollment_id,
                retry_after=5,
            )
        if self._by_owner[owner] >= self.per_token:
            raise RateLimitedError("too many event streams are open for this token", retry_after=5)
        self._by_enrollment[enrollment_id] += 1
        self._by_owner[owner] += 1
        return StreamLease(self, enrollment_id, owner)

    def release(self, enrollment_id: str, owner: str) -> None:
        for counter, key in ((self._by_enrollment, enrollment_id), (self._by_owner, owner)):
            counter[key] -= 1
            if counter[key] <= 0:
                del counter[key]

    def open_streams(self, enrollment_id: str) -> int:
        return self._by_enrollment[enrollment_id]
