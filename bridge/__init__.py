"""guardian-bridge: drive Auth0's Guardian SMS enrollment widget headlessly, one HTTP step at a time.

The library surface is the HTTP client and the error tree it shares with the server; importing it stays
cheap (httpx and pydantic only: no Playwright, no FastAPI).
"""

from bridge.client import AsyncBridgeClient, BridgeClient, BridgeConnectionError
from bridge.errors import (
    BridgeError,
    BrowserCrashedError,
    BrowserUnavailableError,
    EnrollmentExpiredError,
    EnrollmentFailedError,
    EnrollmentNotFoundError,
    InboxDisabledError,
    InvalidRequestError,
    InvalidSignatureError,
    MessageReplayedError,
    MessageStaleError,
    NotFoundError,
    RateLimitedError,
    SessionLimitError,
    StepOutOfOrderError,
    TicketCreationError,
    TicketUrlRejectedError,
    UnauthorizedError,
    UpstreamError,
    WidgetTimeoutError,
    WidgetUnrecognizedError,
)
from bridge.models import (
    CallPage,
    CapturedCall,
    Enrollment,
    EnrollmentState,
    Event,
    Flavour,
    LastError,
    ScreenSnapshot,
    Step,
)

# The one place the version is written: the build (hatch, pyproject.toml) reads it from here.
__version__ = "0.1.0"

__all__ = [
    "AsyncBridgeClient",
    "BridgeClient",
    "BridgeConnectionError",
    "BridgeError",
    "BrowserCrashedError",
    "BrowserUnavailableError",
    "CallPage",
    "CapturedCall",
    "Enrollment",
    "EnrollmentExpiredError",
    "EnrollmentFailedError",
    "EnrollmentNotFoundError",
    "EnrollmentState",
    "Event",
    "Flavour",
    "InboxDisabledError",
    "InvalidRequestError",
    "InvalidSignatureError",
    "LastError",
    "MessageReplayedError",
    "MessageStaleError",
    "NotFoundError",
    "RateLimitedError",
    "ScreenSnapshot",
    "SessionLimitError",
    "Step",
    "StepOutOfOrderError",
    "TicketCreationError",
    "TicketUrlRejectedError",
    "UnauthorizedError",
    "UpstreamError",
    "WidgetTimeoutError",
    "WidgetUnrecognizedError",
    "__version__",
]
