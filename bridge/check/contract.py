"""The widget's contract: what one scripted enrollment met, reduced to what a change in the widget touches.

A ``Contract`` holds the screens reached (texts, fields, actions), every widget call as a path template
with its status, auth scheme and JSON shapes, the error behaviour of two probes (an invalid phone, a wrong
code), the final outcome, and step timings. It is built from a ``Recording`` (what the runner collected
from the bridge) and holds no secret or personal data: bodies become shapes, ids become placeholders,
and every value the run used (phone, codes, ticket) is scrubbed from any text as a last guard.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from bridge.check.shapes import json_shape, media_type, path_template, url_template
from bridge.models import CapturedCall, Enrollment, ScreenSnapshot, Step
from bridge.phone import parse_e164
from bridge.redact import REDACTED
from bridge.widgets.snapshot import scrub

CONTRACT_FORMAT = 1
# The categories of screen text, in the order a report lists them.
TEXT_KINDS = ("headings", "labels", "buttons", "links", "placeholders", "texts", "alerts")

ProbeOutcome = Literal["rejected", "accepted", "not_reached", "skipped"]


class ContractScreen(ScreenSnapshot):
    """A screen as the contract keeps it: exactly what the bridge recorded of it."""


class ContractCall(BaseModel):
    """One widget call: a Guardian API request, a Universal Login form POST or a page load."""

    stage: str  # the step of the script it happened in: start, invalid phone, phone, wrong code, code
    kind: str
    method: str
    path: str
    status: int | None = None
    auth: str | None = None
    request_type: str | None = None
    request: Any = None
    response_type: str | None = None
    response: Any = None
    redirect_to: str | None = None

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


class ErrorProbe(BaseModel):
    """How the widget answered a deliberately bad input."""

    outcome: ProbeOutcome
    error_code: str | None = None  # the bridge's reading of the widget's error
    widget_message: str | None = None
    note: str | None = None


class ErrorBehaviour(BaseModel):
    invalid_phone: ErrorProbe | None = None
    wrong_code: ErrorProbe | None = None


class ContractOutcome(BaseModel):
    state: str
    error_code: str | None = None
    steps: list[str] = Field(default_factory=list)


class Contract(BaseModel):
    format: int = CONTRACT_FORMAT
    flavour: str | None = None
    code_source: str
    outcome: ContractOutcome
    screens: list[ContractScreen] = Field(default_factory=list)
    calls: list[ContractCall] = Field(default_factory=list)
    errors: ErrorBehaviour = Field(default_factory=ErrorBehaviour)
    # Milliseconds per stage: kept for reading, never compared strictly (see diff.py).
    timings: dict[str, float] = Field(default_factory=dict)

    def to_json(self) -> str:
        """Stable, sorted, diff-friendly JSON (two-space indent, trailing newline)."""
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Contract:
        return cls.model_validate_json(text)


@dataclass
class Recording:
    """What the runner collected from the bridge for one scripted enrollment."""

    enrollment: Enrollment
    calls: list[CapturedCall]
    screens: list[ScreenSnapshot]
    code_source: str
    invalid_phone: ErrorProbe | None = None
    wrong_code: ErrorProbe | None = None
    # Values the run used (phone, codes, ticket id, recovery code): scrubbed from the contract.
    secrets: list[str] = field(default_factory=list)
    screenshots: list[bytes] = field(default_factory=list)


def build_contract(recording: Recording) -> Contract:
    enrollment = recording.enrollment
    steps = [s for s in enrollment.steps if s.name != "inbox"]  # the bridge's own wait, not the widget's
    probed = recording.wrong_code is not None and recording.wrong_code.outcome != "skipped"
    stages = _stage_names(steps, probed_code=probed)
    contract = Contract(
        flavour=enrollment.flavour.value if enrollment.flavour else None,
        code_source=recording.code_source,
        outcome=ContractOutcome(
            state=enrollment.state.value,
            error_code=enrollment.last_error.code if enrollment.last_error else None,
            steps=[_step_line(stage, step) for stage, step in zip(stages, steps, strict=True)],
        ),
        screens=_screens(recording.screens),
        calls=_calls(recording.calls, steps, stages),
        errors=ErrorBehaviour(invalid_phone=recording.invalid_phone, wrong_code=recording.wrong_code),
        timings=_timings(steps, stages),
    )
    return _scrubbed(contract, recording.secrets)


def _stage_names(steps: list[Step], probed_code: bool) -> list[str]:
    """Each step named for its part in the script, whatever its outcome, so the same step of two runs
    has the same name: ``start``, ``invalid phone``, ``phone``, ``wrong code``, ``code``."""
    roles = {"phone": ["invalid phone", "phone"], "code": ["wrong code", "code"] if probed_code else ["code"]}
    seen: dict[str, int] = {}
    names: list[str] = []
    for step in steps:
        seen[step.name] = seen.get(step.name, 0) + 1
        parts = roles.get(step.name, [step.name])
        n = seen[step.name]
        names.append(parts[n - 1] if n <= len(parts) else f"{step.name}#{n}")
    return names


def _step_line(stage: str, step: Step) -> str:
    return f"{stage} -> {step.outcome}" + (f" ({step.error_code})" if step.error_code else "")


def _stage_of(started_at: datetime, steps: list[Step], stages: list[str]) -> str:
    # The last step that began before the call did: steps run one at a time, so that step made it.
    current = stages[0] if stages else "start"
    for stage, step in zip(stages, steps, strict=True):
        if step.started_at <= started_at:
            current = stage
    return current


def _screens(snapshots: list[ScreenSnapshot]) -> list[ContractScreen]:
    """Screens in the order reached. The same screen shown again right after (the bridge records one
    after every step, and a refused input leaves the screen in place) is kept once, as first seen; what
    the refusal looked like lives in the errors section."""
    screens: list[ContractScreen] = []
    for snap in snapshots:
        if screens and (screens[-1].name, screens[-1].path) == (snap.name, path_template(snap.path)):
            continue
        values = snap.model_dump(exclude={"name", "path"})
        screens.append(ContractScreen(name=snap.name, path=path_template(snap.path), **values))
    return screens


def _calls(calls: list[CapturedCall], steps: list[Step], stages: list[str]) -> list[ContractCall]:
    """Widget calls in order; an identical call repeated back to back (a poll) is kept once."""
    out: list[ContractCall] = []
    for call in sorted(calls, key=lambda c: c.seq):
        if call.kind not in ("api", "form", "navigation"):
            continue  # blocked requests are the bridge's own guard at work, not the widget's contract
        entry = ContractCall(
            stage=_stage_of(call.started_at, steps, stages),
            kind=call.kind,
            method=call.method,
            path=path_template(call.path),
            status=call.status,
            auth=call.auth_scheme,
            # Only with a body: a browser may carry the header over to the GET that follows a redirect.
            request_type=media_type(call.request_headers.get("content-type")) if call.request_body else None,
            request=json_shape(call.request_body) if call.request_body is not None else None,
            response_type=media_type(call.response_headers.get("content-type")),
            response=json_shape(call.response_body) if call.response_body is not None else None,
            redirect_to=url_template(call.redirect_to) if call.redirect_to else None,
        )
        if not (out and out[-1] == entry):
            out.append(entry)
    return out


def _timings(steps: list[Step], stages: list[str]) -> dict[str, float]:
    timings = {stage: round(step.duration_ms) for stage, step in zip(stages, steps, strict=True)}
    if timings:
        timings["total"] = sum(timings.values())
    return {k: float(v) for k, v in timings.items()}


def _scrubbed(contract: Contract, secrets: list[str]) -> Contract:
    """The last guard: no value the run used may appear anywhere, however a page chose to show it."""
    values = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, str):
            for secret in values:
                value = value.replace(secret, REDACTED)
            return scrub(value)
        return value

    return Contract.model_validate(clean(contract.model_dump(mode="json")))


def secret_forms(phone_e164: str | None) -> list[str]:
    """The spellings of a phone number a page might show: E.164, without the plus, national digits."""
    if not phone_e164:
        return []
    phone = parse_e164(phone_e164)
    return [phone.e164, phone.e164.lstrip("+"), phone.national]
