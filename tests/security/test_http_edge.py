"""Issue 11 item 3: the HTTP edge bounds header size and count (431), slow request heads (closed) and
concurrent connections (503), on a real server on a loopback socket configured as ``serve`` configures
it (``bridge.edge.uvicorn_limits``); after each attack the server still answers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from bridge.api import create_app
from bridge.edge import uvicorn_limits
from bridge.serving import free_port
from tests.security.conftest import TOKEN_A, settings_for

HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"


class EdgeServer:
    def __init__(self, tmp: Path, **overrides: object) -> None:
        # No browser is needed to test the edge: one that cannot be reached leaves /healthz "degraded".
        settings = settings_for(tmp, browser_ws_endpoint=f"ws://127.0.0.1:{free_port()}/none", **overrides)
        self.port = free_port()
        config = uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=self.port,
            log_level="critical",
            lifespan="on",
            timeout_graceful_shutdown=2,
            **uvicorn_limits(settings),
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> EdgeServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)

    def healthy(self) -> bool:
        response = httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=5)
        return response.status_code == 200


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[EdgeServer]:
    with EdgeServer(tmp_path, header_timeout_s=1.0, max_connections=20) as server:
        yield server


def _send_and_read(sock: socket.socket, data: bytes, chunk: int = 65_536) -> bytes:
    """Sends ``data`` (the server may close early, that is the point) and reads the answer."""
    try:
        for start in range(0, len(data), chunk):
            sock.sendall(data[start : start + chunk])
    except OSError:
        pass
    received = b""
    try:
        while part := sock.recv(65_536):
            received += part
    except OSError:
        pass
    return received


def test_an_8_mb_header_is_refused_with_431(edge: EdgeServer) -> None:
    with edge.connect() as sock:
        answer = _send_and_read(sock, HEAD + b"X-Big: " + b"a" * 8_000_000 + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert b'"headers_too_large"' in answer
    assert edge.healthy()


def test_twenty_thousand_headers_are_refused_with_431(edge: EdgeServer) -> None:
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(20_000))
    with edge.connect() as sock:
        answer = _send_and_read(sock, HEAD + many + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert edge.healthy()


def test_more_headers_than_allowed_within_the_size_is_431(edge: EdgeServer) -> None:
    many = {f"X-H{i}": "v" for i in range(150)}  # about 1.5 KiB: only the count is over
    response = httpx.get(f"http://127.0.0.1:{edge.port}/healthz", headers=many, timeout=5)
    assert (response.status_code, response.json()["error"]["code"]) == (431, "headers_too_large")
    assert edge.healthy()


def test_connections_that_never_finish_their_headers_are_closed(edge: EdgeServer) -> None:
    socks = [edge.connect() for _ in range(10)]
    try:
        for sock in socks:
            sock.sendall(HEAD + b"X-Slow: 1\r\n")  # and never the blank line
        closed_at = []
        for sock in socks:
            sock.settimeout(10)
            data = sock.recv(65_536)  # the header timeout is 1 s: bounded by the 10 s socket timeout
            while data and not data.endswith(b"}"):
                more = sock.recv(65_536)
                if not more:
                    break
                data += more
            closed_at.append(data)
        assert all(d == b"" or d.startswith(b"HTTP/1.1 408 ") for d in closed_at)
        assert edge.healthy()
    finally:
        for sock in socks:
            sock.close()


def test_a_silent_connection_is_closed_too(edge: EdgeServer) -> None:
    with edge.connect() as sock:
        sock.settimeout(10)
        assert sock.recv(1024) == b""  # closed by the server after the header timeout
    assert edge.healthy()


def test_connections_beyond_the_cap_are_answered_503(tmp_path: Path) -> None:
    with EdgeServer(tmp_path, header_timeout_s=30.0, max_connections=5) as server:
        idle = [server.connect() for _ in range(5)]
        try:
            time.sleep(0.2)
            refused = httpx.get(f"http://127.0.0.1:{server.port}/healthz", timeout=5)
            assert refused.status_code == 503
        finally:
            for sock in idle:
                sock.close()
        deadline = time.monotonic() + 10
        while not server.healthy():
            assert time.monotonic() < deadline, "the server did not recover after the connections closed"
            time.sleep(0.1)


def test_normal_requests_pass_the_edge(edge: EdgeServer) -> None:
    headers = {"Authorization": f"Bearer {TOKEN_A}", "X-Request-Id": "a" * 2000}
    response = httpx.get(f"http://127.0.0.1:{edge.port}/v1/enrollments", headers=headers, timeout=5)
    assert response.status_code == 200
    with httpx.Client(base_url=f"http://127.0.0.1:{edge.port}", timeout=5) as keepalive:
        assert [keepalive.get("/healthz").status_code for _ in range(3)] == [200, 200, 200]
