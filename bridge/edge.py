"""The HTTP edge: bounds on what a client may make the server hold before the app sees a request.

uvicorn's default parser (httptools) accepts request heads of any size and any number of headers, and
waits forever for a head that never ends. The bridge therefore serves with uvicorn's h11 parser
through ``GuardedH11Protocol``, which answers ``431`` to a head over ``max_header_bytes`` as the bytes
arrive and closes a connection whose head is not complete within ``header_timeout_s`` (a slow-headers
client); ``limit_concurrency`` caps connections (``503`` beyond) and ``timeout_keep_alive`` closes idle
ones. ``HeaderLimits`` (bridge.api.middleware) checks the header count, and the size again for servers
that do not use this protocol. The defaults are those of common reverse proxies (nginx's 8-16 KiB
header buffers, 60 s header timeout trimmed to 10 s since the API's requests are small).
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from bridge.settings import BridgeSettings


def error_bytes(status: int, reason: str, code: str, message: str) -> bytes:
    """A complete HTTP/1.1 response in the API's error shape that closes the connection."""
    body = json.dumps({"error": {"code": code, "message": message, "enrollment_id": None}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a byte budget and a deadline for each request head."""

    max_header_bytes = 16_384
    header_timeout_s = 10.0

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and self._head_bytes and not self.transport.is_closing():
            self.transport.write(
                error_bytes(408, "Request Timeout", "request_timeout", "request head too slow")
            )
            self.transport.close()
        elif self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()  # connected and said nothing

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._head_bytes += len(data)
            if self._head_bytes > self.max_header_bytes:
                self._disarm()
                self.transport.write(
                    error_bytes(
                        431,
                        "Request Header Fields Too Large",
                        "headers_too_large",
                        f"request heads are limited to {self.max_header_bytes} bytes",
                    )
                )
                self.transport.close()
                return
            self._arm()
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            # The head is complete: the step timeout and the body limit take over from here.
            self._head_bytes = 0
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request's head on this connection gets its own deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def guarded_protocol(settings: BridgeSettings) -> type[GuardedH11Protocol]:
    """A ``GuardedH11Protocol`` class bound to ``settings`` (uvicorn instantiates it per connection)."""
    return type(
        "BridgeH11Protocol",
        (GuardedH11Protocol,),
        {"max_header_bytes": settings.max_header_bytes, "header_timeout_s": settings.header_timeout_s},
    )


def uvicorn_limits(settings: BridgeSettings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.Config`` / ``uvicorn.run`` that put the edge limits in place."""
    return {
        "http": guarded_protocol(settings),
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "limit_concurrency": settings.max_connections,
        "timeout_keep_alive": max(1, math.ceil(settings.keepalive_timeout_s)),
    }
