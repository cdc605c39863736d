"""The OTP inbox shared by every replica: any replica accepts the signed webhook, replay protection and
the waiting enrollments live in Redis, and a code reaches the replica where its enrollment waits over
Redis pub/sub. The matching rules are the single-process inbox's (``bridge.inbox``: user id first, an
ambiguous code goes to nobody)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.cluster.store import Store, done, stop_task
from bridge.errors import InvalidRequestError, MessageReplayedError, StoreUnavailableError
from bridge.inbox import (
    CLOCK_SKEW_S,
    ENROLLMENT_ACTION,
    Delivery,
    Expectation,
    OtpInbox,
    Receipt,
    digits,
    extract_code,
)

log = logging.getLogger("bridge.cluster")


class ClusterInbox(OtpInbox):
    def __init__(
        self, secret: str | None, max_age_s: float, store: Store, replica_id: str, wait_s: float
    ) -> None:
        super().__init__(secret, max_age_s)
        self._store = store
        self._replica = replica_id
        # An expectation is kept in Redis a little longer than anyone waits for it.
        self._expect_ms = int((wait_s + max_age_s + CLOCK_SKEW_S) * 1000)
        self._seen_ms = int((max_age_s + 2 * CLOCK_SKEW_S) * 1000)
        self._key_of: dict[Expectation, str] = {}
        self._by_key: dict[str, Expectation] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._listener: asyncio.Task[None] | None = None
        # The key the next expectation takes over (an adopted enrollment's wait, started elsewhere).
        self._next_key: str | None = None
        # Waits handed over with their enrollment: left in Redis when this replica lets go of them.
        self._kept: set[str] = set()

    # --- expectations: local futures, mirrored in Redis so any replica can match them ---
    def expect(self, recipient: str, user_id: str | None) -> Expectation:
        expectation = super().expect(recipient, user_id)
        adopted, self._next_key = self._next_key, None
        key = adopted or f"{self._replica}:{uuid.uuid4().hex}"
        self._key_of[expectation] = key
        self._by_key[key] = expectation
        if adopted is None:
            record = json.dumps({"user_id": user_id, "since": expectation.since.isoformat()})
            self._spawn(self._register(expectation.recipient, key, record))
        else:  # registered by the replica that started the wait; its code may already be here
            self._spawn(self._collect(key))
        return expectation

    def key_for(self, recipient: str, user_id: str | None) -> str | None:
        """The key of this replica's open wait for ``recipient`` and ``user_id`` (one enrollment's)."""
        wanted = digits(recipient)
        keys = [
            key
            for e, key in self._key_of.items()
            if e.recipient == wanted and e.user_id == user_id and not e.result.done()
        ]
        return keys[0] if len(keys) == 1 else None

    def keep(self, key: str) -> None:
        """Leaves the wait ``key`` registered in Redis when it ends here: another replica takes it over."""
        self._kept.add(key)

    def take_over(self, key: str) -> None:
        """The next ``expect`` goes on with the wait ``key`` (an adopted enrollment's)."""
        self._next_key = key

    async def _collect(self, key: str) -> None:
        with contextlib.suppress(StoreUnavailableError), self._store.guard("reading a delivered code"):
            raw = await self._store.redis.get(self._store.keys.inbox_delivered(key))
            if raw:
                self._deliver(json.loads(raw))

    def forget(self, expectation: Expectation) -> None:
        super().forget(expectation)
        key = self._key_of.pop(expectation, None)
        if key is not None:
            self._by_key.pop(key, None)
            if key in self._kept:
                self._kept.discard(key)
            else:
                self._spawn(self._unregister(expectation.recipient, key))

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _register(self, recipient: str, key: str, record: str) -> None:
        redis, name = self._store.redis, self._store.keys.inbox_expect(recipient)
        with contextlib.suppress(StoreUnavailableError), self._store.guard("registering an inbox wait"):
            async with redis.pipeline(transaction=True) as pipe:
                pipe.hset(name, key, record)
                pipe.pexpire(name, self._expect_ms)
                await pipe.execute()

    async def _unregister(self, recipient: str, key: str) -> None:
        name = self._store.keys.inbox_expect(recipient)
        with contextlib.suppress(StoreUnavailableError), self._store.guard("ending an inbox wait"):
            await done(self._store.redis.hdel(name, key))

    # --- receiving ---
    async def accept(self, raw: bytes, signature: str | None, now: datetime | None = None) -> Receipt:
        now = now or datetime.now(UTC)
        payload, created = self._checked(raw, signature, now)
        code = extract_code(payload)
        if code is None:
            raise InvalidRequestError("the message carries no code")
        redis, keys = self._store.redis, self._store.keys
        with self._store.guard("checking an inbox message id"):
            # One SET NX for every replica: the first to see an id wins, any later copy is a replay.
            first = await redis.set(keys.inbox_seen(payload.id), "1", nx=True, px=self._seen_ms)
        if not first:
            raise MessageReplayedError("a message with this id was already received")
        if payload.action != ENROLLMENT_ACTION:
            return "ignored"
        return await self._hand_over_shared(digits(payload.recipient), payload.user_id or None, created, code)

    async def _hand_over_shared(
        self, recipient: str, user_id: str | None, created: datetime, code: str
    ) -> Receipt:
        redis, keys = self._store.redis, self._store.keys
        with self._store.guard("matching an inbox message"):
            waiting: dict[str, str] = await done(redis.hgetall(keys.inbox_expect(recipient)))
        skew = timedelta(seconds=CLOCK_SKEW_S)
        same_phone: list[tuple[str, str | None]] = []
        for key, record in waiting.items():
            data = json.loads(record)
            if created >= datetime.fromisoformat(data["since"]) - skew:
                same_phone.append((key, data["user_id"]))
        candidates = same_phone
        if user_id is not None:
            users = [c for c in same_phone if c[1] == user_id]
            candidates = users or [c for c in same_phone if c[1] is None]
        if not candidates:
            return "unmatched"
        with self._store.guard("delivering an inbox code"):
            # Taking the expectations out first: a second message racing this one finds them gone.
            taken = await done(redis.hdel(keys.inbox_expect(recipient), *[key for key, _ in candidates]))
            if taken == 0:
                return "unmatched"
            ambiguous = len(candidates) > 1
            for key, _ in candidates:
                note = json.dumps({"key": key, "code": None if ambiguous else code, "ambiguous": ambiguous})
                # Kept as well as published: the wait's enrollment may be changing replicas right now.
                await redis.set(keys.inbox_delivered(key), note, px=self._expect_ms)
                await redis.publish(keys.inbox_channel, note)
        return "ambiguous" if ambiguous else "matched"

    # --- codes for this replica's enrollments ---
    def start(self) -> None:
        self._listener = asyncio.get_running_loop().create_task(self._listen_forever())

    async def _listen_forever(self) -> None:
        client = self._store.subscriber()
        try:
            while True:
                try:
                    async with client.pubsub() as pubsub:
                        await pubsub.subscribe(self._store.keys.inbox_channel)
                        # Codes published while this replica was not subscribed are kept in Redis too.
                        for key in list(self._by_key):
                            await self._collect(key)
                        async for message in pubsub.listen():
                            if message.get("type") == "message":
                                self._deliver(json.loads(message["data"]))
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # Redis went away: subscribe again once it is back
                    log.warning("inbox subscription lost: %s", type(exc).__name__)
                    await asyncio.sleep(1.0)
        finally:
            await client.aclose()

    def _deliver(self, note: dict[str, Any]) -> None:
        expectation = self._by_key.get(str(note.get("key")))
        if expectation is not None and not expectation.result.done():
            expectation.result.set_result(Delivery(note.get("code"), ambiguous=bool(note.get("ambiguous"))))

    async def close(self) -> None:
        for task in [self._listener, *self._tasks]:
            if task is not None:
                await stop_task(task)
