"""The clients' sans-I/O core: every API call described once, answers parsed, errors rebuilt, enroll planned.

``AsyncBridgeClient`` and ``BridgeClient`` only perform the I/O this module describes, so the two can
never drift apart: a ``Call`` is a method, a path, a body and a parser for the answer. The whole
enrollment flow, built from these calls, is planned in ``flow``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar, get_args
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from bridge.client._sse import ServerSentEvent
from bridge.errors import BridgeError, error_for_code
from bridge.models import (
    CallPage,
    Channel,
    CodeSource,
    EngineChoice,
    Enrollment,
    EnrollmentList,
    EnrollmentState,
    Event,
    Health,
    ScreenList,
    ScreenSnapshot,
)
from bridge.target import EnrollmentTarget

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

TERMINAL_STATES = frozenset(s for s in EnrollmentState if s.terminal)
_EVENT_TYPES = frozenset(get_args(Event.model_fields["type"].annotation))


class BridgeConnectionError(BridgeError):
    """The bridge could not be reached or did not answer in time: no HTTP answer was received."""

    code = "connection_error"
    status = 0  # no HTTP status: the request never got an answer


# --- requests ---


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    json: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)


def _model(cls: type[M]) -> Callable[[httpx.Response], M]:
    return lambda response: cls.model_validate_json(response.content)


def enrollment_path(enrollment_id: str, *rest: str) -> str:
    # Quoted whole, so an id can never reach another route however it is spelled.
    return "/".join(["/v1/enrollments", quote(enrollment_id, safe=""), *rest])


def health_call() -> Call[Health]:
    return Call("GET", "/healthz", _model(Health))


def start_call(
    target: EnrollmentTarget,
    phone_number: str | None,
    channel: Channel,
    code_source: CodeSource | None,
    record_screens: bool = False,
    engine: EngineChoice | None = None,
) -> Call[Enrollment]:
    body: dict[str, Any] = {"channel": channel}
    # Optional fields go out only when given, so the body stays valid for servers that predate them.
    optional = {
        "ticket_url": target.ticket_url,
        "user_id": target.user_id,
        "phone_number": phone_number,
        "code_source": code_source,
        "engine": engine,
    }
    body.update({name: value for name, value in optional.items() if value is not None})
    if record_screens:
        body["record_screens"] = True
    return Call("POST", "/v1/enrollments", _model(Enrollment), json=body)


def phone_call(enrollment_id: str, phone_number: str, channel: Channel | None) -> Call[Enrollment]:
    body: dict[str, Any] = {"phone_number": phone_number}
    if channel is not None:
        body["channel"] = channel
    return Call("POST", enrollment_path(enrollment_id, "phone"), _model(Enrollment), json=body)


def code_call(enrollment_id: str, code: str) -> Call[Enrollment]:
    return Call("POST", enrollment_path(enrollment_id, "code"), _model(Enrollment), json={"code": code})


def resend_call(enrollment_id: str) -> Call[Enrollment]:
    return Call("POST", enrollment_path(enrollment_id, "resend"), _model(Enrollment))


def get_call(enrollment_id: str) -> Call[Enrollment]:
    return Call("GET", enrollment_path(enrollment_id), _model(Enrollment))


def list_call() -> Call[list[Enrollment]]:
    return Call("GET", "/v1/enrollments", lambda r: EnrollmentList.model_validate_json(r.content).enrollments)


def cancel_call(enrollment_id: str) -> Call[None]:
    return Call("DELETE", enrollment_path(enrollment_id), lambda _: None)


def calls_call(enrollment_id: str, after: int, limit: int) -> Call[CallPage]:
    params = {"after": after, "limit": limit}
    return Call("GET", enrollment_path(enrollment_id, "calls"), _model(CallPage), params=params)


def screenshot_call(enrollment_id: str) -> Call[bytes]:
    return Call("GET", enrollment_path(enrollment_id, "screenshot"), lambda r: r.content)


def screens_call(enrollment_id: str) -> Call[list[ScreenSnapshot]]:
    return Call(
        "GET",
        enrollment_path(enrollment_id, "screens"),
        lambda r: ScreenList.model_validate_json(r.content).screens,
    )


def screen_screenshot_call(enrollment_id: str, index: int) -> Call[bytes]:
    path = enrollment_path(enrollment_id, "screens", str(index), "screenshot")
    return Call("GET", path, lambda r: r.content)


def auth_headers(token: str | None) -> dict[str, str]:
    if token is None:
        return {}
    if not token or any(c.isspace() or not c.isprintable() for c in token):
        # Refused here so httpx never quotes a malformed header, and with it the token, in an error.
        raise ValueError("token must be non-empty printable text without whitespace")
    return {"Authorization": f"Bearer {token}"}


class ClientBase:
    """What both clients share besides I/O: the base URL and a repr that hides the token.

    The token itself is kept only in the httpx client's headers, never as an attribute of ours.
    """

    def __init__(self, base_url: str, token: str | None) -> None:
        self.base_url = base_url
        self._has_token = token is not None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, token={'***' if self._has_token else None})"
        )


# --- answers ---


def parse(call: Call[T], response: httpx.Response) -> T:
    if not response.is_success:
        raise error_from(response)
    try:
        return call.parse(response)
    except ValueError:  # pydantic's ValidationError included
        # Not chained: pydantic's message quotes the input, which may hold a recovery code.
        raise BridgeError(
            f"the bridge answered HTTP {response.status_code} with a body this client does not understand"
        ) from None


def error_from(response: httpx.Response) -> BridgeError:
    """The exception for a non-2xx answer: the server's own class when the body has the bridge's shape."""
    status = response.status_code
    try:
        payload = response.json()
    except ValueError:
        payload = None
    error = payload.get("error") if isinstance(payload, dict) else None
    if not (isinstance(error, dict) and isinstance(error.get("code"), str)):
        exc = BridgeError(f"the bridge answered HTTP {status} {response.reason_phrase} without an error body")
        exc.status = status
        return exc
    code: str = error["code"]
    message = error.get("message")
    enrollment_id = error.get("enrollment_id")
    exc = error_for_code(code)(
        message if isinstance(message, str) else "",
        enrollment_id=enrollment_id if isinstance(enrollment_id, str) else None,
        retry_after=_retry_after(response),
    )
    # A code this client does not know falls back to the root class; keep the server's word for it.
    exc.code, exc.status = code, status
    return exc


def _retry_after(response: httpx.Response) -> int | None:
    # The bridge sends delay-seconds; the HTTP-date form (RFC 9110 section 10.2.3) is not among its answers.
    value = response.headers.get("Retry-After", "").strip()
    return int(value) if value.isdigit() else None


@contextmanager
def translate_transport_errors() -> Iterator[None]:
    """httpx's transport failures, translated once. Messages name the failure's type only."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise BridgeConnectionError(f"the bridge did not answer in time ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise BridgeConnectionError(f"could not reach the bridge ({type(exc).__name__})") from exc


