"""Where a request for an enrollment is served in cluster mode: here, at its owner (forwarded, event
streams included), or from the directory when its owner is gone; and the refusal of new starts while
draining (both modes)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bridge import models as m
from bridge.cluster.directory import Entry
from bridge.cluster.node import ClusterNode, Moved
from bridge.errors import DrainingError, StepOutOfOrderError, StoreUnavailableError

FORWARDED = "x-bridge-forwarded"
REPLICA = "x-bridge-replica"
# Request headers that describe one hop, not the request (RFC 9110 §7.6.1), and ones httpx sets itself.
_HOP = {"connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length"}
_HOP_RESPONSE = _HOP | {"content-encoding"}


class Forward(Exception):  # control flow to the handler below, not an error
    """Serve this request at ``url`` (the owner's advertise URL)."""

    def __init__(self, url: str, entry: Entry) -> None:
        self.url, self.entry = url, entry


class Settled(Exception):
    """Answer from the directory: the enrollment has ended and no live replica holds it."""

    def __init__(self, entry: Entry) -> None:
        self.entry = entry


class Listed(Exception):
    """Answer the list from the directory: every replica's enrollments this caller may see."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries


async def cluster_unready(request: Request) -> Response | None:
    """/readyz's answer when this replica is draining or cannot reach Redis; None otherwise."""
    drain = getattr(request.app.state, "drain", None)
    if drain is not None and drain.draining:
        return _error(503, "draining", "this bridge is shutting down", None, retry_after=1)
    node = _node(request)
    if node is not None and not await node.store.ping():
        return _error(503, "store_unavailable", "the shared store (Redis) is not answering", None, 2)
    return None


def _error(
    status: int, code: str, message: str, enrollment_id: str | None, retry_after: int | None = None
) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    body = {"error": {"code": code, "message": message, "enrollment_id": enrollment_id}}
    return JSONResponse(body, status_code=status, headers=headers)


def _node(request: Request) -> ClusterNode | None:
    node: ClusterNode | None = getattr(request.app.state, "cluster", None)
    return node


def _visible(request: Request, entry: Entry) -> bool:
    caller = getattr(request.state, "caller", None)
    return caller is None or bool(caller.may_see(entry.owner_token))


async def route_enrollment(request: Request) -> AsyncIterator[None]:
    """Router dependency of ``/v1/enrollments``: refuses starts while draining; in cluster mode admits a
    start against the shared limits (holding its place until it has run) and sends a request for an
    enrollment held elsewhere to its owner (or answers it from the directory)."""
    drain = getattr(request.app.state, "drain", None)
    enrollment_id = request.path_params.get("enrollment_id")
    node = _node(request)
    if enrollment_id is None:
        if request.method == "POST" and drain is not None and drain.draining:
            raise DrainingError("this bridge is shutting down; start the enrollment again", retry_after=1)
        if request.method == "GET" and node is not None:
            raise Listed([e for e in await node.directory.all() if _visible(request, e)])
        if request.method == "POST" and node is not None:
            owner, reserved = await _admit_shared(request, node)
            request.state.reserved_enrollment_id = reserved
            try:
                yield
            finally:
                await node.token_cap.release(owner, reserved)
            return
    elif node is not None:
        await _route_to_owner(request, node, enrollment_id)
    yield


async def _route_to_owner(request: Request, node: ClusterNode, enrollment_id: str) -> None:
    if node.holds(enrollment_id):
        return  # served here (one it let go of is found through the directory)
    forwarded = request.headers.get(FORWARDED) is not None
    entry = await node.directory.get(enrollment_id)
    if entry is None or not _visible(request, entry) or (forwarded and entry.owner != node.replica_id):
        return  # answered here: 404 (a forwarded request is never forwarded again)
    # From here on the entry names another replica, or this one under a previous process (a restart
    # under the same BRIDGE_REPLICA_ID): then its owner is gone, exactly as if it had died.
    # A finished enrollment has no verdict pending: no need to make sure its owner is gone.
    owner = await node.owner_of(entry, confirm=not entry.state.terminal)
    movable = _movable(entry)
    if owner is not None and not (movable and entry.handed_over):
        raise Forward(owner.advertise_url, entry)
    if movable and node.draining:
        # Going away too: another replica adopts it (the balancer sends the retry there).
        raise DrainingError("this bridge is shutting down; try again", retry_after=1)
    if movable and await node.adopt(entry) is not None:
        return
    fresh = await node.directory.get(enrollment_id) or entry
    if fresh.owner != entry.owner and (moved := await node.owner_of(fresh)) is not None:
        raise Forward(moved.advertise_url, fresh)
    raise Settled(await node.mark_lost(fresh))


async def _admit_shared(request: Request, node: ClusterNode) -> tuple[str, str]:
    """A start in cluster mode: Redis must answer (the enrollment is unreachable elsewhere otherwise), and
    the token's rate and open enrollments count over every replica; the counted owner and the id
    reserved for the start's enrollment."""
    if not node.store.available and not await node.store.ping():
        raise StoreUnavailableError(
            "the shared store (Redis) is not answering; try again shortly", retry_after=2
        )
    caller = getattr(request.state, "caller", None)
    owner = str(getattr(caller, "owner", "open"))
    if owner == "open":  # an open bridge (loopback development): by client address, as the local limiter
        owner = "addr:" + (request.client.host if request.client else "unknown")
    await node.limiter.take(owner)
    # Unset, a token may use every replica's sessions (each replica still has its own limit).
    cap = node.settings.max_enrollments_per_token
    return owner, await node.token_cap.reserve(owner, cap)


# --- answering ---
def _sse(event: str, seq: int, data: object) -> str:
    return f"id: {seq}\nevent: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _state_event(view: m.Enrollment) -> dict[str, object]:
    data: dict[str, object] = {"state": view.state.value}
    if view.last_error is not None:
        data["last_error"] = view.last_error.model_dump(mode="json")
    return data


def _settled_response(request: Request, entry: Entry) -> Response:
    view, path = entry.view, request.url.path.rstrip("/")
    if request.method == "GET" and path.endswith("/events"):

        async def once() -> AsyncIterator[str]:
            yield _sse("state", 1_000_000, _state_event(view))

        return StreamingResponse(
            once(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )
    if request.method == "GET" and path.endswith(view.id):
        return JSONResponse(view.model_dump(mode="json"))
    if request.method == "GET" and path.endswith("/calls"):
        after = int(request.query_params.get("after", "0") or 0)
        return JSONResponse({"calls": [], "next_after": after})
    if request.method == "DELETE":
        return Response(status_code=204)
    error = StepOutOfOrderError(f"the enrollment is {view.state.value}")
    return _error(error.status, error.code, error.message, view.id)


class Forwarder:
    """Relays one request to the replica that owns its enrollment and streams the answer back."""

    def __init__(self, node: ClusterNode, step_timeout_s: float) -> None:
        self._node = node
        # Long enough for any step (the owner bounds it); event streams are read without a timeout.
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(step_timeout_s + 15, connect=2.0))

    async def close(self) -> None:
        await self._client.aclose()

    async def relay(self, request: Request, target: Forward) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        headers[FORWARDED] = self._node.replica_id
        streaming = request.url.path.endswith("/events")
        outgoing = self._client.build_request(
            request.method,
            target.url + request.url.path,
            params=request.url.query or None,
            headers=headers,
            content=await request.body(),
            timeout=httpx.Timeout(None, connect=2.0) if streaming else None,
        )
        if streaming:
            return await self._relay_stream(request, outgoing, target.entry)
        # The owner's heartbeat is watched while it holds the request: one that stalls (or dies with the
        # connection left open) would otherwise keep the caller waiting for the whole step timeout.
        fetch = asyncio.ensure_future(self._fetch(outgoing))
        watch = asyncio.ensure_future(self._owner_gone(target.entry))
        try:
            await asyncio.wait({fetch, watch}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (fetch, watch):
                task.cancel()
            await asyncio.gather(fetch, watch, return_exceptions=True)
        try:
            if fetch.cancelled():
                raise httpx.ReadTimeout("the owner stopped beating while it held the request")
            status, kept, body = fetch.result()
        except httpx.TransportError as exc:
            if target.url == self._node.heartbeat.info.advertise_url:  # this replica, after adopting
                message = "the enrollment could not be run here; try again shortly"
                return _error(503, "store_unavailable", message, target.entry.id, retry_after=1)
            reached = not isinstance(exc, httpx.ConnectError)
            return await self._owner_down(request, target.entry, reached=reached)
        return Response(body, status_code=status, headers=kept)

    async def _fetch(self, outgoing: httpx.Request) -> tuple[int, dict[str, str], bytes]:
        upstream = await self._client.send(outgoing, stream=True)
        try:
            body = await upstream.aread()
        finally:
            await upstream.aclose()
        kept = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_RESPONSE}
        return upstream.status_code, kept, body

    async def _owner_gone(self, entry: Entry) -> None:
        """Returns once the owner's heartbeat has run out (checked every half TTL; Redis trouble waits)."""
        node = self._node
        while True:
            await asyncio.sleep(node.settings.heartbeat_ttl_s / 2)
            with contextlib.suppress(StoreUnavailableError):
                if await node.owner_of(entry, confirm=True) is None:
                    return

    async def _relay_stream(self, request: Request, outgoing: httpx.Request, entry: Entry) -> Response:
        try:
            upstream = await self._client.send(outgoing, stream=True)
        except httpx.ConnectError:
            return await self._owner_down(request, entry, reached=False)
        except httpx.TransportError:
            return await self._owner_down(request, entry, reached=True)
        kept = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_RESPONSE}
        stream = self._stream(upstream, entry)
        return StreamingResponse(stream, status_code=upstream.status_code, headers=kept)

    async def _stream(self, upstream: httpx.Response, entry: Entry) -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.aiter_raw():
                yield chunk
        except httpx.TransportError:
            # The owner went away mid-stream: a browser enrollment's stream ends the way it ended; a
            # protocol enrollment's just ends (read again, it is served by the replica adopting it).
            gone = await self._wait_for_verdict(entry)
            if gone is not None and not _movable(gone):
                lost = await self._node.mark_lost(gone)
                yield _sse("state", 1_000_000, _state_event(lost.view)).encode()
        finally:
            await upstream.aclose()

    async def _wait_for_verdict(self, entry: Entry) -> Entry | None:
        """Polls the owner's heartbeat until it runs out; the enrollment as the directory has it then, or
        None if the owner came back (a network blip)."""
        node = self._node
        deadline = asyncio.get_running_loop().time() + node.settings.heartbeat_ttl_s + 2
        while asyncio.get_running_loop().time() < deadline:
            if await node.owner_of(entry, confirm=True) is None:
                return await node.directory.get(entry.id) or entry
            await asyncio.sleep(0.25)
        return None

    async def _owner_down(self, request: Request, entry: Entry, *, reached: bool) -> Response:
        """The owner did not answer. A browser enrollment is lost with it; a protocol one is adopted here,
        and the request run here when that is safe: it never reached the owner, or it only reads."""
        node = self._node
        gone = await self._wait_for_verdict(entry)
        if gone is None:
            message = "the replica holding this enrollment does not answer; try again shortly"
            return _error(503, "store_unavailable", message, entry.id, retry_after=2)
        if not _movable(gone):
            return _settled_response(request, await node.mark_lost(gone))
        adopted = await node.adopt(gone)
        if adopted is not None and (not reached or request.method == "GET"):
            here = node.heartbeat.info.advertise_url
            return await self.relay(request, Forward(here, gone))  # answered by this replica itself
        message = "the replica running this enrollment went away during the step; read it, then retry"
        return _error(503, "store_unavailable", message, entry.id, retry_after=1)


