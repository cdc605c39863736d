"""Phone numbers: parse E.164 input into what a widget's country selector and phone field need."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import phonenumbers

from bridge.errors import InvalidRequestError

# ASCII digits only: ``\d`` would also take Arabic-Indic, Devanagari or fullwidth digits, which the
# widget would receive as something other than what was meant.
_E164 = re.compile(r"^\+[1-9][0-9]{4,14}$")


@dataclass(frozen=True)
class PhoneNumber:
    e164: str
    region: str  # ISO 3166 alpha-2, e.g. "GB"
    country_code: int  # e.g. 44
    national: str  # national significant number, digits only, e.g. "7911123456"

    @property
    def regions(self) -> list[str]:
        """Countries a selector may list this number under: its own region first, then the main one
        for its calling code (``+44 7911...`` is Guernsey to libphonenumber, but most pickers only
        offer the United Kingdom for +44)."""
        main = phonenumbers.region_code_for_country_code(self.country_code)
        return [self.region] + ([main] if main not in ("ZZ", self.region) else [])

    @cached_property
    def masked(self) -> str:
        # Cached: every view of the enrollment shows it, and ``mask`` parses the number (~90 us).
        return mask(self.e164)


def mask(e164: str) -> str:
    """``+1******0123``: the country code and the last four digits, the rest starred."""
    try:
        cc = str(phonenumbers.parse(e164, None).country_code)
    except phonenumbers.NumberParseException:
        cc = e164[1:2]
    digits = e164[1 + len(cc) :]
    return "+" + cc + "*" * max(len(digits) - 4, 0) + digits[-4:]


def parse_e164(raw: str) -> PhoneNumber:
    """Parses a caller's E.164 number. Syntax is checked here; whether the number is real is the
    widget's call (a number it rejects is an outcome, not a request error)."""
    if not raw.isascii():
        raise InvalidRequestError("phone_number must be in E.164 form with ASCII digits, e.g. +14155550123")
    compact = re.sub(r"[ \t\-().]", "", raw)
    if not _E164.match(compact):
        raise InvalidRequestError("phone_number must be in E.164 form, e.g. +14155550123")
    try:
        parsed = phonenumbers.parse(compact, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidRequestError("phone_number has no known country code") from exc
    country_code = parsed.country_code or 0
    region = phonenumbers.region_code_for_number(parsed)
    if not region or region == "ZZ":
        region = phonenumbers.region_code_for_country_code(country_code)
    if not region or region == "ZZ":
        raise InvalidRequestError("phone_number has no known country code")
    return PhoneNumber(
        e164=compact,
        region=region,
        country_code=country_code,
        national=phonenumbers.national_significant_number(parsed),
    )
