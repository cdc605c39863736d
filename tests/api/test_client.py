"""``bridge.client`` against a real bridge server and the fake tenant: every method, the whole-flow
``enroll()`` on both clients and both widget flavours, the event stream, and the error mapping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bridge import (
    AsyncBridgeClient,
    BridgeClient,
    BridgeConnectionError,
    BridgeError,
    EnrollmentNotFoundError,
    InvalidRequestError,
    SessionLimitError,
    StepOutOfOrderError,
    TicketUrlRejectedError,
    UnauthorizedError,
)
from bridge.api import create_app
from bridge.models import Enrollment, EnrollmentState, Event
from bridge.serving import ServerThread, free_port
from guardian_bridge_fake.app import create_app as create_fake_app
from guardian_bridge_fake.harness import FakeTenantClient
from tests.api.conftest import TOKEN, bridge_settings
from tests.hosting import BridgeHost

S = EnrollmentState
PHONE = "+14155550123"
INVALID_PHONE = "+15555550100"  # well-formed E.164 that the widget refuses as "not valid"
INBOX_SECRET = "inbox-test-secret"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


@pytest.fixture
def bridge(bridge_server: ServerThread) -> Iterator[BridgeClient]:
    with BridgeClient(bridge_server.base_url, TOKEN) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def abridge(bridge_server: ServerThread) -> AsyncIterator[AsyncBridgeClient]:
    async with AsyncBridgeClient(bridge_server.base_url, TOKEN) as client:
        yield client


@pytest.fixture(autouse=True)
def _cancel_what_the_test_left_open(bridge_server: ServerThread) -> Iterator[None]:
    """The session's bridge has a fixed number of slots; enrollments a test leaves open would fill them."""
    with BridgeClient(bridge_server.base_url, TOKEN) as client:
        before = {e.id for e in client.list()}
        yield
        for enrollment in client.list():
            if enrollment.id not in before and not enrollment.state.terminal:
                client.cancel(enrollment.id)


@pytest.fixture(scope="module")
def inbox_tenant(
    bridge_host: BridgeHost, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, FakeTenantClient]]:
    """A second fake tenant whose SMS provider forwards every code, signed, to a second bridge's OTP
    inbox; that bridge also creates tickets from user ids through the tenant's Management API."""
    bridge_port = free_port()
    tenant_app = create_fake_app(
        sms_webhook_url=f"http://127.0.0.1:{bridge_port}/v1/otp-inbox", sms_webhook_secret=INBOX_SECRET
    )
    with ServerThread(tenant_app) as tenant:
        settings = bridge_settings(
            tmp_path_factory.mktemp("inbox-bridge"),
            tenant.port,
            otp_inbox_secret=INBOX_SECRET,
            auth0_domain=tenant.base_url,
            auth0_client_id="fake-client",
            auth0_client_secret="fake-secret",
        )
        with bridge_host.serve(settings, port=bridge_port) as server:
            client = FakeTenantClient(tenant.base_url)
            yield server.base_url, client
            client.close()


# --- enroll(): the whole flow ---


def test_enroll_completes_with_a_code_source(
    flavour: str, bridge: BridgeClient, fake: FakeTenantClient
) -> None:
    ticket = fake.create_ticket()
    asked: list[Enrollment] = []

    def code_source(enrollment: Enrollment) -> str:
        asked.append(enrollment)
        return fake.latest_code(PHONE)

    done = bridge.enroll(ticket["ticket_url"], phone=PHONE, code_source=code_source)
    assert done.state is S.COMPLETED, done
    assert done.flavour == flavour
    assert done.recovery_code == fake.ticket_info(ticket["ticket_id"])["recovery_code"]
    assert [e.state for e in asked] == [S.AWAITING_CODE]


@pytest.mark.asyncio(loop_scope="session")
async def test_async_enroll_completes_with_an_async_code_source(
    flavour: str, abridge: AsyncBridgeClient, fake: FakeTenantClient
) -> None:
    ticket = fake.create_ticket()

    async def code_source(_: Enrollment) -> str:
        return await asyncio.to_thread(fake.latest_code, PHONE)

    done = await abridge.enroll(ticket["ticket_url"], phone=PHONE, code_source=code_source)
    assert done.state is S.COMPLETED, done
    assert done.flavour == flavour
    assert done.recovery_code == fake.ticket_info(ticket["ticket_id"])["recovery_code"]