def _movable(entry: Entry) -> bool:
    return entry.engine == "protocol" and not entry.state.terminal


def install(app: FastAPI) -> None:
    """The handlers answering ``Forward``, ``Moved`` and ``Settled``; every response names the replica that
    served it."""

    async def forward(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Forward)
        forwarder: Forwarder = request.app.state.forwarder
        return await forwarder.relay(request, exc)

    async def settled(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Settled)
        return _settled_response(request, exc.entry)

    async def listed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Listed)
        return JSONResponse({"enrollments": [e.view.model_dump(mode="json") for e in exc.entries]})

    async def moved(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Moved)
        if exc.owner_url is None:
            message = "the enrollment moved and its new replica does not answer; try again shortly"
            return _error(503, "store_unavailable", message, exc.entry.id, retry_after=1)
        forwarder: Forwarder = request.app.state.forwarder
        return await forwarder.relay(request, Forward(exc.owner_url, exc.entry))

    app.add_exception_handler(Moved, moved)
    app.add_exception_handler(Listed, listed)
    app.add_exception_handler(Forward, forward)
    app.add_exception_handler(Settled, settled)

    app.add_middleware(NameReplica)


class NameReplica:
    """ASGI middleware: in cluster mode every answer names the replica that served it (``X-Bridge-Replica``;
    a forwarded answer keeps the owner's). Plain ASGI, so event streams pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        node = getattr(scope["app"].state, "cluster", None) if scope["type"] == "http" else None
        if node is None:
            await self.app(scope, receive, send)
            return
        name = node.replica_id.encode()

        async def named(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == REPLICA.encode() for k, _ in headers):
                    headers.append((REPLICA.encode(), name))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, named)
