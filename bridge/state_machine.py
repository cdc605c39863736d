"""An enrollment's state machine: which step may run in which state, and the state each result leads to.

One table says, per step, the states it may start from and the state it moves to when it succeeds;
``require`` refuses a step out of order and ``next_state`` applies a step's result. Everything else an
enrollment does (timing, recording, events, resources) lives in ``bridge.enrollment``.

    starting ──start ok──▶ awaiting_phone ──phone ok──▶ awaiting_code ──code ok──▶ completed
       │                        │  ▲ phone rejected        │  ▲ code rejected, resend
       └─ start not ok ─▶ failed ◀─ terminal outcome ──────┘
    any open state ──cancel──▶ cancelled;  ──idle TTL / max age──▶ expired
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.errors import EnrollmentExpiredError, StepOutOfOrderError
from bridge.models import EnrollmentState, StepName
from bridge.outcomes import Outcome, OutcomeCode

S = EnrollmentState


@dataclass(frozen=True)
class Transition:
    starts_from: frozenset[EnrollmentState]
    on_success: EnrollmentState | None  # None: a successful step keeps the state


# The steps a caller (or the OTP inbox) can run. The ``inbox`` step only records the wait for a code;
# the code it brings is submitted as a ``code`` step.
TRANSITIONS: dict[StepName, Transition] = {
    "start": Transition(frozenset({S.STARTING}), S.AWAITING_PHONE),
    "phone": Transition(frozenset({S.AWAITING_PHONE}), S.AWAITING_CODE),
    "code": Transition(frozenset({S.AWAITING_CODE}), S.COMPLETED),
    "resend": Transition(frozenset({S.AWAITING_CODE}), None),
}


def require(step: StepName, state: EnrollmentState, enrollment_id: str) -> None:
    """Refuses ``step`` in ``state``: 410 once expired, else 409 ``step_out_of_order``."""
    if state is S.EXPIRED:
        raise EnrollmentExpiredError("the enrollment expired", enrollment_id=enrollment_id)
    allowed = TRANSITIONS[step].starts_from
    if state not in allowed:
        wanted = " or ".join(sorted(s.value for s in allowed))
        raise StepOutOfOrderError(
            f"cannot run the {step} step in state {state.value} (needs {wanted})",
            enrollment_id=enrollment_id,
        )


def next_state(step: StepName, outcome: Outcome) -> EnrollmentState | None:
    """The state ``step`` leads to with ``outcome``; None when the state stays as it is.

    A timeout keeps the state (the widget may still get there; the caller decides). A page the bridge
    does not recognise, a terminal outcome and a start that did not reach phone entry all end the
    enrollment. A rejected phone or code keeps the state so the caller can try again.
    """
    if outcome.error_code is OutcomeCode.WIDGET_TIMEOUT:
        return None
    if outcome.error_code is OutcomeCode.WIDGET_UNRECOGNIZED or outcome.kind == "terminal":
        return S.FAILED
    if outcome.kind == "ok":
        return TRANSITIONS[step].on_success
    return S.FAILED if step == "start" else None


def ends_after_error(step: StepName, code: str) -> bool:
    """Whether a step that raised the bridge error ``code`` leaves nothing to go on with."""
    return step == "start" or code == OutcomeCode.BROWSER_CRASHED
