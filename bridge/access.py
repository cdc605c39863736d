"""Who is calling: bearer-token authentication and the owner identity every enrollment carries.

Each enrollment belongs to the token that started it. What is stored is the token's *fingerprint* (a
prefix of its SHA-256, never the token), so a record, a log line or a shared directory of enrollments
can name the owner without holding a credential. Admin tokens (``BRIDGE_ADMIN_TOKENS``) see every
enrollment; ordinary tokens see only their own, and every other enrollment answers as if it did not exist.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from bridge.errors import UnauthorizedError

# Below this a token can be guessed or typed by hand; refused when the settings are read.
MIN_TOKEN_LENGTH = 16
# The owner of every enrollment of a bridge started without tokens (loopback development only).
OPEN_OWNER = "open"


def fingerprint(token: str) -> str:
    """A stable, non-secret id for ``token``: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one request: its token's fingerprint and whether it is an admin."""

    owner: str
    admin: bool = False

    def may_see(self, owner: str | None) -> bool:
        return self.admin or owner == self.owner


def _matches(presented: bytes, tokens: list[str]) -> str | None:
    """The configured token equal to ``presented``; every token is compared (constant-time), so the
    time taken says nothing about which one matched."""
    found: str | None = None
    for token in tokens:
        if hmac.compare_digest(presented, token.encode()):
            found = token
    return found


def authenticate(header: str | None, tokens: list[str], admin_tokens: list[str]) -> Caller:
    """The caller named by an ``Authorization`` header, or ``UnauthorizedError``.

    The scheme is case-insensitive and surrounding spaces are ignored (RFC 9110 §11.1), so ``BEARER  t``
    and ``Bearer t`` are the same caller, with the same fingerprint, rate bucket and enrollments.
    """
    if not tokens and not admin_tokens:
        return Caller(OPEN_OWNER)
    scheme, _, rest = (header or "").strip().partition(" ")
    presented = rest.strip()
    if scheme.lower() != "bearer" or not presented:
        raise UnauthorizedError("missing bearer token")
    raw = presented.encode("utf-8", "surrogateescape")
    admin = _matches(raw, admin_tokens)
    token = _matches(raw, tokens)
    if admin is not None:
        return Caller(fingerprint(admin), admin=True)
    if token is not None:
        return Caller(fingerprint(token))
    raise UnauthorizedError("invalid bearer token")
