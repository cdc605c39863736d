"""The one enrollment flow (``bridge.client.flow``), driven by hand: which calls each plan makes, in order."""

from __future__ import annotations

from typing import Any

from bridge.client.flow import AskCode, FlowPlan, PrepareCode, Probed, Send, WaitFor, enroll_flow
from bridge.models import Enrollment
from bridge.target import EnrollmentTarget

NOW = "2026-01-01T00:00:00Z"
TARGET = EnrollmentTarget.of("https://t.example/guardian/enroll?ticket=x", None)


def _enrollment(state: str) -> Enrollment:
    return Enrollment.model_validate(
        {"id": "enr_1", "state": state, "created_at": NOW, "updated_at": NOW, "expires_at": NOW}
    )


def _run(plan: FlowPlan, answers: dict[str, list[str]], code: str | None = "123456") -> list[str]:
    """Runs the flow, answering each call with the next state listed for its kind; returns what it did."""
    flow = enroll_flow(plan)
    done: list[str] = []
    result: Any = None
    while True:
        try:
            action: Any = flow.send(result)
        except StopIteration:
            return done
        result = None
        if isinstance(action, Send):
            body = action.call.json or {}
            done.append(f"{action.call.method} {action.call.path.rsplit('/', 1)[-1]} {sorted(body)}")
            result = _enrollment(answers[action.doing].pop(0))
        elif isinstance(action, WaitFor):
            done.append("wait")
            result = _enrollment("completed")
        elif isinstance(action, AskCode):
            done.append(f"ask {action.attempt}")
            result = code
        elif isinstance(action, PrepareCode):
            done.append("prepare")
        elif isinstance(action, Probed):
            done.append(f"probed {action.kind}")


def test_the_clients_enroll_sends_the_phone_with_the_start() -> None:
    plan = FlowPlan(TARGET, "+14155550123")
    answers = {"open_and_send": ["awaiting_code"], "check_code": ["completed"]}
    assert _run(plan, answers) == [
        "prepare",
        "POST enrollments ['channel', 'phone_number', 'ticket_url']",
        "ask 1",
        "POST code ['code']",
    ]


def test_the_command_line_sends_the_phone_as_its_own_step_and_asks_again_after_a_refusal() -> None:
    plan = FlowPlan(TARGET, "+14155550123", phone_step=True, max_code_attempts=2)
    answers = {
        "open": ["awaiting_phone"],
        "send_code": ["awaiting_code"],
        "check_code": ["awaiting_code"] * 2,
    }
    assert _run(plan, answers) == [
        "POST enrollments ['channel', 'ticket_url']",
        "prepare",
        "POST phone ['phone_number']",
        "ask 1",
        "POST code ['code']",
        "ask 2",
        "POST code ['code']",
    ]


def test_no_code_ends_the_flow() -> None:
    plan = FlowPlan(TARGET, "+14155550123", phone_step=True)
    answers = {"open": ["awaiting_phone"], "send_code": ["awaiting_code"]}
    assert _run(plan, answers, code=None)[-1] == "ask 1"


def test_with_the_inbox_the_flow_waits_instead_of_asking() -> None:
    plan = FlowPlan(TARGET, "+14155550123", inbox=True, phone_step=True)
    answers = {"open_and_send": ["awaiting_code"]}
    assert _run(plan, answers) == [
        "POST enrollments ['channel', 'code_source', 'phone_number', 'ticket_url']",
        "wait",
    ]


def test_the_check_probes_a_refused_number_and_a_wrong_code_first() -> None:
    plan = FlowPlan(
        TARGET,
        "+14155550123",
        phone_step=True,
        max_code_attempts=1,
        probe_phone="+15555550100",
        probe_code=True,
    )
    answers = {
        "open": ["awaiting_phone"],
        "send_code": ["awaiting_phone", "awaiting_code"],
        "check_code": ["awaiting_code", "completed"],
    }
    assert _run(plan, answers) == [
        "POST enrollments ['channel', 'ticket_url']",
        "POST phone ['phone_number']",
        "probed phone",
        "prepare",
        "POST phone ['phone_number']",
        "ask 1",
        "POST code ['code']",
        "probed code",
        "POST code ['code']",
    ]


def test_a_failed_start_is_returned_as_it_is() -> None:
    plan = FlowPlan(TARGET, "+14155550123", phone_step=True)
    assert _run(plan, {"open": ["failed"]}) == ["POST enrollments ['channel', 'ticket_url']"]