def test_enroll_asks_again_after_a_refused_code(bridge: BridgeClient, fake: FakeTenantClient) -> None:
    def code_source(enrollment: Enrollment) -> str:
        code = fake.latest_code(PHONE)
        return _wrong(code) if enrollment.last_error is None else code

    done = bridge.enroll(fake.create_ticket()["ticket_url"], phone=PHONE, code_source=code_source)
    assert done.state is S.COMPLETED, done
    assert done.code_attempts == 2


def test_enroll_stops_after_max_code_attempts(bridge: BridgeClient, fake: FakeTenantClient) -> None:
    calls = 0

    def code_source(_: Enrollment) -> str:
        nonlocal calls
        calls += 1
        return _wrong(fake.latest_code(PHONE))

    ticket_url = fake.create_ticket()["ticket_url"]
    result = bridge.enroll(ticket_url, phone=PHONE, code_source=code_source, max_code_attempts=2)
    assert calls == 2
    assert result.state is S.AWAITING_CODE
    assert result.last_error is not None
    assert result.last_error.code == "invalid_otp"


def test_enroll_returns_a_refused_phone_as_it_is(bridge: BridgeClient, fake: FakeTenantClient) -> None:
    def code_source(_: Enrollment) -> str:
        raise AssertionError("no code is asked for when the phone is refused")

    result = bridge.enroll(fake.create_ticket()["ticket_url"], phone=INVALID_PHONE, code_source=code_source)
    assert result.state is S.AWAITING_PHONE
    assert result.last_error is not None
    assert result.last_error.code == "invalid_phone_number"


def test_enroll_with_the_inbox_and_a_user_id(inbox_tenant: tuple[str, FakeTenantClient]) -> None:
    bridge_url, tenant = inbox_tenant
    user_id = tenant.add_user()["user_id"]
    with BridgeClient(bridge_url, TOKEN) as client:
        done = client.enroll(user_id=user_id, phone=PHONE, code_source="inbox", timeout=60)
    assert done.state is S.COMPLETED, done
    assert done.code_source == "inbox"
    assert "inbox" in [step.name for step in done.steps]
    assert [e["phone_number"] for e in tenant.enrollments(user_id)] == [PHONE]


@pytest.mark.asyncio(loop_scope="session")
async def test_async_enroll_with_the_inbox(inbox_tenant: tuple[str, FakeTenantClient]) -> None:
    bridge_url, tenant = inbox_tenant
    ticket_url = tenant.create_ticket()["ticket_url"]
    async with AsyncBridgeClient(bridge_url, TOKEN) as client:
        done = await client.enroll(ticket_url, phone="+14155550124", code_source="inbox", timeout=60)
    assert done.state is S.COMPLETED, done


def test_enroll_refuses_a_code_source_that_is_neither(bridge: BridgeClient) -> None:
    with pytest.raises(TypeError):
        bridge.enroll("https://127.0.0.1/x", phone=PHONE, code_source="manual")  # type: ignore[arg-type]


# --- each step ---


def test_each_step_method(bridge: BridgeClient, fake: FakeTenantClient) -> None:
    health = bridge.health()
    assert health.status == "ok"
    assert health.browser_connected

    started = bridge.start(fake.create_ticket()["ticket_url"])
    eid = started.id
    assert started.state is S.AWAITING_PHONE
    assert eid in [e.id for e in bridge.list()]

    refused = bridge.submit_phone(eid, INVALID_PHONE)
    assert refused.state is S.AWAITING_PHONE
    assert refused.last_error is not None
    assert refused.last_error.code == "invalid_phone_number"
    accepted = bridge.submit_phone(eid, PHONE, channel="sms")
    assert accepted.state is S.AWAITING_CODE
    assert accepted.phone_number == "+1******0123"

    first_sms = fake.sms(PHONE)[0]
    assert bridge.resend(eid).state is S.AWAITING_CODE
    assert fake.sms(PHONE)[0]["id"] != first_sms["id"]

    page = bridge.calls(eid)
    assert page.calls
    assert page.next_after == page.calls[-1].seq
    assert len(bridge.calls(eid, limit=1).calls) == 1
    assert all(c.seq > page.next_after for c in bridge.calls(eid, after=page.next_after).calls)
    assert bridge.screenshot(eid).startswith(PNG_SIGNATURE)

    done = bridge.submit_code(eid, fake.latest_code(PHONE))
    assert done.state is S.COMPLETED, done
    assert bridge.get(eid).recovery_code == done.recovery_code
    assert bridge.wait(eid).state is S.COMPLETED


