"""Hand-made recordings and contracts for the check's unit tests (no browser, no server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.check.contract import Contract, ErrorProbe, Recording, build_contract
from bridge.models import (
    CapturedCall,
    Enrollment,
    EnrollmentState,
    Flavour,
    ScreenField,
    ScreenSnapshot,
    Step,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)
PHONE = "+14155550123"
CODE = "482913"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def step(name: str, start: float, outcome: str = "ok", error: str | None = None, ms: float = 300) -> Step:
    return Step.model_validate(
        {
            "name": name,
            "outcome": outcome,
            "started_at": at(start),
            "duration_ms": ms,
            "error_code": error,
            "widget_message": f"message for {error}" if error else None,
        }
    )


def call(seq: int, start: float, path: str, status: int = 200, **extra: Any) -> CapturedCall:
    values: dict[str, Any] = {
        "seq": seq,
        "kind": "api",
        "method": "POST",
        "url": f"https://tenant.example{path}",
        "path": path,
        "endpoint": path.rsplit("/", 1)[-1],
        "status": status,
        "started_at": at(start),
        "auth_scheme": "Bearer",
        "request_headers": {"content-type": "application/json", "authorization": "Bearer [redacted]"},
        "response_headers": {"content-type": "application/json; charset=utf-8"},
        **extra,
    }
    return CapturedCall.model_validate(values)


def screen(name: str, **extra: Any) -> ScreenSnapshot:
    values: dict[str, Any] = {"name": name, "path": "/guardian/enroll", **extra}
    return ScreenSnapshot.model_validate(values)


PHONE_SCREEN = screen(
    "phone",
    labels=["A code will be sent to this number:"],
    buttons=["Continue"],
    placeholders=["Your phone number"],
    texts=["Please enter your phone in order to enroll."],
    fields=[ScreenField(name="phoneNumber", type="tel")],
)
CODE_SCREEN = screen(
    "code",
    buttons=["Resend", "Continue"],
    placeholders=["Enter the 6-digit code"],
    texts=[f"We've sent an sms to: {PHONE}"],
    fields=[ScreenField(name="otpCode", type="text")],
)
DONE_SCREEN = screen("congrats", buttons=["Continue"], texts=["Congratulations, you are all set."])


def recording(**overrides: Any) -> Recording:
    """A classic run of the whole script: start, invalid phone, phone, wrong code, code."""
    steps = [
        step("start", 0),
        step("phone", 1, "rejected", "invalid_phone_number"),
        step("phone", 2),
        step("code", 3, "rejected", "invalid_otp"),
        step("code", 4),
    ]
    enrollment = Enrollment.model_validate(
        {
            "id": "enr_0123456789abcdef0123",
            "state": EnrollmentState.COMPLETED,
            "flavour": Flavour.CLASSIC,
            "created_at": T0,
            "updated_at": T0,
            "expires_at": T0,
            "steps": steps,
        }
    )
    device = "/guardian/api/device-accounts/dev_80b177660625bfdb"
    calls = [
        call(1, 0.1, "/guardian/api/start-flow", 201, auth_scheme="Ticket",
             request_body={"state_transport": "polling"},
             response_body={"transaction_token": "[redacted]", "device_account": {"id": "dev_80b1", "n": 1}}),
        call(2, 1.1, f"{device}/sms-enroll", 400, request_body={"phone_number": "+1******0100"},
             response_body={"errorCode": "invalid_phone_number", "statusCode": 400}),
        call(3, 2.1, f"{device}/sms-enroll", request_body={"phone_number": "+1******0123"},
             response_body={"phone_number": "+1******0123"}),
        call(4, 3.1, "/guardian/api/verify-otp", 401, request_body={"code": "[redacted]"},
             response_body={"errorCode": "invalid_otp"}),
        call(5, 4.1, "/guardian/api/verify-otp", 204, request_body={"code": "[redacted]"},
             response_headers={}),
        call(6, 4.2, "/guardian/api/transaction-state", response_body={"state": "[redacted]"}),
        call(7, 4.3, "/guardian/api/transaction-state", response_body={"state": "[redacted]"}),
    ]  # fmt: skip
    alert = PHONE_SCREEN.model_copy(update={"alerts": ["Seems that your phone number is not valid."]})
    values: dict[str, Any] = {
        "enrollment": enrollment,
        "calls": calls,
        "screens": [PHONE_SCREEN, alert, CODE_SCREEN, CODE_SCREEN, DONE_SCREEN],
        "code_source": "outbox",
        "invalid_phone": ErrorProbe(
            outcome="rejected", error_code="invalid_phone_number", widget_message="bad"
        ),
        "wrong_code": ErrorProbe(outcome="rejected", error_code="invalid_otp", widget_message="wrong"),
        "secrets": [PHONE, CODE],
        **overrides,
    }
    return Recording(**values)


def contract(**overrides: Any) -> Contract:
    return build_contract(recording(**overrides))


def edit(base: Contract, change: dict[str, Any]) -> Contract:
    """A copy of ``base`` with ``change`` applied to its JSON form (dotted keys, list indexes as digits)."""
    data = base.model_dump(mode="json")
    for dotted, value in change.items():
        *parents, last = dotted.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value
    return Contract.model_validate(data)
