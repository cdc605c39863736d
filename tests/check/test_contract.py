"""Building a contract from hand-made data: path templates, JSON shapes, stages, screens, scrubbing."""

from __future__ import annotations

import json

import pytest

from bridge.check.contract import Contract, ErrorProbe, build_contract
from bridge.check.shapes import json_shape, path_template, shape_paths, url_template
from bridge.models import CapturedCall
from tests.check.factories import CODE, PHONE, at, contract, recording, step


@pytest.mark.parametrize(
    ("path", "template"),
    [
        (
            "/guardian/api/device-accounts/dev_80b177660625bfdb/sms-enroll",
            "/guardian/api/device-accounts/{device_account_id}/sms-enroll",
        ),
        ("/guardian/api/verify-otp", "/guardian/api/verify-otp"),
        ("/u/mfa-sms-enrollment-verify", "/u/mfa-sms-enrollment-verify"),
        ("/x/tx_85cb18c16c2dd36fdb43/y/etx_1d13bf289938b9c2", "/x/{transaction_id}/y/{enrollment_tx_id}"),
        ("/v1/enrollments/enr_0123456789abcdef0123", "/v1/enrollments/{enrollment_id}"),
        ("/t/gten_7ff1e8b949a83bb7fe5b0e27", "/t/{ticket_id}"),
        ("/api/v2/users/auth0%7C5f8a9b2c3d4e5f6a7b8c9d0e/enrollments", "/api/v2/users/{id}/enrollments"),
        ("/x/550e8400-e29b-41d4-a716-446655440000", "/x/{id}"),
        ("/x/[redacted]", "/x/{id}"),
    ],
)
def test_path_templates_replace_ids_only(path: str, template: str) -> None:
    assert path_template(path) == template


def test_url_template_keeps_parameter_names_not_values() -> None:
    assert (
        url_template("/u/mfa-sms-enrollment?state=8cWJwynZZI1Bl&a=1")
        == "/u/mfa-sms-enrollment?a={a}&state={state}"
    )


def test_json_shape_keeps_keys_and_types_never_values() -> None:
    body = {"b": [1, 2, 3], "a": {"on": True, "n": 1.5, "x": None}, "s": "[redacted]", "e": [], "m": [1, "x"]}
    shape = json_shape(body)
    assert shape == {
        "a": {"n": "number", "on": "boolean", "x": "null"},
        "b": ["integer"],
        "e": [],
        "m": ["integer", "string"],
        "s": "string",
    }
    assert list(shape) == sorted(shape)
    assert shape_paths(shape) == {
        "a": "object",
        "a.n": "number",
        "a.on": "boolean",
        "a.x": "null",
        "b": "array",
        "b[]": "integer",
        "e": "array",
        "m": "array",
        "m[]": "integer|string",
        "s": "string",
    }
    assert shape_paths(None) == {}


def test_stages_are_named_for_their_part_in_the_script() -> None:
    built = contract()
    assert built.outcome.steps == [
        "start -> ok",
        "invalid phone -> rejected (invalid_phone_number)",
        "phone -> ok",
        "wrong code -> rejected (invalid_otp)",
        "code -> ok",
    ]
    assert [c.stage for c in built.calls] == ["start", "invalid phone", "phone", "wrong code", "code", "code"]
    assert list(built.timings) == ["start", "invalid phone", "phone", "wrong code", "code", "total"]


def test_with_the_inbox_the_only_code_step_is_the_real_one_and_its_wait_is_dropped() -> None:
    base = recording()
    steps = [*base.enrollment.steps[:3], step("inbox", 2.5), base.enrollment.steps[4]]
    enrollment = base.enrollment.model_copy(update={"steps": steps})
    skipped = ErrorProbe(outcome="skipped", note="inbox")
    built = contract(enrollment=enrollment, wrong_code=skipped, code_source="inbox")
    assert [line.split(" -> ")[0] for line in built.outcome.steps] == [
        "start",
        "invalid phone",
        "phone",
        "code",
    ]
    assert built.errors.wrong_code == skipped


def test_a_screen_shown_again_right_after_is_kept_once_as_first_seen() -> None:
    built = contract()
    assert [s.name for s in built.screens] == ["phone", "code", "congrats"]
    assert built.screens[0].alerts == []


def test_back_to_back_identical_calls_are_kept_once_and_blocked_calls_dropped() -> None:
    base = recording()
    blocked = CapturedCall.model_validate(
        {"seq": 8, "kind": "blocked", "method": "GET", "url": "https://evil.example/x", "path": "/x",
         "endpoint": "blocked:script", "started_at": at(4.4)}
    )  # fmt: skip
    built = build_contract(recording(calls=[*base.calls, blocked]))
    assert [c.path.rsplit("/", 1)[-1] for c in built.calls].count("transaction-state") == 1
    assert all(c.kind != "blocked" for c in built.calls)


def test_call_records_template_status_auth_and_shapes() -> None:
    start_flow = contract().calls[0]
    assert start_flow.model_dump() == {
        "stage": "start",
        "kind": "api",
        "method": "POST",
        "path": "/guardian/api/start-flow",
        "status": 201,
        "auth": "Ticket",
        "request_type": "application/json",
        "request": {"state_transport": "string"},
        "response_type": "application/json",
        "response": {"device_account": {"id": "string", "n": "integer"}, "transaction_token": "string"},
        "redirect_to": None,
    }


def test_values_the_run_used_never_reach_the_contract() -> None:
    base = recording()
    leaky = base.screens[2].model_copy(update={"texts": [f"Code {CODE} for 14155550123 / {PHONE}"]})
    built = build_contract(recording(screens=[*base.screens[:2], leaky, *base.screens[3:]]))
    text = built.to_json()
    for value in (PHONE, "14155550123", "4155550123", CODE):
        assert value not in text


def test_json_is_sorted_stable_and_round_trips() -> None:
    built = contract()
    text = built.to_json()
    assert text == contract().to_json()
    assert text.endswith("}\n")
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert Contract.from_json(text) == built