def test_cancel_closes_an_open_enrollment(bridge: BridgeClient, fake: FakeTenantClient) -> None:
    eid = bridge.start(fake.create_ticket()["ticket_url"]).id
    bridge.cancel(eid)
    assert bridge.get(eid).state is S.CANCELLED


@pytest.mark.asyncio(loop_scope="session")
async def test_each_async_step_method(abridge: AsyncBridgeClient, fake: FakeTenantClient) -> None:
    assert (await abridge.health()).status == "ok"
    started = await abridge.start(fake.create_ticket()["ticket_url"])
    eid = started.id
    assert eid in [e.id for e in await abridge.list()]
    assert (await abridge.submit_phone(eid, PHONE)).state is S.AWAITING_CODE
    assert (await abridge.resend(eid)).state is S.AWAITING_CODE
    assert (await abridge.calls(eid)).calls
    assert (await abridge.screenshot(eid)).startswith(PNG_SIGNATURE)
    code = await asyncio.to_thread(fake.latest_code, PHONE)
    assert (await abridge.submit_code(eid, code)).state is S.COMPLETED
    assert (await abridge.get(eid)).state is S.COMPLETED

    other = await abridge.start(fake.create_ticket()["ticket_url"])
    await abridge.cancel(other.id)
    assert (await abridge.get(other.id)).state is S.CANCELLED


# --- events and wait ---


@pytest.mark.asyncio(loop_scope="session")
async def test_events_follow_the_enrollment_until_completed(
    abridge: AsyncBridgeClient, fake: FakeTenantClient
) -> None:
    eid = (await abridge.start(fake.create_ticket()["ticket_url"], phone_number=PHONE)).id
    seen: list[Event] = []

    async def follow() -> None:
        async for event in abridge.events(eid):
            seen.append(event)

    follower = asyncio.create_task(follow())
    code = await asyncio.to_thread(fake.latest_code, PHONE)
    await abridge.submit_code(eid, code)
    await asyncio.wait_for(follower, 30)  # ends by itself: the server closes a finished stream

    assert [e.seq for e in seen] == list(range(1, len(seen) + 1))
    assert [(e.type, e.data.get("state") or e.data.get("name")) for e in seen] == [
        ("state", "starting"),
        ("step", "start"),
        ("state", "awaiting_phone"),
        ("step", "phone"),
        ("state", "awaiting_code"),
        ("step", "code"),
        ("state", "completed"),
    ]
    assert all(e.data["outcome"] == "ok" for e in seen if e.type == "step")

    replay = [e async for e in abridge.events(eid, after=seen[1].seq)]
    assert [e.seq for e in replay] == [e.seq for e in seen[2:]]


@pytest.mark.asyncio(loop_scope="session")
async def test_wait_follows_events_until_the_state_is_reached(
    abridge: AsyncBridgeClient, fake: FakeTenantClient
) -> None:
    eid = (await abridge.start(fake.create_ticket()["ticket_url"], phone_number=PHONE)).id
    assert (await abridge.wait(eid, {S.AWAITING_CODE})).state is S.AWAITING_CODE
    waiter = asyncio.create_task(abridge.wait(eid, timeout=30))
    await asyncio.sleep(0.2)
    assert not waiter.done()
    await abridge.submit_code(eid, await asyncio.to_thread(fake.latest_code, PHONE))
    assert (await waiter).state is S.COMPLETED


@pytest.mark.asyncio(loop_scope="session")
async def test_async_wait_times_out(abridge: AsyncBridgeClient, fake: FakeTenantClient) -> None:
    eid = (await abridge.start(fake.create_ticket()["ticket_url"])).id
    with pytest.raises(TimeoutError, match=eid):
        await abridge.wait(eid, {S.COMPLETED}, timeout=0.5)


def test_sync_wait_polls_and_times_out(bridge: BridgeClient, fake: FakeTenantClient) -> None:
    eid = bridge.start(fake.create_ticket()["ticket_url"]).id
    with pytest.raises(TimeoutError, match=eid):
        bridge.wait(eid, {S.COMPLETED}, timeout=0.5, poll_interval=0.1)
    bridge.cancel(eid)
    # Waiting for a state a finished enrollment can no longer reach returns at once.
    assert bridge.wait(eid, {S.COMPLETED}, timeout=5).state is S.CANCELLED


# --- errors ---


def test_unknown_id_raises_enrollment_not_found(bridge: BridgeClient) -> None:
    with pytest.raises(EnrollmentNotFoundError) as info:
        bridge.get("enr_doesnotexist")
    assert info.value.enrollment_id == "enr_doesnotexist"
    assert (info.value.code, info.value.status) == ("enrollment_not_found", 404)


