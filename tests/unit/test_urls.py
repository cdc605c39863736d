"""Ticket-URL guard: the SSRF corpus and the allowlist rules."""

from __future__ import annotations

import pytest

from bridge.errors import TicketUrlRejectedError
from bridge.urls import HostPolicy, check_ticket_url, numeric_host_address, origin_entry

DEFAULT = HostPolicy.of(["*.auth0.com"])
LOCAL = HostPolicy.of(["*.auth0.com", "127.0.0.1:8790"])


@pytest.mark.parametrize(
    "url",
    [
        "https://tenant.auth0.com/guardian/enroll?ticket=abc",
        "https://tenant.eu.auth0.com/guardian/enroll?ticket=abc",
        "https://TENANT.Auth0.com./guardian/enroll?ticket=abc",
    ],
)
def test_allowed_tenant_urls(url: str) -> None:
    check_ticket_url(url, DEFAULT)


@pytest.mark.parametrize(
    "url",
    [
        "http://tenant.auth0.com/guardian/enroll",  # http only for exact entries
        "https://auth0.com.evil.com/x",
        "https://evil.com/?x=.auth0.com",
        "https://evil.com#.auth0.com",
        "https://tenant.auth0.com@evil.com/",
        "https://user:pass@tenant.auth0.com/",
        "file:///etc/passwd",
        "data:text/html,<script>alert(1)</script>",
        "javascript:alert(1)",
        "blob:https://tenant.auth0.com/uuid",
        "view-source:https://tenant.auth0.com/",
        "ftp://tenant.auth0.com/",
        "https://127.0.0.1/",
        "https://localhost/",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/",
        "https://2130706433/",  # decimal 127.0.0.1
        "https://0x7f000001/",  # hex
        "https://0177.0.0.1/",  # octal
        "https://0x7f.1/",  # short hex
        "https://127.1/",  # short dotted
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:7f00:1]/",
        "https:///path-only",
        "https://tenant.auth0.com:99999/",
        "https://tenant.auth0.com/\n",
        " https://tenant.auth0.com/",
        "https://tenant.auth0.com/\x00",
        "",
    ],
)
def test_rejected_urls(url: str) -> None:
    with pytest.raises(TicketUrlRejectedError) as info:
        check_ticket_url(url, DEFAULT)
    if url.strip():
        assert url.strip() not in info.value.message


def test_loopback_needs_an_exact_entry_and_then_allows_http() -> None:
    check_ticket_url("http://127.0.0.1:8790/guardian/enroll?ticket=x", LOCAL)
    with pytest.raises(TicketUrlRejectedError):
        check_ticket_url("http://2130706433:8790/guardian/enroll?ticket=x", LOCAL)
    with pytest.raises(TicketUrlRejectedError):
        check_ticket_url("http://127.0.0.2:8790/", LOCAL)


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("[::ffff:10.0.0.1]", "10.0.0.1"),
        ("tenant.auth0.com", None),
        ("1e100.net", None),
    ],
)
def test_numeric_host_spellings(host: str, address: str | None) -> None:
    found = numeric_host_address(host)
    assert (str(found) if found else None) == address


def test_policy_for_requests_inside_the_browser() -> None:
    assert LOCAL.allows_url("http://127.0.0.1:8790/u/mfa-sms-enrollment")
    assert not LOCAL.allows_url("http://127.0.0.1:1/u/mfa-sms-enrollment")
    assert LOCAL.allows_url("data:image/png;base64,xx")
    assert not LOCAL.allows_url("http://169.254.169.254/")
    assert not DEFAULT.allows_url("https://cdn.evil.com/x.js")


def test_a_local_entry_without_a_port_admits_https_on_443_only() -> None:
    policy = HostPolicy.of(["127.0.0.1"])
    assert policy.allows_url("https://127.0.0.1/guardian/enroll")
    assert policy.allows_url("https://127.0.0.1:443/guardian/enroll")
    assert not policy.allows_url("http://127.0.0.1:8080/guardian/enroll")
    assert not policy.allows_url("http://127.0.0.1/guardian/enroll")
    assert not policy.allows_url("https://127.0.0.1:8443/guardian/enroll")
    with pytest.raises(TicketUrlRejectedError):
        check_ticket_url("http://127.0.0.1:8080/guardian/enroll?ticket=x", policy)
    with pytest.raises(TicketUrlRejectedError):
        check_ticket_url("https://127.0.0.1:8443/guardian/enroll?ticket=x", policy)
    check_ticket_url("https://127.0.0.1/guardian/enroll?ticket=x", policy)
    assert policy.proxy_bypass() == "<-loopback>,https://127.0.0.1:443"


@pytest.mark.parametrize(
    ("entry", "origin", "other_port", "bypass"),
    [
        ("127.0.0.1:8080", "127.0.0.1:8080", "127.0.0.1:8081", "127.0.0.1:8080"),
        ("localhost:8080", "localhost:8080", "localhost:443", "localhost:8080"),
        ("[::1]:9000", "[::1]:9000", "[::1]:9001", "[::1]:9000"),
    ],
)
def test_a_local_entry_with_a_port_admits_that_port_over_either_scheme(
    entry: str, origin: str, other_port: str, bypass: str
) -> None:
    policy = HostPolicy.of([entry])
    assert policy.allows_url(f"http://{origin}/guardian/enroll")
    assert policy.allows_url(f"https://{origin}/guardian/enroll")
    check_ticket_url(f"http://{origin}/guardian/enroll?ticket=x", policy)
    for scheme in ("http", "https"):
        assert not policy.allows_url(f"{scheme}://{other_port}/guardian/enroll")
        with pytest.raises(TicketUrlRejectedError):
            check_ticket_url(f"{scheme}://{other_port}/guardian/enroll?ticket=x", policy)
    host = origin.rpartition(":")[0]
    assert not policy.allows_url(f"https://{host}/guardian/enroll")  # 443 is another port too
    assert not policy.allows_url(f"http://{host}/guardian/enroll")
    assert policy.proxy_bypass() == f"<-loopback>,{bypass}"


def test_wildcards_still_admit_names_over_https_only() -> None:
    policy = HostPolicy.of(["*.auth0.com", "127.0.0.1:8790"])
    assert policy.allows_url("https://tenant.auth0.com/")
    assert not policy.allows_url("http://tenant.auth0.com/")
    assert not policy.allows_url("https://tenant.auth0.com:8790/")  # a local entry's port is its own
    assert policy.proxy_bypass() == "<-loopback>,https://*.auth0.com:443,127.0.0.1:8790"


@pytest.mark.parametrize(
    ("url", "entry"),
    [
        ("http://127.0.0.1:8790/guardian/enroll?ticket=x", "127.0.0.1:8790"),
        ("http://127.0.0.1/guardian/enroll", "127.0.0.1:80"),  # a portless entry would be https on 443
        ("https://127.0.0.1/guardian/enroll", "127.0.0.1"),
        ("http://[::1]:9000/", "[::1]:9000"),
        ("https://Tenant.Auth0.com/guardian/enroll", "tenant.auth0.com"),
        ("login.example.com", "login.example.com"),  # BRIDGE_AUTH0_DOMAIN may be a bare domain
        ("https://id.example.org:8443", "id.example.org:8443"),
        ("", None),
        ("https://host:notaport/", None),
    ],
)
def test_origin_entry_is_the_entry_that_admits_exactly_that_origin(url: str, entry: str | None) -> None:
    assert origin_entry(url) == entry
    if entry is not None and "://" in url:
        assert HostPolicy.of([entry]).allows_url(url)
