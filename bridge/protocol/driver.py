"""What both protocol drivers share: the HTTP client, the serialisable state, clocks and snapshots."""

from __future__ import annotations

from abc import ABC, abstractmethod

from bridge.artifacts import Artifacts
from bridge.errors import UpstreamError, WidgetTimeoutError
from bridge.models import Channel, Flavour
from bridge.outcomes import Outcome
from bridge.phone import PhoneNumber
from bridge.protocol.http import ProtocolHttp
from bridge.protocol.state import ProtocolState
from bridge.widgets.base import ScreenObserver, Stopwatch


class ProtocolDriver(ABC):
    """Base of the protocol engine's ``WidgetDriver`` implementations."""

    flavour: Flavour

    def __init__(self, http: ProtocolHttp, state: ProtocolState, artifacts: Artifacts | None = None) -> None:
        self.http = http
        self.state = state
        self.clock: Stopwatch = http.clock
        self.observer: ScreenObserver | None = None
        # Where snapshots of unrecognised pages are written; None keeps them in memory only.
        self.artifacts = artifacts
        # Redacted text of the last page the driver could not place, for the API and the artifacts.
        self.snapshot: str | None = None

    def upstream_outcome(self, exc: UpstreamError | WidgetTimeoutError) -> Outcome:
        """An HTTP failure as the step's outcome (Classic keeps its state; Universal Login overrides)."""
        if isinstance(exc, WidgetTimeoutError):
            return Outcome.error("widget_timeout", None)
        return Outcome.error("upstream_error", None)

    def keep_snapshot(self, text: str, suffix: str = "html") -> None:
        """Keeps a redacted copy of what could not be recognised; on disk only where asked to."""
        self.snapshot = self.http.redactor.text(text)
        if self.artifacts is not None:
            self.artifacts.write(f"unrecognized.{suffix}", self.snapshot.encode())

    async def close(self) -> None:
        """Ends the client and forgets every credential: the enrollment's record may outlive it."""
        await self.http.aclose()
        self.state = self.state.model_copy(
            update={
                "transaction_token": None,
                "recovery_code": None,
                "phone_number": None,
                "cookies": {},
                "form": None,
            }
        )

    # --- the WidgetDriver steps, one implementation per flavour ---
    @abstractmethod
    async def ready(self) -> Outcome: ...

    @abstractmethod
    async def submit_phone(self, phone: PhoneNumber, channel: Channel) -> Outcome: ...

    @abstractmethod
    async def submit_code(self, code: str) -> Outcome: ...

    @abstractmethod
    async def resend(self) -> Outcome: ...

    @abstractmethod
    async def screen_name(self) -> str: ...