@pytest.mark.asyncio(loop_scope="session")
async def test_unknown_id_raises_on_the_async_client_and_its_stream(abridge: AsyncBridgeClient) -> None:
    with pytest.raises(EnrollmentNotFoundError):
        await abridge.submit_code("enr_doesnotexist", "123456")
    with pytest.raises(EnrollmentNotFoundError) as info:
        _ = [e async for e in abridge.events("enr_doesnotexist")]
    assert info.value.enrollment_id == "enr_doesnotexist"


def test_wrong_token_raises_unauthorized(bridge_server: ServerThread) -> None:
    with BridgeClient(bridge_server.base_url, "not-the-token") as client:
        with pytest.raises(UnauthorizedError) as info:
            client.list()
        assert "not-the-token" not in repr(client)
    assert "not-the-token" not in str(info.value)
    assert info.value.status == 401


def test_step_out_of_order_raises(bridge: BridgeClient, fake: FakeTenantClient) -> None:
    eid = bridge.start(fake.create_ticket()["ticket_url"]).id
    with pytest.raises(StepOutOfOrderError) as info:
        bridge.submit_code(eid, "123456")
    assert info.value.enrollment_id == eid


def test_host_not_allowed_raises_ticket_url_rejected(bridge: BridgeClient) -> None:
    with pytest.raises(TicketUrlRejectedError):
        bridge.start("https://evil.example.com/guardian/enroll?ticket=gten_x")


def test_malformed_phone_is_refused_without_being_echoed(
    bridge: BridgeClient, fake: FakeTenantClient
) -> None:
    eid = bridge.start(fake.create_ticket()["ticket_url"]).id
    with pytest.raises(InvalidRequestError) as info:
        bridge.submit_phone(eid, "6505550199")
    assert "6505550199" not in str(info.value)
    assert info.value.enrollment_id == eid


def test_session_limit_raises_with_retry_after(
    tmp_path: Path, fake: FakeTenantClient, fake_server: ServerThread
) -> None:
    app = create_app(bridge_settings(tmp_path, fake_server.port, max_enrollments=1))
    with ServerThread(app) as server, BridgeClient(server.base_url, TOKEN) as client:
        first = client.start(fake.create_ticket()["ticket_url"])
        with pytest.raises(SessionLimitError) as info:
            client.start(fake.create_ticket()["ticket_url"])
        client.cancel(first.id)
    assert info.value.retry_after is not None
    assert info.value.retry_after > 0
    assert info.value.status == 429


def test_connection_refused_raises_bridge_connection_error() -> None:
    client = BridgeClient(f"http://127.0.0.1:{free_port()}", TOKEN)
    with client, pytest.raises(BridgeConnectionError) as info:
        client.health()
    assert info.value.code == "connection_error"
    assert isinstance(info.value, BridgeError)


@pytest.mark.asyncio(loop_scope="session")
async def test_async_connection_refused_raises_bridge_connection_error() -> None:
    async with AsyncBridgeClient(f"http://127.0.0.1:{free_port()}") as client:
        with pytest.raises(BridgeConnectionError):
            await client.get("enr_x")
        with pytest.raises(BridgeConnectionError):
            _ = [e async for e in client.events("enr_x")]


def test_a_body_not_in_the_bridges_shape_raises_bridge_error() -> None:
    async def bad_gateway(_: Request) -> PlainTextResponse:
        return PlainTextResponse("upstream down", status_code=502)

    proxy = Starlette(routes=[Route("/healthz", bad_gateway)])
    with (
        ServerThread(proxy) as server,
        BridgeClient(server.base_url) as client,
        pytest.raises(BridgeError) as info,
    ):
        client.health()
    assert type(info.value) is BridgeError
    assert "502" in str(info.value)
    assert info.value.status == 502


def test_start_needs_exactly_one_of_ticket_url_and_user_id(bridge: BridgeClient) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        bridge.start()
    with pytest.raises(ValueError, match="exactly one"):
        bridge.start("https://127.0.0.1/x", user_id="auth0|1")


def test_repr_and_token_checks_keep_the_token_out_of_sight() -> None:
    client = BridgeClient("http://127.0.0.1:1", "s3cret-token")
    assert "s3cret-token" not in repr(client)
    assert "***" in repr(client)
    client.close()
    with pytest.raises(ValueError, match="token") as info:
        BridgeClient("http://127.0.0.1:1", "s3cret token")
    assert "s3cret" not in str(info.value)
