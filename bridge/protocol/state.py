"""Everything a protocol enrollment needs to go on, as one small serialisable value.

A protocol enrollment holds no browser: its whole state is the tokens, cookies and URLs below, so it can
be written out (``to_json``) and read back (``from_json``) by another process. The fields are secrets:
``repr`` leaves them out, and nothing logs a ``ProtocolState``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bridge.models import Flavour

ProtocolStep = Literal["opened", "phone", "code", "done"]


class FormControl(BaseModel):
    """One control of a server-rendered form, as a browser would submit it."""

    model_config = ConfigDict(frozen=True)

    tag: Literal["input", "button", "select", "textarea"]
    name: str
    type: str = "text"
    value: str = ""
    checked: bool = False
    placeholder: str = ""
    label: str = ""
    text: str = ""  # a button's visible text


class PageForm(BaseModel):
    """The screen's form: where it posts and what it holds."""

    action: str  # absolute URL the form posts to
    method: str = "POST"
    controls: list[FormControl] = Field(default_factory=list)

    def hidden(self) -> dict[str, str]:
        return {c.name: c.value for c in self.controls if c.tag == "input" and c.type == "hidden"}

    def buttons(self) -> list[FormControl]:
        return [
            c
            for c in self.controls
            if c.tag == "button" or (c.tag == "input" and c.type in ("submit", "image"))
        ]

    def inputs(self) -> list[FormControl]:
        return [
            c
            for c in self.controls
            if c.tag in ("select", "textarea")
            or (c.tag == "input" and c.type not in ("hidden", "submit", "image", "button", "reset"))
        ]


class ProtocolState(BaseModel):
    """The state of one protocol enrollment (both flavours; each uses its own fields)."""

    model_config = ConfigDict(validate_assignment=True)

    flavour: Flavour
    ticket_url: str = Field(repr=False)
    step: ProtocolStep = "opened"
    # --- Classic: the Guardian API transaction ---
    service_url: str | None = None  # Guardian API base, e.g. https://tenant.guardian.auth0.com/
    transaction_token: str | None = Field(default=None, repr=False)
    device_account_id: str | None = Field(default=None, repr=False)
    # Issued by start-flow, handed out only once verify-otp has accepted a code.
    recovery_code: str | None = Field(default=None, repr=False)
    otp_length: int = 6
    phone_number: str | None = Field(default=None, repr=False)
    # The page's own error texts (languageDictionary.errorMessages), for the outcomes' widget_message.
    messages: dict[str, str] = Field(default_factory=dict)
    # --- Universal Login: the current screen and the session cookies ---
    page_url: str | None = Field(default=None, repr=False)
    screen: str | None = None
    form: PageForm | None = Field(default=None, repr=False)
    cookies: dict[str, str] = Field(default_factory=dict, repr=False)

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)

    @classmethod
    def from_json(cls, data: str | bytes) -> ProtocolState:
        return cls.model_validate_json(data)
