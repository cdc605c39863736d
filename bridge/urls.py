"""Ticket-URL and host allowlist checks: the bridge opens only widget pages on allowed hosts.

A ticket URL is opened in a real browser (or fetched by the protocol engine), so it is treated like any
user-supplied URL fetched server-side (SSRF): scheme, userinfo, host, port, address forms and the route
are all checked before either engine sees it, and characters on which URL parsers disagree (a backslash,
a percent-escape or a control character where the host is) are refused rather than interpreted. The same
``HostPolicy`` decides, for every request and every navigation either engine makes, whether it may go.
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


_DEFAULT_PORTS = {"https": 443, "http": 80}
# Characters WHATWG parsers (Chromium) and RFC 3986 parsers (Python, httpx) read differently in an
# authority: ``\`` ends the host for a browser only; ``%`` escapes are decoded by one and not the other.
_AMBIGUOUS_IN_AUTHORITY = re.compile(r"[\\%\s\x00-\x1f\x7f]|[^\x00-\x7f]")


@dataclass(frozen=True)
class HostEntry:
    """One allowlist entry: a host or ``*.`` pattern, and the one port it admits (None: https on 443)."""

    host: str
    port: int | None

    @classmethod
    def parse(cls, entry: str) -> HostEntry:
        entry = entry.strip().lower()
        host, port = entry, None
        if entry.startswith("["):  # [IPv6]:port
            closing = entry.find("]")
            host, rest = entry[: closing + 1], entry[closing + 1 :]
            if rest.startswith(":") and rest[1:].isdigit():
                port = int(rest[1:])
        elif entry.count(":") == 1:
            name, _, digits = entry.partition(":")
            if digits.isdigit():
                host, port = name, int(digits)
        return cls(host.rstrip("."), port)

    @property
    def wildcard(self) -> bool:
        return "*" in self.host

    @property
    def local(self) -> bool:
        """An IP literal or ``localhost``: only ever reachable through an exact entry."""
        return self.host == "localhost" or numeric_host_address(self.host) is not None


@dataclass(frozen=True)
class HostPolicy:
    """Host patterns such as ``*.auth0.com``, ``login.example.com:8443`` or ``127.0.0.1:8080``.

    An entry without a port admits https on 443 only, whatever its host: another service on another
    port of an allowed host is not allowed. A DNS-name entry with a port admits https on that port.
    Wildcards only ever admit DNS names over https. IP literals, ``localhost`` and plain http need an
    exact IP or ``localhost`` entry; one with a port (``127.0.0.1:8080``, ``[::1]:9000``) admits that
    port over http or https, since a tenant on this machine (development, tests) serves plain http.
    """

    patterns: tuple[str, ...]

    @classmethod
    def of(cls, patterns: list[str] | tuple[str, ...]) -> HostPolicy:
        return cls(tuple(p.lower().strip() for p in patterns if p.strip()))

    @property
    def entries(self) -> tuple[HostEntry, ...]:
        return tuple(HostEntry.parse(p) for p in self.patterns)

    def allows(self, scheme: str, host: str, port: int | None = None) -> bool:
        """Whether ``scheme://host[:port]`` is allowed (``port`` None: the scheme's default port)."""
        scheme = scheme.lower()
        if scheme not in _ALLOWED_SCHEMES:
            return False
        host = host.lower().rstrip(".").strip("[]")
        port = port if port is not None else _DEFAULT_PORTS[scheme]
        is_local = host == "localhost" or numeric_host_address(host) is not None
        for entry in self.entries:
            if entry.local:
                # A local entry's named port takes either scheme; without one, only https on 443.
                if entry.host.strip("[]") == host and (
                    port == entry.port if entry.port is not None else (scheme, port) == ("https", 443)
                ):
                    return True
                continue
            if is_local or scheme != "https" or port != (entry.port or 443):
                continue
            if entry.host == host or (entry.wildcard and fnmatchcase(host, entry.host)):
                return True
        return False

    def proxy_bypass(self) -> str:
        """Chromium's proxy bypass list for these patterns.

        The browser context sends everything through a proxy that does not exist except what this list
        lets go direct, so even a redirect (which request routing never sees) cannot leave the
        allowlist. ``<-loopback>`` removes Chromium's implicit direct access to localhost.
        """
        rules = ["<-loopback>"]
        for entry in self.entries:
            if entry.local and entry.port is not None:
                rules.append(f"{entry.host}:{entry.port}")
            else:
                rules.append(f"https://{entry.host}:{entry.port or 443}")
        return ",".join(rules)

    def allows_url(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return False
        if parts.scheme in ("data", "blob", "about"):
            # In-page resources the widget builds itself never leave the browser.
            return True
        if _AMBIGUOUS_IN_AUTHORITY.search(parts.netloc) or "\\" in url:
            return False
        return bool(parts.hostname) and self.allows(parts.scheme, parts.hostname or "", port)


def origin_entry(url: str) -> str | None:
    """The allowlist entry for exactly the origin of ``url`` (a bare domain is taken as https): its host,
    with its port when the URL names one or is plain http, since a portless entry is https on 443."""
    try:
        parts = urlsplit(url if "://" in url else f"https://{url}")
        host, port = parts.hostname, parts.port
    except ValueError:
        return None  # the bridge refuses the URL itself, with its own message
    if not host:
        return None
    host = f"[{host}]" if ":" in host else host
    if port is None and parts.scheme.lower() == "http":
        port = _DEFAULT_PORTS["http"]
    return host if port is None else f"{host}:{port}"


def _authority(url: str) -> str:
    """The raw authority of ``url`` as written: after ``//``, up to the first ``/``, ``?`` or ``#``."""
    _, sep, rest = url.partition("//")
    if not sep:
        return ""
    return re.split(r"[/?#]", rest, maxsplit=1)[0]


def check_ticket_url(
    url: str, policy: HostPolicy, paths: list[str] | tuple[str, ...] = ("/guardian/enroll",)
) -> SplitResult:
    """Accepts a ticket URL or raises ``TicketUrlRejectedError`` saying why (never echoing the URL).

    ``paths``: the routes a ticket URL may have (Auth0's is ``/guardian/enroll``), so a ticket URL on an
    allowed host cannot point the bridge at any other page of that host.
    """
    if len(url) > 4096 or any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise TicketUrlRejectedError("ticket_url contains whitespace or control characters")
    if "\\" in url:
        # Chromium reads a backslash as a slash and Python does not: refused, not interpreted.
        raise TicketUrlRejectedError("ticket_url contains a backslash")
    if _AMBIGUOUS_IN_AUTHORITY.search(_authority(url)):
        raise TicketUrlRejectedError("ticket_url has percent-escapes or non-ASCII characters in its host")
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
        port = parts.port
    except ValueError as exc:
        raise TicketUrlRejectedError("ticket_url has an invalid port") from exc
    scheme = parts.scheme.lower()
    if not policy.allows(scheme, host, port):
        if scheme == "http" and policy.allows("https", host, port):
            raise TicketUrlRejectedError("ticket_url must use https for this host")
        raise TicketUrlRejectedError("ticket_url host (or port) is not in BRIDGE_ALLOWED_HOSTS")
    if parts.path not in paths:
        raise TicketUrlRejectedError("ticket_url is not a ticket route (BRIDGE_TICKET_PATHS)")
    return parts
