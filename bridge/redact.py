"""Redaction of secrets and personal data in captured traffic.

What counts as secret: the ticket, bearer and transaction tokens, one-time codes, recovery codes, OTP
secrets, Universal Login ``state`` handles, cookies and signatures; phone numbers keep their country code
and last four digits. Redaction works twice over: by key name (structure the widget is known to use) and
by value (every secret this enrollment has seen, wherever it turns up), so a renamed key still leaks
nothing the bridge knows about.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bridge.phone import mask

REDACTED = "[redacted]"

_SECRET_KEYS = {
    "access_token",
    "captcha",
    "code",
    "id_token",
    "otp",
    "otp_code",
    "otpcode",
    "otp_secret",
    "password",
    "recovery_code",
    "refresh_token",
    "secret",
    "signature",
    "state",
    "text_code",
    "ticket",
    "ticket_id",
    "token",
}
_SECRET_SUFFIXES = ("_token", "_secret", "_code_value")
_PHONE_KEYS = {"phone", "phone_number", "phonenumber", "recipient", "number"}
_SECRET_HEADERS = {"cookie", "set-cookie", "x-signature"}
_JWT = re.compile(r"eyJ[\w-]{6,}\.[\w-]{6,}\.[\w-]*")
# A recovery code: 24 capital letters and digits (auth0-guardian.js RECOVERY_CODE_LENGTH), which a page may
# show in six groups of four separated by spaces or hyphens. The one pattern for it in the bridge.
RECOVERY_CODE = re.compile(r"\b(?:[A-Z0-9]{24}|(?:[A-Z0-9]{4}[ -]){5}[A-Z0-9]{4})\b")


def is_secret_key(key: str) -> bool:
    k = key.lower()
    return k in _SECRET_KEYS or k.endswith(_SECRET_SUFFIXES)


def _mask_phone_value(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if len(digits) < 6:
        return REDACTED
    return mask("+" + digits)


class Redactor:
    """Redacts one enrollment's captured data; learns that enrollment's secrets as they appear."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._secrets: set[str] = set()
        self._phones: dict[str, str] = {}

    def add_secret(self, value: str | None) -> None:
        if value and len(value) >= 4:
            self._secrets.add(value)

    def add_phone(self, e164: str, national: str) -> None:
        masked = mask(e164)
        for form in (e164, e164.lstrip("+"), national):
            if len(form) >= 6:
                self._phones[form] = masked

    def text(self, value: str) -> str:
        """Scrubs known secrets and anything shaped like a JWT out of free text."""
        if not self.enabled:
            return value
        out = _JWT.sub(REDACTED, value)
        for secret in sorted(self._secrets, key=len, reverse=True):
            out = out.replace(secret, REDACTED)
        for phone in sorted(self._phones, key=len, reverse=True):
            out = out.replace(phone, self._phones[phone])
        return out

    def value(self, data: Any, key: str | None = None) -> Any:
        """Redacts a decoded JSON or form value, keeping its type's shape (strings stay strings)."""
        if not self.enabled:
            return data
        if isinstance(data, dict):
            return {k: self.value(v, str(k)) for k, v in data.items()}
        if isinstance(data, list):
            return [self.value(v, key) for v in data]
        if isinstance(data, str):
            if key is not None and is_secret_key(key):
                return REDACTED
            if key is not None and key.lower() in _PHONE_KEYS:
                return self._mask_phone(data)
            return self.text(data)
        return data

    def _mask_phone(self, value: str) -> str:
        """``_mask_phone_value``, reusing this enrollment's own number's mask when it is that number
        (its E.164 form is the only key here that starts with ``+``), as it is in every request that
        carries it: masking parses the number, which cost more than the rest of the capture."""
        digits = re.sub(r"\D", "", value)
        known = self._phones.get("+" + digits) if len(digits) >= 6 else None
        return known if known is not None else _mask_phone_value(value)

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in headers.items():
            lower = name.lower()
            if not self.enabled:
                out[lower] = value
            elif lower == "authorization":
                scheme = value.split(" ", 1)[0] if value else ""
                out[lower] = f"{scheme} {REDACTED}".strip()
            elif lower == "location":
                out[lower] = self.url(value)  # a redirect carries the same handles as any URL
            elif lower in _SECRET_HEADERS:
                out[lower] = REDACTED
            else:
                out[lower] = self.text(value)
        return out

    def url(self, url: str) -> str:
        if not self.enabled:
            return url
        parts = urlsplit(url)
        query = [(k, REDACTED if is_secret_key(k) else self.text(v)) for k, v in parse_qsl(parts.query)]
        return urlunsplit(
            (parts.scheme, parts.netloc, self.text(parts.path), urlencode(query, safe="[]"), "")
        )
