"""Cluster mode through the HTTP API: two bridges sharing a real redis-server, on the fake tenant.

Any replica answers for any enrollment (forwarded to its owner), lists come from the directory, an
enrollment whose replica is gone reads ``failed``/``replica_lost`` (in its event stream too), a drained
replica's protocol enrollment goes on at another, and a draining replica refuses starts (503 draining).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge import models as m
from bridge.access import fingerprint
from bridge.cluster.directory import Directory, Entry
from bridge.cluster.store import Store
from bridge.serving import ServerThread, free_port
from guardian_bridge_fake.harness import FakeTenantClient
from tests.api.conftest import TOKEN, bridge_settings
from tests.cluster.redis_server import RedisServer
from tests.hosting import BridgeHost, HostedBridge

PHONE = "+14155550123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


SECRET = "cluster-inbox-secret"


@pytest.fixture
def replicas(
    tmp_path: Path, bridge_host: BridgeHost, redis: RedisServer, fake_server: ServerThread
) -> Iterator[Callable[..., list[HostedBridge]]]:
    """Starts two replicas of one cluster with the given setting overrides."""
    bridges: list[HostedBridge] = []

    def start(**overrides: Any) -> list[HostedBridge]:
        for name in ("a", "b"):
            port = free_port()
            settings = bridge_settings(
                tmp_path / name,
                fake_server.port,
                redis_url=redis.url,
                replica_id=f"replica-{name}-{port}",
                advertise_url=f"http://127.0.0.1:{port}",
                heartbeat_ttl_s=2,
                drain_timeout_s=1,
                default_engine="protocol",
                otp_inbox_secret=SECRET,
                **overrides,
            )
            bridges.append(bridge_host.serve(settings, port).start())
        return bridges

    yield start
    for bridge in bridges:
        bridge.stop()


@pytest.fixture
def pair(replicas: Callable[..., list[HostedBridge]]) -> list[HostedBridge]:
    return replicas()


def _client(bridge: HostedBridge) -> httpx.Client:
    return httpx.Client(base_url=bridge.base_url, headers=AUTH, timeout=30)


def test_any_replica_answers_and_lists_every_replicas_enrollments(
    pair: list[HostedBridge], fake: FakeTenantClient
) -> None:
    a, b = pair
    with _client(a) as on_a, _client(b) as on_b:
        ticket = fake.create_ticket()
        made = on_a.post("/v1/enrollments", json={"ticket_url": ticket["ticket_url"], "engine": "protocol"})
        assert made.status_code == 201, made.text
        eid = made.json()["id"]
        owner = made.headers["x-bridge-replica"]
        assert owner.startswith("replica-a")
        phone = on_b.post(f"/v1/enrollments/{eid}/phone", json={"phone_number": PHONE})
        assert phone.status_code == 200, phone.text
        assert phone.json()["state"] == "awaiting_code"
        assert phone.headers["x-bridge-replica"] == owner  # run by the owner, through b
        assert eid in [e["id"] for e in on_b.get("/v1/enrollments").json()["enrollments"]]
        done = on_b.post(f"/v1/enrollments/{eid}/code", json={"code": fake.latest_code(PHONE)})
        assert done.json()["state"] == "completed"
        assert done.json()["recovery_code"]
        events = on_b.get(f"/v1/enrollments/{eid}/events")  # forwarded stream, ends with the enrollment
        assert events.headers["content-type"].startswith("text/event-stream")
        assert '"state":"completed"' in events.text
        # Without the token the owner refuses the forwarded request just as it would a direct one.
        assert httpx.get(f"{b.base_url}/v1/enrollments/{eid}").status_code == 401


def test_an_enrollment_whose_replica_is_gone_reads_replica_lost(
    pair: list[HostedBridge], redis: RedisServer
) -> None:
    _, b = pair
    eid = "enr_ghostreplica0000001"
    now = datetime.now(UTC)
    view = m.Enrollment(
        id=eid,
        state=m.EnrollmentState.AWAITING_CODE,
        engine="browser",
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(minutes=5),
    )
    entry = Entry(
        id=eid,
        owner="replica-that-died",
        owner_token=fingerprint(TOKEN),  # the caller's own enrollment
        engine="browser",
        state=view.state,
        expires_at=view.expires_at,
        view=view,
    )

    async def register() -> None:
        store = Store(redis.url)
        try:
            await Directory(store, keep_s=60).put(entry)
        finally:
            await store.close()

    asyncio.run(register())
    with _client(b) as on_b:
        got = on_b.get(f"/v1/enrollments/{eid}")
        assert got.status_code == 200
        assert got.json()["state"] == "failed"
        assert got.json()["last_error"]["code"] == "replica_lost"
        step = on_b.post(f"/v1/enrollments/{eid}/code", json={"code": "123456"})
        assert step.status_code == 409
        assert step.json()["error"]["code"] == "step_out_of_order"
        events = on_b.get(f"/v1/enrollments/{eid}/events")
        assert "event: state" in events.text
        assert "replica_lost" in events.text


def test_a_drained_replicas_protocol_enrollment_completes_on_another(
    pair: list[HostedBridge], bridge_host: BridgeHost, fake: FakeTenantClient, flavour: str
) -> None:
    a, b = pair
    with _client(a) as on_a, _client(b) as on_b:
        ticket = fake.create_ticket()
        body = {"ticket_url": ticket["ticket_url"], "engine": "protocol", "phone_number": PHONE}
        made = on_a.post("/v1/enrollments", json=body)
        assert made.status_code == 201, made.text
        assert made.json()["state"] == "awaiting_code"
        eid = made.json()["id"]
        _drain(a, bridge_host)
        assert on_a.get("/readyz").json()["error"]["code"] == "draining"
        refused = on_a.post("/v1/enrollments", json={"ticket_url": fake.create_ticket()["ticket_url"]})
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["error"]["code"] == "draining"
        done = on_b.post(f"/v1/enrollments/{eid}/code", json={"code": fake.latest_code(PHONE)})
        assert done.status_code == 200, done.text
        assert done.headers["x-bridge-replica"].startswith("replica-b")
        assert done.json()["state"] == "completed"
        assert done.json()["recovery_code"] == fake.ticket_info(ticket["ticket_id"])["recovery_code"]
        assert [s["name"] for s in done.json()["steps"]] == ["start", "phone", "code"]


def _drain(bridge: HostedBridge, host: BridgeHost) -> None:
    """What SIGTERM runs (through ``serve`` in tests/cli/test_serve_drain.py)."""
    app = bridge.server.config.loaded_app  # the app behind uvicorn's wrappers
    while hasattr(app, "app"):
        app = app.app
    host._run(app.state.drain.run())


def _read_entry(redis: RedisServer, eid: str) -> Entry | None:
    async def read() -> Entry | None:
        store = Store(redis.url)
        try:
            return await Directory(store, keep_s=60).get(eid)
        finally:
            await store.close()

    return asyncio.run(read())


def _start_inbox(api: httpx.Client, fake: FakeTenantClient) -> tuple[dict[str, str], str]:
    """An inbox-mode enrollment of ``PHONE`` on a fresh ticket: the ticket and the enrollment's id."""
    ticket = fake.create_ticket()
    body = {"ticket_url": ticket["ticket_url"], "phone_number": PHONE, "code_source": "inbox"}
    made = api.post("/v1/enrollments", json=body)
    assert made.status_code == 201, made.text
    return ticket, made.json()["id"]


