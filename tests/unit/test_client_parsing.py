"""The clients' sans-I/O core on answers built by hand: parsing, error rebuilding, Retry-After, events.

No server is needed: ``httpx.Response`` objects stand for what a bridge (or something in front of it)
might answer, including what a bridge never sends.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from bridge.client._core import (
    error_from,
    event_from,
    get_call,
    parse,
    screenshot_call,
)
from bridge.client._sse import ServerSentEvent
from bridge.errors import BridgeError, EnrollmentNotFoundError, RateLimitedError, SessionLimitError

NOW = "2026-01-01T00:00:00Z"
ENROLLMENT: dict[str, Any] = {
    "id": "enr_1",
    "state": "awaiting_code",
    "created_at": NOW,
    "updated_at": NOW,
    "expires_at": NOW,
    "recovery_code": "ABCDEFGHJKLMNPQRSTUVWXYZ",
}


def _error(status: int, code: str, headers: dict[str, str] | None = None, **extra: Any) -> httpx.Response:
    body = {"error": {"code": code, "message": "fixed text", "enrollment_id": None, **extra}}
    return httpx.Response(status, json=body, headers=headers)


def test_a_success_is_parsed_into_the_servers_model() -> None:
    enrollment = parse(get_call("enr_1"), httpx.Response(200, json=ENROLLMENT))
    assert (enrollment.id, enrollment.state.value) == ("enr_1", "awaiting_code")


def test_bytes_answers_come_back_as_they_are() -> None:
    assert parse(screenshot_call("enr_1"), httpx.Response(200, content=b"\x89PNG")) == b"\x89PNG"


def test_a_body_the_client_does_not_understand_never_quotes_it() -> None:
    broken = {**ENROLLMENT, "state": "somewhere_new"}
    with pytest.raises(BridgeError) as info:
        parse(get_call("enr_1"), httpx.Response(200, json=broken))
    assert "does not understand" in info.value.message
    assert ENROLLMENT["recovery_code"] not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_an_error_answer_raises_the_servers_class_with_its_fields() -> None:
    response = _error(404, "enrollment_not_found", enrollment_id="enr_9")
    with pytest.raises(EnrollmentNotFoundError) as info:
        parse(get_call("enr_9"), response)
    assert (info.value.code, info.value.status, info.value.enrollment_id) == (
        "enrollment_not_found",
        404,
        "enr_9",
    )
    assert info.value.message == "fixed text"


@pytest.mark.parametrize(
    ("header", "expected"),
    [("7", 7), (" 12 ", 12), ("Wed, 21 Oct 2026 07:28:00 GMT", None), ("-1", None), ("", None)],
)
def test_retry_after_is_taken_in_seconds_only(header: str, expected: int | None) -> None:
    error = error_from(_error(429, "session_limit", headers={"Retry-After": header}))
    assert isinstance(error, SessionLimitError)
    assert error.retry_after == expected


def test_without_retry_after_there_is_none() -> None:
    error = error_from(_error(429, "rate_limited"))
    assert isinstance(error, RateLimitedError)
    assert error.retry_after is None


def test_an_unknown_code_keeps_the_servers_code_and_status() -> None:
    error = error_from(_error(418, "teapot_overflow"))
    assert type(error) is BridgeError
    assert (error.code, error.status, error.message) == ("teapot_overflow", 418, "fixed text")


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(502, text="<html>Bad Gateway</html>"),
        httpx.Response(500, json={"detail": "not our shape"}),
        httpx.Response(500, json={"error": {"code": 5}}),
        httpx.Response(503, json=["error"]),
    ],
)
def test_an_answer_without_the_bridges_error_body_is_a_plain_bridge_error(response: httpx.Response) -> None:
    error = error_from(response)
    assert type(error) is BridgeError
    assert error.status == response.status_code
    assert "without an error body" in error.message


def test_odd_field_types_in_an_error_body_are_dropped() -> None:
    response = httpx.Response(
        404, json={"error": {"code": "enrollment_not_found", "message": 3, "enrollment_id": 4}}
    )
    error = error_from(response)
    assert isinstance(error, EnrollmentNotFoundError)
    # The class's own default text stands in for a message that is not text.
    assert (error.message, error.enrollment_id) == (EnrollmentNotFoundError("").message, None)


def test_a_known_event_becomes_an_event() -> None:
    message = ServerSentEvent(event="state", data=json.dumps({"state": "awaiting_code"}), id="3")
    event = event_from(message)
    assert event is not None
    assert (event.seq, event.type, event.data) == (3, "state", {"state": "awaiting_code"})


def test_an_event_type_from_a_newer_server_is_skipped() -> None:
    assert event_from(ServerSentEvent(event="something_new", data="{}", id="1")) is None


def test_an_event_with_a_broken_body_is_an_error_without_the_body() -> None:
    with pytest.raises(BridgeError) as info:
        event_from(ServerSentEvent(event="state", data="{not json", id="1"))
    assert "{not json" not in str(info.value)
