"""The bridge's one error tree. Each class owns its stable code and HTTP status.

    BridgeError                      500 internal_error
    ├── InvalidRequestError          422 invalid_request
    ├── TicketUrlRejectedError       422 ticket_url_rejected
    ├── UnauthorizedError            401 unauthorized
    │   └── InvalidSignatureError    401 invalid_signature       (OTP inbox)
    ├── MessageReplayedError         409 message_replayed        (OTP inbox)
    ├── MessageStaleError            422 message_stale           (OTP inbox)
    ├── InboxDisabledError           409 inbox_disabled
    ├── NotFoundError                404 not_found
    │   └── EnrollmentNotFoundError  404 enrollment_not_found
    ├── StepOutOfOrderError          409 step_out_of_order
    ├── EnrollmentExpiredError       410 enrollment_expired
    ├── RateLimitedError             429 rate_limited            (Retry-After)
    ├── SessionLimitError            429 session_limit           (Retry-After)
    ├── WidgetUnrecognizedError      502 widget_unrecognized
    ├── UpstreamError                502 upstream_error
    │   └── TicketCreationError      502 ticket_creation_failed
    ├── BrowserUnavailableError      503 browser_unavailable
    │   └── BrowserCrashedError      503 browser_crashed
    ├── StoreUnavailableError        503 store_unavailable       (cluster mode: Redis; Retry-After)
    ├── DrainingError                503 draining                (shutting down; Retry-After)
    ├── WidgetTimeoutError           504 widget_timeout
    └── EnrollmentFailedError        422 enrollment_failed       (client side: an enrollment that
                                                                  ended without completing)

Messages never carry phone numbers, codes, recovery codes, tickets or tokens: callers build them from
fixed text and ids only. The HTTP layer turns any of these into
``{"error": {"code", "message", "enrollment_id"}}``; the client turns that back into the same class.
"""

from __future__ import annotations


class BridgeError(Exception):
    code = "internal_error"
    status = 500

    def __init__(
        self,
        message: str = "",
        *,
        enrollment_id: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message or self.code)
        self.message = message or self.code.replace("_", " ")
        self.enrollment_id = enrollment_id
        self.retry_after = retry_after


class InvalidRequestError(BridgeError):
    code = "invalid_request"
    status = 422


class TicketUrlRejectedError(BridgeError):
    code = "ticket_url_rejected"
    status = 422


class UnauthorizedError(BridgeError):
    code = "unauthorized"
    status = 401


class InvalidSignatureError(UnauthorizedError):
    code = "invalid_signature"


class MessageReplayedError(BridgeError):
    code = "message_replayed"
    status = 409


class MessageStaleError(BridgeError):
    code = "message_stale"
    status = 422


class InboxDisabledError(BridgeError):
    # A configuration the caller can read about and fix, not a server fault: 409, not 5xx.
    code = "inbox_disabled"
    status = 409


class NotFoundError(BridgeError):
    code = "not_found"
    status = 404


class EnrollmentNotFoundError(NotFoundError):
    code = "enrollment_not_found"


class StepOutOfOrderError(BridgeError):
    code = "step_out_of_order"
    status = 409


class EnrollmentExpiredError(BridgeError):
    code = "enrollment_expired"
    status = 410


class RateLimitedError(BridgeError):
    code = "rate_limited"
    status = 429


class SessionLimitError(BridgeError):
    code = "session_limit"
    status = 429


class WidgetUnrecognizedError(BridgeError):
    code = "widget_unrecognized"
    status = 502


class UpstreamError(BridgeError):
    code = "upstream_error"
    status = 502


class TicketCreationError(UpstreamError):
    code = "ticket_creation_failed"


class BrowserUnavailableError(BridgeError):
    code = "browser_unavailable"
    status = 503


class BrowserCrashedError(BrowserUnavailableError):
    code = "browser_crashed"


class StoreUnavailableError(BridgeError):
    """Cluster mode: the shared store (Redis) did not answer; retry shortly, on this or another replica."""

    code = "store_unavailable"
    status = 503


class DrainingError(BridgeError):
    """This bridge is shutting down and takes no new enrollments; another replica (or a retry) will."""

    code = "draining"
    status = 503


class WidgetTimeoutError(BridgeError):
    code = "widget_timeout"
    status = 504


class EnrollmentFailedError(BridgeError):
    """An enrollment that ended other than ``completed`` (raised by the pytest plugin's ``enroll_sms``; the
    server answers such an enrollment with 200 and never sends this code). ``outcome`` is the step's
    outcome code (``last_error.code``), ``widget_message`` what the widget said, ``enrollment`` the record."""

    code = "enrollment_failed"
    status = 422

    def __init__(
        self,
        message: str = "",
        *,
        enrollment_id: str | None = None,
        retry_after: int | None = None,
        outcome: str | None = None,
        widget_message: str | None = None,
        enrollment: object = None,
    ) -> None:
        super().__init__(message, enrollment_id=enrollment_id, retry_after=retry_after)
        self.outcome = outcome
        self.widget_message = widget_message
        self.enrollment = enrollment


def _all_subclasses(cls: type[BridgeError]) -> list[type[BridgeError]]:
    found: list[type[BridgeError]] = [cls]
    for sub in cls.__subclasses__():
        found.extend(_all_subclasses(sub))
    return found


ERRORS_BY_CODE: dict[str, type[BridgeError]] = {c.code: c for c in _all_subclasses(BridgeError)}


def error_for_code(code: str) -> type[BridgeError]:
    """The class owning ``code``; unknown codes map to the root so clients still raise something typed."""
    return ERRORS_BY_CODE.get(code, BridgeError)
