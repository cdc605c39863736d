"""The web pages' test bed: a bridge serving its console with two API tokens, the in-app example app in
front of it, and the helpers every page test shares (artifacts, accessibility, console errors)."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, ViewportSize

from bridge.serving import ServerThread
from bridge.settings import BridgeSettings
from guardian_bridge_fake.harness import FakeTenantClient
from tests.hosting import BridgeHost, HostedBridge

ROOT = Path(__file__).resolve().parents[2]
# Screenshots and accessibility reports of the pages, kept for people to look at (gitignored).
ARTIFACTS = ROOT / "tests" / "artifacts" / "web"
AXE = ROOT / "tests" / "node" / "node_modules" / "axe-core" / "axe.min.js"
TOKEN_A = "console-token-alpha-0001"
TOKEN_B = "console-token-bravo-0002"
PHONE = "+14155550123"
INVALID_PHONE = "+15555550100"  # a 555 fiction number: the widget refuses it
VIEWPORTS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 390, "height": 844},
}


@pytest.fixture(scope="session")
def web_bridge(
    fake_server: ServerThread, bridge_host: BridgeHost, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HostedBridge]:
    """A bridge serving its console, with two API tokens, on the session's shared bridge Chromium."""
    settings = BridgeSettings(
        api_tokens=[TOKEN_A, TOKEN_B],
        allowed_hosts=[f"127.0.0.1:{fake_server.port}"],
        console=True,
        auth0_domain=fake_server.base_url,
        auth0_client_id="fake-client",
        auth0_client_secret="fake-secret",
        max_enrollments=8,
        step_timeout_s=15,
        artifacts_dir=tmp_path_factory.mktemp("web-bridge") / "artifacts",
    )
    with bridge_host.serve(settings) as server:
        yield server


@pytest.fixture
def bridge_api(web_bridge: HostedBridge, fake: FakeTenantClient) -> Iterator[dict[str, httpx.Client]]:
    """An API client per token; afterwards every enrollment still running is cancelled (shared slots)."""
    clients = {
        token: httpx.Client(
            base_url=web_bridge.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60.0
        )
        for token in (TOKEN_A, TOKEN_B)
    }
    yield clients
    for client in clients.values():
        for enrollment in client.get("/v1/enrollments").json()["enrollments"]:
            if enrollment["state"] in ("starting", "awaiting_phone", "awaiting_code"):
                client.delete(f"/v1/enrollments/{enrollment['id']}")
        client.close()


def load_example() -> ModuleType:
    """examples/in-app/server.py as a module (its folder name is not an importable package name)."""
    name = "inapp_example_server"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / "in-app" / "server.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@dataclass
class InApp:
    base_url: str
    user_id: str


@pytest.fixture
def inapp(
    web_bridge: HostedBridge, fake: FakeTenantClient, bridge_api: dict[str, httpx.Client]
) -> Iterator[InApp]:
    """The example app for a fresh user of the fake tenant, talking to the bridge with token A."""
    example = load_example()
    user_id = fake.add_user()["user_id"]
    config = example.ExampleConfig(
        bridge_url=web_bridge.base_url,
        bridge_token=TOKEN_A,
        auth0_base_url=fake.base_url,
        auth0_client_id="fake-client",
        auth0_client_secret="fake-secret",
        user_id=user_id,
    )
    with ServerThread(example.create_app(config)) as server:
        yield InApp(server.base_url, user_id)


@dataclass
class PageWatch:
    """What a page did that a person would not see: console errors, failed scripts, request URLs."""

    errors: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "STATUS URL" of every non-2xx response

    def unexpected_errors(self, allowed: str = "/screenshot") -> list[str]:
        """Errors other than refused reads of ``allowed`` (a picture asked for as the page closed)."""
        other = [e for e in self.errors if not e.startswith("Failed to load resource")]
        return other + [r for r in self.refused if allowed not in r]

    def attach(self, page: Page) -> None:
        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                self.errors.append(message.text)

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("response", lambda r: None if r.ok else self.refused.append(f"{r.status} {r.url}"))


@pytest.fixture
async def web_context(browser: Browser) -> Any:
    ctx: BrowserContext = await browser.new_context(viewport=VIEWPORTS["desktop"])
    ctx.set_default_timeout(20_000)
    yield ctx
    await ctx.close()


@pytest.fixture
async def watched(web_context: BrowserContext) -> tuple[Page, PageWatch]:
    page = await web_context.new_page()
    watch = PageWatch()
    watch.attach(page)
    return page, watch


async def save_screens(page: Page, name: str) -> list[Path]:
    """Full-page screenshots at desktop and phone widths under tests/artifacts/web/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    paths = []
    original = page.viewport_size
    for label, size in VIEWPORTS.items():
        await page.set_viewport_size(size)
        path = ARTIFACTS / f"{name}-{label}.png"
        await page.screenshot(path=str(path), full_page=True)
        paths.append(path)
    if original:
        await page.set_viewport_size(original)
    return paths


async def axe_violations(page: Page, name: str) -> list[dict[str, Any]]:
    """Runs axe-core (WCAG 2.1 A/AA and best practices) in the page; returns its violations and keeps
    the full report under tests/artifacts/web/."""
    assert AXE.exists(), "axe-core missing: run scripts/dev setup (installs tests/node packages)"
    await page.evaluate(AXE.read_text(encoding="utf-8"))
    report: dict[str, Any] = await page.evaluate(
        """() => axe.run(document, {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
            resultTypes: ["violations"],
        })"""
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}-axe.json").write_text(json.dumps(report["violations"], indent=2), encoding="utf-8")
    return [
        {"id": v["id"], "impact": v["impact"], "targets": [n["target"] for n in v["nodes"]]}
        for v in report["violations"]
    ]
