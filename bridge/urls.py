"""Ticket-URL and host allowlist checks: the bridge opens only widget pages on allowed hosts.

A ticket URL is opened in a real browser, so it is treated like any user-supplied URL fetched server-side
(SSRF): scheme, userinfo, host and address forms are all checked before the browser sees it. The same
``HostPolicy`` decides, for every request the page makes, whether it may leave the browser.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from urllib.parse import SplitResult, urlsplit

from bridge.errors import TicketUrlRejectedError

_ALLOWED_SCHEMES = {"https", "http"}
# Integer (decimal/octal/hex) and shortened dotted IPv4 forms such as 2130706433, 0x7f.1, 0177.0.0.1:
# browsers resolve these to addresses, so they are treated as IP literals, never as names.
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}\.?$", re.IGNORECASE)


def _parse_ipv4_component(part: str) -> int:
    if part.lower().startswith("0x"):
        return int(part, 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)
    return int(part)


def numeric_host_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a browser would use for an IP-literal host in any of its spellings, else None."""
    bare = host.strip("[]")
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        address = None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    if address is not None:
        return address
    if not _NUMERIC_HOST.match(host):
        return None
    parts = [_parse_ipv4_component(p) for p in host.rstrip(".").split(".")]
    # inet_aton rules: the last part fills all remaining bytes.
    value = 0
    for part in parts[:-1]:
        value = value * 256 + part
    value = value * (256 ** (4 - len(parts) + 1)) + parts[-1]
    if value >= 2**32:
        return None
    return ipaddress.IPv4Address(value)


@dataclass(frozen=True)
class HostPolicy:
    """Host patterns such as ``*.auth0.com`` or ``127.0.0.1``.

    Wildcards only ever admit DNS names over https. IP literals, ``localhost`` and plain http need an
    exact entry, so loopback and private addresses are reachable only when listed explicitly.
    """

    patterns: tuple[str, ...]

    @classmethod
    def of(cls, patterns: list[str] | tuple[str, ...]) -> HostPolicy:
        return cls(tuple(p.lower().strip() for p in patterns if p.strip()))

    def _exact(self, host: str) -> bool:
        return host in self.patterns

    def allows(self, scheme: str, host: str) -> bool:
        host = host.lower().rstrip(".")
        if self._exact(host):
            return scheme in _ALLOWED_SCHEMES
        if scheme != "https" or host == "localhost" or numeric_host_address(host) is not None:
            return False
        return any("*" in p and fnmatchcase(host, p) for p in self.patterns)

    def proxy_bypass(self) -> str:
        """Chromium's proxy bypass list for these patterns.

        The browser context sends everything through a proxy that does not exist except what this list
        lets go direct, so even a redirect (which request routing never sees) cannot leave the
        allowlist. ``<-loopback>`` removes Chromium's implicit direct access to localhost.
        """
        rules = ["<-loopback>"]
        for pattern in self.patterns:
            rules.append(f"https://{pattern}" if "*" in pattern else pattern)
        return ",".join(rules)

    def allows_url(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
        except ValueError:
            return False
        if parts.scheme in ("data", "blob", "about"):
            # In-page resources the widget builds itself never leave the browser.
            return True
        return bool(parts.hostname) and self.allows(parts.scheme, parts.hostname or "")


def check_ticket_url(url: str, policy: HostPolicy) -> SplitResult:
    """Accepts a ticket URL or raises ``TicketUrlRejectedError`` saying why (never echoing the URL)."""
    if len(url) > 4096 or any(ord(c) < 0x21 for c in url):
        raise TicketUrlRejectedError("ticket_url contains whitespace or control characters")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise TicketUrlRejectedError("ticket_url is not a valid URL") from exc
    if parts.scheme.lower() not in _ALLOWED_SCHEMES:
        raise TicketUrlRejectedError("ticket_url must use https")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise TicketUrlRejectedError("ticket_url must not contain user information")
    host = (parts.hostname or "").lower()
    if not host:
        raise TicketUrlRejectedError("ticket_url has no host")
    try:
        _ = parts.port
    except ValueError as exc:
        raise TicketUrlRejectedError("ticket_url has an invalid port") from exc
    if not policy.allows(parts.scheme.lower(), host):
        if parts.scheme.lower() == "http" and policy.allows("https", host):
            raise TicketUrlRejectedError("ticket_url must use https for this host")
        raise TicketUrlRejectedError("ticket_url host is not in BRIDGE_ALLOWED_HOSTS")
    return parts
