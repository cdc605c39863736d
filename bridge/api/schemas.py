"""Request bodies of the HTTP API. Strict: unknown fields are refused, never ignored."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bridge.models import Channel, CodeSource, EngineChoice
from bridge.target import EnrollmentTarget


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CreateEnrollment(_Strict, EnrollmentTarget):  # ticket_url | user_id: the rule lives there
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
    engine: EngineChoice | None = Field(
        default=None,
        description="browser, protocol (the widget's protocol over plain HTTP) or auto; "
        "default BRIDGE_DEFAULT_ENGINE.",
    )
    guardian_url: str | None = Field(
        default=None,
        max_length=2048,
        description="Classic on the protocol engine: the Guardian API base, when the page does not say.",
    )
    ticket_user_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=512,
        description="With ticket_url: the Auth0 user the ticket was made for. OTP inbox messages naming "
        "another user never reach this enrollment (with user_id the bridge knows the user already).",
    )


class SubmitPhone(_Strict):
    phone_number: str = Field(min_length=1, max_length=32, description="E.164, e.g. +14155550123.")
    channel: Channel | None = None


class SubmitCode(_Strict):
    code: str = Field(min_length=1, max_length=32, description="The code the user received (ASCII).")

    @field_validator("code")
    @classmethod
    def _ascii(cls, value: str) -> str:
        # Other scripts' digits (Arabic-Indic, fullwidth...) would reach the widget as something else
        # than what was meant; the message does not quote the code.
        if not value.isascii() or not value.isprintable():
            raise ValueError("the code must be ASCII digits")
        return value
