"""Issue 11 items 4 and 5: a ticket URL is a ticket route on an allowed host and port, written so that
every URL parser reads the same host; on both engines."""

from __future__ import annotations

import pytest

from bridge.errors import TicketUrlRejectedError
from bridge.urls import HostPolicy, check_ticket_url
from tests.security.conftest import Bed

TENANT = HostPolicy.of(["*.auth0.com", "login.example.com", "id.example.org:8443", "127.0.0.1"])


@pytest.mark.parametrize(
    "url",
    [
        # Parsers disagree: Chromium reads the host as evil.example, Python as ...auth0.com.
        "https://evil.example\\.auth0.com/guardian/enroll?ticket=x",
        "https://evil.example%5C.auth0.com/guardian/enroll?ticket=x",
        "https://evil.example%2F.auth0.com/guardian/enroll?ticket=x",
        "https://tenant.auth0.com%2eevil.example/guardian/enroll",
        "https://tenant.auth0.com\\@evil.example/guardian/enroll",
        "https://tenant.auth0.com\t/guardian/enroll",
        "https://tenänt.auth0.com/guardian/enroll",
        "https://tenant.auth0.com/guardian\\enroll",
        # Another service on an allowed host: another port, another path.
        "https://tenant.auth0.com:8443/guardian/enroll?ticket=x",
        "https://login.example.com:9200/guardian/enroll?ticket=x",
        "https://id.example.org/guardian/enroll?ticket=x",
        "https://tenant.auth0.com/admin",
        "https://tenant.auth0.com/guardian/enroll/../../admin",
        "https://tenant.auth0.com/guardian/enroll%2F..%2Fadmin",
        "https://tenant.auth0.com/",
        # An exact DNS name is https only.
        "http://login.example.com/guardian/enroll?ticket=x",
        # A portless loopback entry is https on 443 only (see test_urls for ported local entries).
        "http://127.0.0.1/guardian/enroll?ticket=x",
        "https://127.0.0.1:8443/guardian/enroll?ticket=x",
    ],
)
def test_refused(url: str) -> None:
    with pytest.raises(TicketUrlRejectedError) as info:
        check_ticket_url(url, TENANT)
    assert url not in info.value.message


@pytest.mark.parametrize(
    "url",
    [
        "https://tenant.auth0.com/guardian/enroll?ticket=x",
        "https://tenant.auth0.com:443/guardian/enroll?ticket=x",
        "https://login.example.com/guardian/enroll?ticket=x",
        "https://id.example.org:8443/guardian/enroll?ticket=x",
    ],
)
def test_accepted(url: str) -> None:
    check_ticket_url(url, TENANT)


def test_ticket_routes_are_configurable() -> None:
    url = "https://tenant.auth0.com/mfa/enroll?ticket=x"
    with pytest.raises(TicketUrlRejectedError):
        check_ticket_url(url, TENANT)
    check_ticket_url(url, TENANT, ["/guardian/enroll", "/mfa/enroll"])


def test_every_request_is_held_to_the_same_ports() -> None:
    assert TENANT.allows_url("https://cdn.auth0.com/js/widget.js")
    assert not TENANT.allows_url("https://cdn.auth0.com:8443/js/widget.js")
    assert not TENANT.allows_url("https://login.example.com:9200/")
    assert TENANT.allows_url("https://id.example.org:8443/u/mfa-sms-enrollment")
    assert not TENANT.allows_url("https://id.example.org/u/mfa-sms-enrollment")
    bypass = TENANT.proxy_bypass().split(",")
    assert "https://*.auth0.com:443" in bypass
    assert "https://id.example.org:8443" in bypass


@pytest.mark.parametrize("engine", ["browser", "protocol", "auto"])
@pytest.mark.parametrize(
    "path",
    [
        "/__test/outbox",  # another page of the allowed host (here the fake's own test controls)
        "/api/v2/users",
        "/guardian/enroll/../../__test/outbox",
    ],
)
def test_a_ticket_url_to_another_page_of_an_allowed_host_is_refused(bed: Bed, engine: str, path: str) -> None:
    before = len(bed.a.get("/v1/enrollments").json()["enrollments"])
    response = bed.a.post(
        "/v1/enrollments", json={"ticket_url": f"{bed.fake.base_url}{path}", "engine": engine}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (422, "ticket_url_rejected")
    assert len(bed.a.get("/v1/enrollments").json()["enrollments"]) == before  # nothing was opened


@pytest.mark.parametrize("engine", ["browser", "protocol"])
def test_a_percent_escape_in_the_host_is_refused_before_any_engine(bed: Bed, engine: str) -> None:
    ticket = bed.fake.create_ticket()["ticket_url"].replace("127.0.0.1", "127.0.0.1%5C.auth0.com")
    response = bed.a.post("/v1/enrollments", json={"ticket_url": ticket, "engine": engine})
    assert (response.status_code, response.json()["error"]["code"]) == (422, "ticket_url_rejected")


@pytest.mark.parametrize("engine", ["browser", "protocol", "auto"])
def test_another_port_of_the_allowed_loopback_host_is_refused(bed: Bed, engine: str) -> None:
    """The allowlist names the fake's port: the bridge's own port, or https on 443, of the same address
    is another service and is refused before anything opens, while the fake's own port works."""
    ticket = bed.fake.create_ticket()["ticket_url"]
    fake_origin = bed.fake.base_url.rstrip("/")
    bridge_port = bed.bridge_url.rpartition(":")[2]
    before = len(bed.a.get("/v1/enrollments").json()["enrollments"])
    for origin in (f"http://127.0.0.1:{bridge_port}", "https://127.0.0.1", "http://127.0.0.1"):
        response = bed.a.post(
            "/v1/enrollments", json={"ticket_url": ticket.replace(fake_origin, origin), "engine": engine}
        )
        assert (response.status_code, response.json()["error"]["code"]) == (422, "ticket_url_rejected")
    assert len(bed.a.get("/v1/enrollments").json()["enrollments"]) == before  # nothing was opened
    response = bed.a.post("/v1/enrollments", json={"ticket_url": ticket, "engine": engine})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("engine", ["browser", "protocol"])
def test_the_documented_route_still_works_on_both_engines(bed: Bed, engine: str) -> None:
    response = bed.a.post(
        "/v1/enrollments", json={"ticket_url": bed.fake.create_ticket()["ticket_url"], "engine": engine}
    )
    assert (response.status_code, response.json()["state"]) == (201, "awaiting_phone"), response.text
