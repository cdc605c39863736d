"""Request bodies of the HTTP API. Strict: unknown fields are refused, never ignored."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bridge.models import Channel, CodeSource


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CreateEnrollment(_Strict):
    ticket_url: str | None = Field(
        default=None, min_length=1, max_length=4096, description="The enrollment ticket URL."
    )
    user_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=512,
        description="Instead of ticket_url: the bridge creates the ticket with BRIDGE_AUTH0_* credentials.",
    )
    phone_number: str | None = Field(
        default=None, max_length=32, description="E.164; when given, the phone step runs at once."
    )
    channel: Channel = "sms"
    code_source: CodeSource = Field(
        default="manual",
        description="'inbox': the bridge takes the code from its OTP inbox and submits it itself.",
    )

    record_screens: bool = Field(
        default=False,
        description="Record every screen reached (texts, fields, screenshot) for contract checks.",
    )

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.ticket_url is None) == (self.user_id is None):
            raise ValueError("give exactly one of ticket_url and user_id")
        return self


class SubmitPhone(_Strict):
    phone_number: str = Field(min_length=1, max_length=32, description="E.164, e.g. +14155550123.")
    channel: Channel | None = None


class SubmitCode(_Strict):
    code: str = Field(min_length=1, max_length=32, description="The code the user received.")
