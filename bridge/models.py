"""Domain values shared by the server and the client: states, steps, outcomes and captured calls.

These are pydantic models so the HTTP API and ``bridge.client`` speak exactly the same types; nothing here
knows about FastAPI or Playwright.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["sms", "voice"]
CodeSource = Literal["manual", "inbox"]
# What drives the widget: a real browser, or the widget's own protocol over plain HTTP (docs/engines.md).
EngineName = Literal["browser", "protocol"]
EngineChoice = Literal["browser", "protocol", "auto"]


class Flavour(StrEnum):
    CLASSIC = "classic"  # the Guardian widget page, driving the Guardian JSON API from the browser
    UNIVERSAL = "universal"  # server-rendered Universal Login pages under /u/, one form POST per step


class EnrollmentState(StrEnum):
    STARTING = "starting"  # the ticket is being opened and the widget recognised
    AWAITING_PHONE = "awaiting_phone"  # the widget shows phone entry
    AWAITING_CODE = "awaiting_code"  # a code was sent; the widget shows code entry
    COMPLETED = "completed"  # code accepted and the recovery code acknowledged
    FAILED = "failed"  # a terminal widget outcome or a bridge failure; see last_error
    CANCELLED = "cancelled"  # closed by the caller
    EXPIRED = "expired"  # closed by the bridge after its idle TTL or maximum age

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = {
    EnrollmentState.COMPLETED,
    EnrollmentState.FAILED,
    EnrollmentState.CANCELLED,
    EnrollmentState.EXPIRED,
}

# ``inbox`` records the wait for a code from the OTP inbox; the code itself then runs as a ``code`` step.
StepName = Literal["start", "phone", "code", "resend", "inbox"]
StepOutcome = Literal["ok", "rejected", "failed", "timeout"]


class LastError(BaseModel):
    code: str
    message: str
    widget_message: str | None = None


class Step(BaseModel):
    name: StepName
    outcome: StepOutcome
    started_at: datetime
    duration_ms: float
    # Time spent waiting for the widget (page loads, API answers); the rest is the bridge's own work.
    widget_ms: float = 0.0
    widget_message: str | None = None
    error_code: str | None = None


class CapturedCall(BaseModel):
    """One call the widget made: a Guardian API request or a Universal Login form POST."""

    seq: int
    kind: Literal["api", "form", "navigation", "blocked"]
    method: str
    url: str
    path: str
    endpoint: str
    status: int | None = None
    started_at: datetime
    duration_ms: float | None = None
    auth_scheme: str | None = None
    request_headers: dict[str, str] = Field(default_factory=dict)
    request_body: Any = None
    response_headers: dict[str, str] = Field(default_factory=dict)
    response_body: Any = None
    redirect_to: str | None = None
    failure: str | None = None
    redacted: bool = True


class ScreenField(BaseModel):
    name: str
    type: str


class ScreenSnapshot(BaseModel):
    """What one screen of the widget offered a person (recorded only when asked for)."""

    name: str  # the bridge's name for it: phone, code, recovery, result, chooser, country, unknown...
    path: str
    headings: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)
    buttons: list[str] = Field(default_factory=list)
    links: list[str] = Field(default_factory=list)
    placeholders: list[str] = Field(default_factory=list)
    alerts: list[str] = Field(default_factory=list)
    texts: list[str] = Field(default_factory=list)
    fields: list[ScreenField] = Field(default_factory=list)


class ScreenList(BaseModel):
    screens: list[ScreenSnapshot]


class Enrollment(BaseModel):
    """What the API returns for an enrollment."""

    model_config = ConfigDict(use_enum_values=False)

    id: str
    state: EnrollmentState
    flavour: Flavour | None = None
    phone_number: str | None = None
    channel: Channel = "sms"
    code_source: CodeSource = "manual"
    engine: EngineName = "browser"
    # Why ``auto`` picked this engine; None when the engine was asked for by name.
    engine_reason: str | None = None
    recovery_code: str | None = None
    last_error: LastError | None = None
    code_attempts: int = 0
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    steps: list[Step] = Field(default_factory=list)
    calls: int = 0


class EnrollmentList(BaseModel):
    enrollments: list[Enrollment]


class CallPage(BaseModel):
    calls: list[CapturedCall]
    next_after: int


class Event(BaseModel):
    """One entry of an enrollment's live event stream."""

    seq: int
    type: Literal["state", "step"]
    at: datetime
    data: dict[str, Any]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    browser_connected: bool
    sessions_in_use: int
    session_limit: int
    version: str
