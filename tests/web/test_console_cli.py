"""The commands that serve the console: ``demo --console`` and ``serve --console``, as real processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bridge.serving import free_port

CLI = str(Path(sys.executable).with_name("guardian-bridge"))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No BRIDGE_* of the caller's but the browser's; artifacts in the test's tmp dir."""
    kept = ("BRIDGE_BROWSER_EXECUTABLE", "BRIDGE_BROWSER_WS_ENDPOINT")
    values = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_") or k in kept}
    values["BRIDGE_ARTIFACTS_DIR"] = str(tmp_path / "artifacts")
    return values


def _lines_until(stream: object, pattern: str, limit: int = 40) -> dict[str, str]:
    """Reads lines until one matches ``pattern``; returns every ``name   value`` line read."""
    found: dict[str, str] = {}
    for _ in range(limit):
        line = stream.readline()  # type: ignore[attr-defined]
        assert line, f"the command ended before printing {pattern!r}"
        if match := re.match(r"^(\w[\w ]*?)\s{2,}(\S+)", line):
            found[match[1]] = match[2]
        if re.search(pattern, line):
            return found
    raise AssertionError(f"no line matched {pattern!r}")


def _get_when_up(url: str, proc: subprocess.Popen[str], timeout: float = 60.0) -> httpx.Response:
    """GET ``url`` once the process listens (it logs before uvicorn accepts)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url)
        except httpx.TransportError:
            assert proc.poll() is None, "the command ended"
            assert time.monotonic() < deadline, f"{url} never answered"
            time.sleep(0.1)


@pytest.fixture
def console_demo(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    proc = subprocess.Popen(
        [CLI, "demo", "--console", "--experience", "universal"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        yield proc, _lines_until(proc.stdout, "Ctrl-C")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if proc.stdout:
            proc.stdout.close()


def test_demo_console_serves_the_console_prints_a_token_and_stops_on_ctrl_c(
    console_demo: tuple[subprocess.Popen[str], dict[str, str]],
) -> None:
    proc, said = console_demo
    page = httpx.get(said["console"])
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    base_url = said["console"].removesuffix("/console")
    with httpx.Client(base_url=base_url, timeout=60.0) as api:
        api.headers["Authorization"] = f"Bearer {said['API token']}"
        # The printed ticket and a seeded user both start (the bridge has the fake's Management API).
        for target in ({"ticket_url": said["Ticket URL"]}, {"user_id": "auth0|test-user-2"}):
            started = api.post("/v1/enrollments", json=target)
            assert started.status_code == 201, started.text
            assert started.json()["state"] == "awaiting_phone"
            assert started.json()["flavour"] == "universal"
            api.delete(f"/v1/enrollments/{started.json()['id']}")
    assert httpx.get(said["console"].removesuffix("/console") + "/v1/enrollments").status_code == 401

    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0


def test_serve_console_says_where_the_console_is(env: dict[str, str]) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [CLI, "serve", "--console", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        said = ""
        while "Operator console" not in said:
            line = proc.stderr.readline() if proc.stderr else ""
            assert line, "serve ended before saying where the console is"
            said += line
        assert f"Operator console: http://127.0.0.1:{port}/console" in said
        page = _get_when_up(f"http://127.0.0.1:{port}/console", proc)
        assert page.status_code == 200
        assert "API token" in page.text
    finally:
        proc.terminate()
        proc.wait(30)
        if proc.stderr:
            proc.stderr.close()
