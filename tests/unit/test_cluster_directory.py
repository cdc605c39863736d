"""The cluster directory, heartbeats and Redis-outage translation against a real redis-server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bridge import models as m
from bridge.cluster.directory import Directory, Entry, Heartbeat, ReplicaInfo
from bridge.cluster.limits import SharedTokenCap
from bridge.cluster.store import Store, stop_task
from bridge.errors import SessionLimitError, StoreUnavailableError
from tests.cluster.redis_server import RedisServer


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


def _entry(
    enrollment_id: str, owner: str = "r1", state: m.EnrollmentState = m.EnrollmentState.AWAITING_PHONE
) -> Entry:
    now = datetime.now(UTC)
    view = m.Enrollment(
        id=enrollment_id, state=state, created_at=now, updated_at=now, expires_at=now + timedelta(minutes=5)
    )
    return Entry(
        id=enrollment_id,
        owner=owner,
        owner_token="f" * 16,
        engine="protocol",
        state=state,
        expires_at=view.expires_at,
        view=view,
    )


async def test_entries_and_protocol_state_are_shared_and_listed_oldest_first(redis: RedisServer) -> None:
    store, second = Store(redis.url, prefix="t1:"), Store(redis.url, prefix="t1:")
    try:
        directory = Directory(store, keep_s=60)
        await directory.put(_entry("enr_a"), protocol_state="secret-state")
        await directory.put(_entry("enr_b", owner="r2"))
        # A second client (another replica) reads what the first wrote.
        other = Directory(second, keep_s=60)
        got = await other.get("enr_a")
        assert got is not None
        assert got.owner == "r1"
        assert got.view.state is m.EnrollmentState.AWAITING_PHONE
        assert await other.protocol_state("enr_a") == "secret-state"
        assert [e.id for e in await other.all()] == ["enr_a", "enr_b"]
        assert [e.id for e in await other.open()] == ["enr_a", "enr_b"]
        # Ending drops the protocol state: nothing secret outlives the enrollment.
        await directory.put(_entry("enr_a", state=m.EnrollmentState.COMPLETED))
        assert await other.protocol_state("enr_a") is None
        # A finished enrollment stays listed but leaves what limits and the sweep read.
        assert {e.id for e in await other.all()} == {"enr_a", "enr_b"}
        assert [e.id for e in await other.open()] == ["enr_b"]
        assert await other.get("enr_missing") is None
    finally:
        await store.close()
        await second.close()


async def test_a_replica_is_alive_while_it_beats_and_gone_after_its_ttl_or_its_stop(
    redis: RedisServer,
) -> None:
    store = Store(redis.url, prefix="t2:")
    try:
        beat = Heartbeat(store, ReplicaInfo(replica_id="r1", advertise_url="http://127.0.0.1:1"), ttl_s=1.0)
        beat.start()
        await asyncio.sleep(1.5)  # longer than the TTL: only renewals keep it
        seen = await beat.replica("r1")
        assert seen is not None
        assert seen.advertise_url == "http://127.0.0.1:1"
        assert not seen.draining
        await beat.set_draining()
        seen = await beat.replica("r1")
        assert seen is not None
        assert seen.draining
        await beat.stop()
        assert await beat.replica("r1") is None
        # A replica that stops beating without saying so (kill -9) is gone once its TTL runs out.
        silent = Heartbeat(store, ReplicaInfo(replica_id="r2", advertise_url="http://x"), ttl_s=1.0)
        await silent.beat()
        assert await silent.replica("r2") is not None
        await asyncio.sleep(1.2)
        assert await silent.replica("r2") is None
    finally:
        await store.close()


async def test_redis_down_is_store_unavailable_with_retry_after_and_recovers() -> None:
    server = RedisServer().start()
    store = Store(server.url, prefix="t3:", timeout_s=0.5)
    directory = Directory(store, keep_s=60)
    try:
        await directory.put(_entry("enr_a"))
        server.stop()
        with pytest.raises(StoreUnavailableError) as caught:
            await directory.get("enr_a")
        assert caught.value.status == 503
        assert caught.value.retry_after == 2
        assert not store.available
        assert not await store.ping()
        server = RedisServer(server.port).start()  # Redis is back, on the same address
        assert await directory.get("enr_a") is None  # nothing persisted: an empty Redis, answering again
        assert store.available
        assert await store.ping()
    finally:
        await store.close()
        server.stop()


async def test_a_token_cap_holds_when_two_replicas_admit_starts_at_the_same_moment(
    redis: RedisServer,
) -> None:
    stores = [Store(redis.url, prefix="t4:"), Store(redis.url, prefix="t4:")]
    try:
        caps = []
        for n, store in enumerate(stores):
            directory = Directory(store, keep_s=60)
            beat = Heartbeat(store, ReplicaInfo(replica_id=f"r{n}", advertise_url="http://x"), ttl_s=30)
            await beat.beat()
            caps.append(SharedTokenCap(store, directory, beat, hold_s=30))
        # One enrollment of the token already runs on a live replica: it counts.
        await Directory(stores[0], keep_s=60).put(_entry("enr_running", owner="r0"))
        owner = "f" * 16

        async def start(cap: SharedTokenCap) -> str | None:
            try:
                return await cap.reserve(owner, 4)
            except SessionLimitError:
                return None

        results = await asyncio.gather(*(start(caps[i % 2]) for i in range(12)))
        admitted = [r for r in results if r is not None]
        assert len(admitted) == 3, "the fourth place is the running enrollment's"
        assert len(set(admitted)) == 3
        # Another token is counted on its own.
        assert await caps[1].reserve("e" * 16, 4)
        # A start that has run gives its place back (its enrollment, if any, counts from the directory).
        await caps[0].release(owner, admitted[0])
        assert await start(caps[1]) is not None
        assert await start(caps[0]) is None
        # No cap set: nothing is counted.
        assert await caps[0].reserve(owner, None)
    finally:
        for store in stores:
            await store.close()


async def test_a_reservation_lapses_and_a_dead_replica_s_enrollments_do_not_count(redis: RedisServer) -> None:
    store = Store(redis.url, prefix="t5:")
    try:
        directory = Directory(store, keep_s=60)
        beat = Heartbeat(store, ReplicaInfo(replica_id="alive", advertise_url="http://x"), ttl_s=30)
        await beat.beat()
        cap = SharedTokenCap(store, directory, beat, hold_s=0.5)
        owner = "f" * 16
        await directory.put(_entry("enr_orphan", owner="dead"))  # its replica has no heartbeat
        assert await cap.reserve(owner, 1)
        with pytest.raises(SessionLimitError):
            await cap.reserve(owner, 1)
        await asyncio.sleep(0.7)  # the replica that reserved it never released it (it died mid-start)
        assert await cap.reserve(owner, 1)
    finally:
        await store.close()


async def test_a_loop_that_outlives_redis_errors_still_stops_when_cancelled() -> None:
    """redis-py can turn a cancellation that lands as a read times out into a timeout error; a loop that
    goes on after Redis errors (heartbeat, sweep, inbox) then never ended, and the replica hung at
    shutdown. A Redis error in a task asked to stop is that cancellation."""
    server = RedisServer().start()
    store = Store(server.url, prefix="t6:", timeout_s=0.5)
    server.stop()
    rounds = 0

    async def outlives_redis() -> None:
        nonlocal rounds
        while True:
            rounds += 1
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(10)  # the cancellation lost here, as redis-py may lose it
            with contextlib.suppress(StoreUnavailableError), store.guard("reading"):
                await store.redis.get("anything")

    try:
        task = asyncio.get_running_loop().create_task(outlives_redis())
        await asyncio.sleep(0.05)
        await stop_task(task, within_s=5)
        assert task.cancelled()
        assert rounds == 1
    finally:
        await store.close()
