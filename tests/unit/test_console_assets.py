"""The operator console's files: nothing inline, nothing from elsewhere, and off unless asked for."""

from __future__ import annotations

import re
from typing import get_args

import httpx
import pytest

from bridge.api import create_app
from bridge.api.routes.console import CONTENT_SECURITY_POLICY, engines
from bridge.console import ASSETS, read_asset
from bridge.models import EngineChoice
from bridge.settings import BridgeSettings

HTML = read_asset("console.html").decode()


def test_the_page_has_no_inline_script_style_or_handler() -> None:
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", HTML, flags=re.S | re.I)
    assert scripts, "the page loads its script"
    assert all('src="/console/' in attrs and not body.strip() for attrs, body in scripts)
    assert not re.search(r"<style\b", HTML, flags=re.I)
    assert not re.search(r"\sstyle=", HTML, flags=re.I)
    assert not re.search(r"\son[a-z]+=", HTML, flags=re.I)


@pytest.mark.parametrize("name", sorted(ASSETS))
def test_no_asset_reaches_another_origin(name: str) -> None:
    text = read_asset(name).decode()
    assert not re.search(r"https?://", text), "no CDN or other origin: the CSP would refuse it anyway"
    assert "innerHTML" not in text, "text is set with textContent, never parsed as HTML"


def test_the_scripts_never_put_the_token_in_a_url_or_persistent_storage() -> None:
    scripts = read_asset("console.js").decode() + read_asset("bridge-api.js").decode()
    assert "localStorage" not in scripts
    assert "new EventSource" not in scripts  # it could only carry the token in its URL
    assert "headers.Authorization = `Bearer ${token}`" in scripts
    assert 'credentials: "omit"' in scripts


def test_the_policy_allows_only_this_origin() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_unknown_assets_are_not_served() -> None:
    with pytest.raises(KeyError):
        read_asset("../__init__.py")


@pytest.mark.parametrize(("console", "served"), [(False, False), (True, True)])
async def test_console_routes_exist_only_when_turned_on(console: bool, served: bool) -> None:
    # Without the lifespan (no browser): the page is static and needs none.
    transport = httpx.ASGITransport(app=create_app(BridgeSettings(console=console)))
    async with httpx.AsyncClient(transport=transport, base_url="http://bridge") as client:
        assert (await client.get("/console")).status_code == (200 if served else 404)


def test_the_console_offers_exactly_the_engines_the_api_takes() -> None:
    assert engines() == list(get_args(EngineChoice))
