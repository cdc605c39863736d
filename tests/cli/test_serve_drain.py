"""``guardian-bridge serve`` drains on SIGTERM: /readyz and new starts answer 503 ``draining`` at once,
an enrollment in flight still completes, one left open ends ``cancelled`` / ``bridge_shutdown`` once
``BRIDGE_DRAIN_TIMEOUT_S`` has passed, and the process exits 0 with no Chromium left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx

from bridge.serving import free_port
from guardian_bridge_fake.harness import FakeTenantClient
from tests.cli.conftest import CLI, PHONE
from tests.processes import browser_processes

TOKEN = "drain-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _up(base: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).json()["browser_connected"]:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "serve did not come up"
        time.sleep(0.2)


def test_sigterm_drains_then_exits_cleanly(
    env: dict[str, str], fake: FakeTenantClient, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **env,
        "BRIDGE_API_TOKENS": TOKEN,
        "BRIDGE_ALLOWED_HOSTS": fake.base_url.removeprefix("http://"),  # 127.0.0.1:<the fake's port>
        "BRIDGE_DRAIN_TIMEOUT_S": "4",
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [CLI, "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            stdout=subprocess.DEVNULL,
            stderr=out,
            env=env,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _up(base)
        browsers = browser_processes(proc.pid)
        with httpx.Client(base_url=base, headers=AUTH, timeout=30) as api:
            started, codes = [], []
            for _ in range(2):
                ticket = fake.create_ticket()
                body = {"ticket_url": ticket["ticket_url"], "phone_number": PHONE, "engine": "browser"}
                made = api.post("/v1/enrollments", json=body)
                assert made.status_code == 201, made.text
                started.append(made.json()["id"])
                codes.append(fake.latest_code(PHONE))
            finishing, left = started
            code = codes[0]
            seen: list[str] = []

            def follow() -> None:  # the open enrollment's event stream, read to its end
                with api.stream("GET", f"/v1/enrollments/{left}/events", timeout=60) as stream:
                    seen.extend(stream.iter_lines())

            reader = threading.Thread(target=follow)
            reader.start()
            proc.send_signal(signal.SIGTERM)
            ready = api.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["error"]["code"] == "draining"
            refused = api.post("/v1/enrollments", json={"ticket_url": fake.create_ticket()["ticket_url"]})
            assert refused.status_code == 503
            assert refused.json()["error"]["code"] == "draining"
            assert refused.headers["retry-after"] == "1"
            done = api.post(f"/v1/enrollments/{finishing}/code", json={"code": code})
            assert done.status_code == 200
            assert done.json()["state"] == "completed"
            reader.join(30)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, log.read_text()
    state_lines = [line for line in seen if line.startswith("data:") and '"state"' in line]
    assert '"state":"cancelled"' in state_lines[-1]
    assert "bridge_shutdown" in state_lines[-1]
    assert not {pid for pid in browsers if os.path.exists(f"/proc/{pid}")}, "Chromium outlived serve"
