"""Several Playwright servers in BRIDGE_BROWSER_WS_ENDPOINT: new contexts go to the least loaded live
server, one that cannot be reached is skipped, and one that dies stops getting contexts."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import async_playwright

from bridge.api import create_app
from bridge.browser import CHROMIUM_ARGS
from bridge.browser_binary import find_chromium
from bridge.remote_browsers import RemoteBrowsers, endpoints_of
from bridge.serving import ServerThread, free_port
from guardian_bridge_fake.harness import FakeTenantClient
from tests.api.conftest import TOKEN, bridge_settings

PHONE = "+14155550123"


class PlaywrightServer:
    """``python -m playwright launch-server`` in its own process group (its driver and Chromium end
    with it)."""

    def __init__(self, tmp: Path) -> None:
        config = tmp / f"launch-{free_port()}.json"
        options = {"executablePath": find_chromium(), "args": list(CHROMIUM_ARGS), "headless": True}
        config.write_text(json.dumps({**options, "host": "127.0.0.1", "port": 0}))
        argv = [sys.executable, "-m", "playwright", "launch-server", "--browser", "chromium", "--config"]
        self.process = subprocess.Popen(
            [*argv, str(config)], stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        assert self.process.stdout is not None
        self.endpoint = self.process.stdout.readline().strip()
        assert self.endpoint.startswith("ws://127.0.0.1:"), self.endpoint

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[PlaywrightServer]]:
    started = [PlaywrightServer(tmp_path), PlaywrightServer(tmp_path)]
    yield started
    for server in started:
        server.stop()


def test_the_setting_names_each_server() -> None:
    assert endpoints_of(" ws://a:1/x , ws://b:2/y,") == ["ws://a:1/x", "ws://b:2/y"]
    assert endpoints_of(None) == []


def test_contexts_spread_over_live_servers_and_a_dead_one_is_skipped(servers: list[PlaywrightServer]) -> None:
    first, second = servers
    nobody = f"ws://127.0.0.1:{free_port()}/nothing-listens-here"

    async def run() -> None:
        pool = RemoteBrowsers([first.endpoint, nobody, second.endpoint])
        async with async_playwright() as pw:
            try:
                contexts = [await (await pool.pick(pw)).new_context() for _ in range(4)]
                assert pool.open_contexts() == {first.endpoint: 2, second.endpoint: 2}
                await contexts[0].close()
                assert sorted(pool.open_contexts().values()) == [1, 2]
                # The least loaded now is the server that context was on (one context against two).
                chosen = await pool.pick(pw)
                assert len(chosen.contexts) == 1
                first.stop()
                for _ in range(100):  # the disconnect reaches the client shortly after
                    if first.endpoint not in pool.open_contexts():
                        break
                    await asyncio.sleep(0.05)
                survivor = await pool.pick(pw)
                assert list(pool.open_contexts()) == [second.endpoint]
                assert survivor.is_connected()
                page = await (await survivor.new_context()).new_page()
                await page.set_content("<p>still serving</p>")
                assert await page.text_content("p") == "still serving"
            finally:
                await pool.close()

    asyncio.run(run())


def test_a_bridge_enrolls_through_a_list_of_servers(
    servers: list[PlaywrightServer], tmp_path: Path, fake: FakeTenantClient, fake_server: ServerThread
) -> None:
    nobody = f"ws://127.0.0.1:{free_port()}/nothing-listens-here"
    endpoints = ",".join([nobody, *(s.endpoint for s in servers)])
    settings = bridge_settings(tmp_path, fake_server.port, browser_ws_endpoint=endpoints)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with (
        ServerThread(create_app(settings)) as server,
        httpx.Client(base_url=server.base_url, headers=auth, timeout=60) as client,
    ):
        ticket = fake.create_ticket()
        body = {"ticket_url": ticket["ticket_url"], "phone_number": PHONE, "engine": "browser"}
        started = client.post("/v1/enrollments", json=body)
        assert started.status_code == 201, started.text
        assert client.get("/healthz").json()["browser_connected"] is True
        eid = started.json()["id"]
        done = client.post(f"/v1/enrollments/{eid}/code", json={"code": fake.latest_code(PHONE)})
        assert done.json()["state"] == "completed"