def event_from(message: ServerSentEvent) -> Event | None:
    """A stream entry as an ``Event``; None for entry types this client does not know (newer servers)."""
    if message.event not in _EVENT_TYPES:
        return None
    try:
        return Event.model_validate(
            {
                "seq": message.id,
                "type": message.event,
                # The stream carries no timestamp; the arrival time stands in for it.
                "at": datetime.now(UTC),
                "data": json.loads(message.data),
            }
        )
    except ValueError:
        raise BridgeError("the bridge sent an event this client does not understand") from None


# --- waiting ---


def settled(states: Collection[EnrollmentState]) -> Callable[[Enrollment], bool]:
    wanted = frozenset(states)
    # A finished enrollment never changes again, so waiting on for another state would be pointless.
    return lambda e: e.state in wanted or e.state.terminal


def inbox_settled(enrollment: Enrollment) -> bool:
    """Finished, or the bridge stopped trying: its inbox wait timed out or the code it submitted was refused.

    Both leave the state at awaiting_code (a resend starts over), so only the last step tells.
    """
    if enrollment.state.terminal:
        return True
    last = enrollment.steps[-1] if enrollment.steps else None
    return last is not None and last.name in ("inbox", "code") and last.outcome != "ok"


def uses_inbox(code_source: object, max_code_attempts: int) -> bool:
    """Whether the bridge's inbox supplies the codes; refuses what is neither "inbox" nor a callable."""
    if max_code_attempts < 1:
        raise ValueError("max_code_attempts must be at least 1")
    if code_source == "inbox":
        return True
    if not callable(code_source):
        raise TypeError('code_source must be "inbox" or a callable returning the code')
    return False
