"""Where the check gets the one-time code from when the bridge's OTP inbox does not submit it.

``OutboxCodes`` reads the fake tenant's outbox (``GET <tenant>/__test/sms?recipient=<phone>``, newest
first; the fake only); ``CallbackCodes`` asks a function (standard input, a terminal prompt). Knowing the
code is what lets the check try a wrong one first, to record how the widget answers it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from bridge.models import Enrollment

_SIX_DIGITS = re.compile(r"\b(\d{4,10})\b")


class CodeUnavailableError(Exception):
    """No code could be had (the outbox stayed empty, standard input closed)."""


class CodeSource(Protocol):
    name: str

    async def prepare(self) -> None:
        """Called just before the real phone number is submitted."""

    async def code(self, enrollment: Enrollment) -> str:
        """The code sent for ``enrollment`` (which awaits it)."""


class OutboxCodes:
    """The newest message to ``phone`` in the fake tenant's outbox that arrived after ``prepare()``."""

    name = "outbox"

    def __init__(
        self,
        tenant_origin: str,
        phone: str,
        timeout_s: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._origin = tenant_origin.rstrip("/")
        self._phone = phone
        self._timeout_s = timeout_s
        self._transport = transport
        self._seen: set[str] = set()

    async def _messages(self) -> list[dict[str, object]]:
        async with httpx.AsyncClient(base_url=self._origin, timeout=10.0, transport=self._transport) as http:
            try:
                response = await http.get("/__test/sms", params={"recipient": self._phone})
            except httpx.HTTPError as exc:
                raise CodeUnavailableError(f"could not read the outbox ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise CodeUnavailableError(
                f"the tenant has no test outbox (HTTP {response.status_code}); --code-from outbox "
                "works with the fake tenant only"
            )
        messages = response.json()
        return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []

    async def prepare(self) -> None:
        # Messages already there (an earlier run to the same number) must never be taken for this one's.
        self._seen = {str(m.get("id")) for m in await self._messages()}

    async def code(self, enrollment: Enrollment) -> str:
        deadline = time.monotonic() + self._timeout_s
        while True:
            for message in await self._messages():  # newest first
                if str(message.get("id")) in self._seen:
                    continue
                code = message.get("code")
                if isinstance(code, str) and code:
                    return code
                found = _SIX_DIGITS.search(str(message.get("text", "")))
                if found:
                    return found.group(1)
            if time.monotonic() > deadline:
                raise CodeUnavailableError(
                    f"no new message arrived in the outbox within {self._timeout_s:g}s"
                )
            await asyncio.sleep(0.2)


class CallbackCodes:
    """A code from a blocking function (a prompt, a line of standard input), run off the event loop."""

    def __init__(self, name: str, read: Callable[[Enrollment], str]) -> None:
        self.name = name
        self._read = read

    async def prepare(self) -> None:
        return None

    async def code(self, enrollment: Enrollment) -> str:
        value = (await asyncio.to_thread(self._read, enrollment)).strip()
        if not value:
            raise CodeUnavailableError(f"no code was given on {self.name}")
        return value


def tenant_origin(ticket_url: str | None, auth0_domain: str | None = None) -> str | None:
    """The tenant's base URL: the ticket URL's origin, else the configured Auth0 domain."""
    if ticket_url:
        try:
            parts = urlsplit(ticket_url)
        except ValueError:
            return None  # not a URL at all: whoever asked refuses it with its own words
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None
    if auth0_domain:
        return auth0_domain.rstrip("/") if "://" in auth0_domain else f"https://{auth0_domain}"
    return None
