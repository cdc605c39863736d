"""Issue 11 items 8, 11 and 12: /readyz is honest when every session is taken, the API description is
behind the token (and loads nothing from a CDN), and event streams are capped."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.hosting import BridgeHost
from tests.security.conftest import TOKEN_A, TOKEN_B, Bed, client, settings_for


def test_readyz_is_not_ready_when_every_session_is_taken_and_nothing_may_wait(
    bridge_host: BridgeHost, tmp_path: Path, bed: Bed
) -> None:
    settings = settings_for(tmp_path, bed.fake_port, max_enrollments=1, queue_timeout_s=0)
    with bridge_host.serve(settings) as server, client(server.base_url, TOKEN_A) as api:
        assert api.get("/readyz").status_code == 204
        ticket = bed.fake.create_ticket()["ticket_url"]
        eid = api.post("/v1/enrollments", json={"ticket_url": ticket, "engine": "protocol"}).json()["id"]
        full = api.get("/readyz")
        assert (full.status_code, full.json()["error"]["code"]) == (503, "session_limit")
        # What /readyz said is what a start gets.
        again = api.post("/v1/enrollments", json={"ticket_url": bed.fake.create_ticket()["ticket_url"]})
        assert again.status_code == 429
        api.delete(f"/v1/enrollments/{eid}")
        assert api.get("/readyz").status_code == 204


def test_the_api_description_is_behind_the_token_by_default(bed: Bed) -> None:
    for path in ("/openapi.json", "/docs"):
        assert bed.anonymous.get(path).status_code == 401, path
    assert bed.anonymous.get("/redoc").status_code == 404
    spec = bed.a.get("/openapi.json").json()
    assert "/v1/enrollments" in spec["paths"]
    page = bed.a.get("/docs")
    assert page.status_code == 200
    assert "<script" not in page.text
    assert "cdn" not in page.text.lower()
    assert "default-src 'none'" in page.headers["content-security-policy"]


@pytest.mark.parametrize(("mode", "anonymous", "with_token"), [("off", 404, 404), ("public", 200, 200)])
def test_the_api_description_can_be_turned_off_or_opened(
    bridge_host: BridgeHost, tmp_path: Path, mode: str, anonymous: int, with_token: int
) -> None:
    with (
        bridge_host.serve(settings_for(tmp_path, api_docs=mode)) as server,
        client(server.base_url, None) as nobody,
        client(server.base_url, TOKEN_A) as api,
    ):
        assert nobody.get("/openapi.json").status_code == anonymous
        assert api.get("/openapi.json").status_code == with_token


def test_event_streams_are_capped_per_enrollment_and_per_token(
    bridge_host: BridgeHost, tmp_path: Path, bed: Bed
) -> None:
    settings = settings_for(tmp_path, bed.fake_port, max_streams_per_enrollment=2, max_streams_per_token=3)
    with (
        bridge_host.serve(settings) as server,
        client(server.base_url, TOKEN_A) as a,
        client(server.base_url, TOKEN_B) as b,
    ):
        ids = [
            a.post(
                "/v1/enrollments",
                json={"ticket_url": bed.fake.create_ticket()["ticket_url"], "engine": "protocol"},
            ).json()["id"]
            for _ in range(2)
        ]
        with ExitStack() as streams:

            def open_stream(api: httpx.Client, eid: str) -> httpx.Response:
                return streams.enter_context(api.stream("GET", f"/v1/enrollments/{eid}/events"))

            assert [open_stream(a, ids[0]).status_code for _ in range(2)] == [200, 200]
            third = a.get(f"/v1/enrollments/{ids[0]}/events")
            assert (third.status_code, third.json()["error"]["code"]) == (429, "rate_limited")
            assert open_stream(a, ids[1]).status_code == 200  # the token's third
            over = a.get(f"/v1/enrollments/{ids[1]}/events")
            assert over.status_code == 429
            # Another token's streams are its own business (it sees none of these enrollments anyway).
            assert b.get(f"/v1/enrollments/{ids[1]}/events").status_code == 404
        # Closed streams give their places back.
        a.delete(f"/v1/enrollments/{ids[0]}")
        with a.stream("GET", f"/v1/enrollments/{ids[0]}/events") as ended:
            assert ended.status_code == 200
            assert "event: state" in ended.read().decode()
        a.delete(f"/v1/enrollments/{ids[1]}")
