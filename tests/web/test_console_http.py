"""The console's files over HTTP: each with its strict Content-Security-Policy and no caching surprises."""

from __future__ import annotations

import httpx
import pytest

from tests.hosting import HostedBridge


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/console", "text/html"),
        ("/console/console.js", "text/javascript"),
        ("/console/bridge-api.js", "text/javascript"),
        ("/console/console.css", "text/css"),
        ("/console/features.json", "application/json"),
    ],
)
def test_each_file_is_served_with_the_security_headers(
    web_bridge: HostedBridge, path: str, media_type: str
) -> None:
    response = httpx.get(web_bridge.base_url + path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "default-src 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_the_page_needs_no_token_but_the_api_behind_it_does(web_bridge: HostedBridge) -> None:
    assert httpx.get(web_bridge.base_url + "/console").status_code == 200
    refused = httpx.get(web_bridge.base_url + "/v1/enrollments")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"


def test_other_paths_under_console_are_not_found(web_bridge: HostedBridge) -> None:
    for path in (
        "/console/app.py",
        "/console/console.html",
        "/console/static/console.js",
        "/console/..%2f__init__.py",
    ):
        response = httpx.get(web_bridge.base_url + path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
