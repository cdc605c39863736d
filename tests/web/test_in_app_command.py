"""The in-app example's one command (``run.py --fake``, what ``scripts/dev in-app`` runs) as a process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import httpx

from bridge.serving import free_port
from tests.web.conftest import PHONE, ROOT


def test_run_fake_serves_the_app_with_its_own_fake_tenant_and_bridge() -> None:
    port = free_port()
    # None of the caller's settings but where the browser is.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BRIDGE_", "INAPP_")) or k == "BRIDGE_BROWSER_EXECUTABLE"
    }
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "in-app" / "run.py"), "--fake", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        said = proc.stdout.readline() + proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in said
        outbox = re.search(r"SMS outbox\s+(\S+)", said)
        assert outbox, said
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60.0) as app:
            deadline = time.monotonic() + 60
            while True:
                try:
                    app.get("/").raise_for_status()
                    break
                except httpx.TransportError:
                    assert proc.poll() is None, "run.py ended"
                    assert time.monotonic() < deadline, "the app never answered"
                    time.sleep(0.1)
            assert app.get("/api/me").json()["name"] == "Ada Lovelace"
            step = app.post("/api/sms/phone", json={"phone_number": PHONE}).json()
            assert step["step"] == "code", step
            code = httpx.get(outbox[1], params={"recipient": PHONE}).json()[0]["code"]
            done = app.post("/api/sms/code", json={"code": code}).json()
            assert done["step"] == "recovery"
            assert done["recovery_code"]
    finally:
        proc.terminate()
        proc.wait(30)
        if proc.stdout:
            proc.stdout.close()
