"""The Redis connection of cluster mode: key names, and Redis failures translated once (503
``store_unavailable``)."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bridge.errors import StoreUnavailableError

log = logging.getLogger("bridge.cluster")

T = TypeVar("T")

# How long a caller should wait before trying again when Redis does not answer.
RETRY_AFTER_S = 2


async def done(result: Awaitable[T] | T) -> T:
    """The result of a redis-py command: its asyncio client's hash commands are typed as either."""
    return await result if inspect.isawaitable(result) else result


class Keys:
    """Every key the bridge writes, under one prefix so a shared Redis stays tidy."""

    def __init__(self, prefix: str = "gb:") -> None:
        self.prefix = prefix

    def replica(self, replica_id: str) -> str:
        return f"{self.prefix}replica:{replica_id}"

    def enrollment(self, enrollment_id: str) -> str:
        return f"{self.prefix}enr:{enrollment_id}"

    @property
    def enrollments(self) -> str:
        """Sorted set of enrollment ids by creation time (the list's order)."""
        return f"{self.prefix}enrs"

    @property
    def open_enrollments(self) -> str:
        """The same for enrollments not finished yet: what limits and the sweep read, so their cost follows
        the enrollments in flight, not every one kept for the list."""
        return f"{self.prefix}enrs:open"

    def protocol_state(self, enrollment_id: str) -> str:
        return f"{self.prefix}pstate:{enrollment_id}"

    def calls(self, enrollment_id: str) -> str:
        """List of a protocol enrollment's captured calls (redacted as captured), appended after each step
        so that the replica adopting it serves them too."""
        return f"{self.prefix}calls:{enrollment_id}"

    def lock(self, enrollment_id: str) -> str:
        return f"{self.prefix}lock:{enrollment_id}"

    def inbox_seen(self, message_id: str) -> str:
        return f"{self.prefix}inbox:seen:{message_id}"

    def inbox_expect(self, recipient_digits: str) -> str:
        """Hash of the enrollments (on any replica) waiting for a code to one phone number."""
        return f"{self.prefix}inbox:expect:{recipient_digits}"

    def inbox_delivered(self, expectation_key: str) -> str:
        """A code handed to a wait, kept a while so a replica adopting its enrollment still gets it."""
        return f"{self.prefix}inbox:delivered:{expectation_key}"

    @property
    def inbox_channel(self) -> str:
        return f"{self.prefix}inbox:codes"

    def cap_reservations(self, owner: str) -> str:
        """Sorted set of enrollment ids a token's admitted starts will use, scored by when the
        reservation lapses (a replica that died mid-start does not hold the place for ever)."""
        return f"{self.prefix}cap:{owner}"

    def cap_lock(self, owner: str) -> str:
        return f"{self.prefix}cap-lock:{owner}"

    def rate(self, key: str, window: int) -> str:
        return f"{self.prefix}rate:{key}:{window}"


def _raise_if_cancelled(exc: BaseException) -> None:
    """A cancellation that lands while a Redis read is timing out can come out of redis-py as a timeout
    error, the cancellation swallowed; a loop that outlives Redis errors would then never end (a replica
    hung at shutdown that way). A task asked to stop is stopped."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError from exc


async def stop_task(task: asyncio.Task[None], within_s: float = 5.0) -> None:
    """Cancels a background loop and waits for it, but never longer than ``within_s``: shutdown must not
    hang on a loop that failed to notice (see ``_raise_if_cancelled``)."""
    task.cancel()
    await asyncio.wait({task}, timeout=within_s)
    if not task.done():
        log.warning("a background task did not stop when asked: %s", task.get_name())


class Store:
    """One Redis client for the replica; ``guard()`` around every use turns Redis trouble into 503s."""

    def __init__(self, url: str, *, prefix: str = "gb:", timeout_s: float = 2.0) -> None:
        self.redis: aioredis.Redis = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry_on_timeout=False,
            decode_responses=True,
        )
        self.url = url
        self.keys = Keys(prefix)
        # The last outcome seen talking to Redis; /readyz reports it without a round trip of its own.
        self.available = True

    @contextmanager
    def guard(self, what: str) -> Iterator[None]:
        """Redis errors inside the block become ``StoreUnavailableError`` (503, ``Retry-After``)."""
        try:
            yield
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            _raise_if_cancelled(exc)
            if self.available:
                log.warning("redis unavailable while %s: %s", what, type(exc).__name__)
            self.available = False
            raise StoreUnavailableError(
                "the shared store (Redis) is not answering; try again shortly", retry_after=RETRY_AFTER_S
            ) from exc
        except RedisError as exc:
            _raise_if_cancelled(exc)
            log.warning("redis error while %s: %s", what, type(exc).__name__)
            raise StoreUnavailableError(
                "the shared store (Redis) refused a request", retry_after=RETRY_AFTER_S
            ) from exc
        else:
            if not self.available:
                log.info("redis available again")
            self.available = True

    def subscriber(self) -> aioredis.Redis:
        """A client for pub/sub: a subscription waits for messages without a read timeout (the
        connection is checked by Redis health checks instead)."""
        return aioredis.Redis.from_url(
            self.url, socket_connect_timeout=2.0, health_check_interval=5, decode_responses=True
        )

    async def ping(self) -> bool:
        try:
            with self.guard("checking the store"):
                await self.redis.execute_command("PING")  # type: ignore[no-untyped-call]
        except StoreUnavailableError:
            return False
        return True

    async def close(self) -> None:
        await self.redis.aclose()