def _signed(code: str, **extra: str) -> tuple[bytes, dict[str, str]]:
    message = {
        "recipient": PHONE,
        "code": code,
        "action": "enrollment",
        "id": f"msg_{uuid.uuid4().hex}",
        "created_at": datetime.now(UTC).isoformat(),
        **extra,
    }
    body = json.dumps(message).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"X-Signature": signature, "Content-Type": "application/json"}


def _final(client: httpx.Client, eid: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(f"/v1/enrollments/{eid}").json()
        if body["state"] != "awaiting_code" or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def test_a_code_posted_to_any_replica_reaches_the_enrollment_once(
    pair: list[HostedBridge], fake: FakeTenantClient
) -> None:
    a, b = pair
    with _client(a) as on_a, _client(b) as on_b:
        ticket, eid = _start_inbox(on_a, fake)
        stranger, headers = _signed("111111", recipient="+14155550999")
        assert on_b.post("/v1/otp-inbox", content=stranger, headers=headers).json()["matched"] is False
        message, headers = _signed(fake.latest_code(PHONE))
        receipt = on_b.post("/v1/otp-inbox", content=message, headers=headers)  # not the owner
        assert receipt.status_code == 202
        assert receipt.json() == {"accepted": True, "matched": True}
        done = _final(on_b, eid)
        assert done["state"] == "completed"
        assert done["recovery_code"] == fake.ticket_info(ticket["ticket_id"])["recovery_code"]
        replay = on_a.post("/v1/otp-inbox", content=message, headers=headers)  # the other replica
        assert replay.status_code == 409
        assert replay.json()["error"]["code"] == "message_replayed"


def test_a_tokens_start_rate_holds_across_replicas(
    replicas: Callable[..., list[HostedBridge]], redis: RedisServer
) -> None:
    a, b = replicas(create_rate_per_minute=2)
    with _client(a) as on_a, _client(b) as on_b:
        # Each refused body still spends a start: the rate is counted before the body is read.
        assert on_a.post("/v1/enrollments", json={}).status_code == 422
        assert on_b.post("/v1/enrollments", json={}).status_code == 422
        third = on_a.post("/v1/enrollments", json={})
        assert third.status_code == 429
        assert third.json()["error"]["code"] == "rate_limited"
        assert int(third.headers["retry-after"]) >= 1


def test_an_inbox_enrollment_handed_over_by_drain_completes_with_no_request_at_all(
    pair: list[HostedBridge], bridge_host: BridgeHost, fake: FakeTenantClient, redis: RedisServer
) -> None:
    a, b = pair
    with _client(a) as on_a, _client(b) as on_b:
        ticket, eid = _start_inbox(on_a, fake)
        _drain(a, bridge_host)
        # The code arrives at once, before any replica has adopted the enrollment: it is kept for it.
        message, headers = _signed(fake.latest_code(PHONE))
        assert on_b.post("/v1/otp-inbox", content=message, headers=headers).json()["matched"] is True
        deadline = time.monotonic() + 20
        while (entry := _read_entry(redis, eid)) is not None and entry.state != "completed":
            assert time.monotonic() < deadline, entry
            time.sleep(0.2)
        assert entry is not None
        assert entry.owner.startswith("replica-b")
        assert entry.view.recovery_code == fake.ticket_info(ticket["ticket_id"])["recovery_code"]
