"""``guardian-bridge serve``: refuses to be exposed without tokens, hands out a one-run token on
loopback, logs JSON lines when not on a terminal, and leaves no Chromium behind on shutdown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import httpx

from bridge.serving import free_port
from tests.cli.conftest import CLI, run_cli
from tests.processes import browser_processes


def test_non_loopback_address_without_tokens_is_refused(env: dict[str, str]) -> None:
    result = run_cli(["serve", "--host", "0.0.0.0", "--port", str(free_port())], env)
    assert result.returncode == 2
    assert "BRIDGE_API_TOKENS" in result.stderr


def test_loopback_without_tokens_prints_one_token_and_shuts_down_cleanly(env: dict[str, str]) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert "bearer token" in line
        token = line.rsplit(":", 1)[1].strip()
        assert len(token) >= 24
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).json()["browser_connected"]:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.2)
        browsers = browser_processes(proc.pid)
        assert browsers
        assert httpx.get(f"{base}/v1/enrollments").status_code == 401
        listing = httpx.get(f"{base}/v1/enrollments", headers={"Authorization": f"Bearer {token}"})
        assert listing.status_code == 200
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    # uvicorn shuts down gracefully, then re-raises the signal it caught so the exit status tells why.
    assert proc.returncode in (0, -signal.SIGTERM)
    assert "Finished server process" in err or "Shutting down" in err
    # Not a terminal: every log line is one JSON object, and the token is printed only once.
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert records
    assert all("event" in r and "level" in r for r in records)
    assert token not in err
    assert not {pid for pid in browsers if os.path.exists(f"/proc/{pid}")}, "Chromium outlived serve"
