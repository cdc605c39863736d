"""Request bodies of the HTTP API. Strict: unknown fields are refused, never ignored."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bridge.models import Channel


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CreateEnrollment(_Strict):
    ticket_url: str = Field(min_length=1, max_length=4096, description="The enrollment ticket URL.")
    phone_number: str | None = Field(
        default=None, max_length=32, description="E.164; when given, the phone step runs at once."
    )
    channel: Channel = "sms"


class SubmitPhone(_Strict):
    phone_number: str = Field(min_length=1, max_length=32, description="E.164, e.g. +14155550123.")
    channel: Channel | None = None


class SubmitCode(_Strict):
    code: str = Field(min_length=1, max_length=32, description="The code the user received.")
