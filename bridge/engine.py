"""The seam between an enrollment and what drives the widget for it: an engine and its sessions.

The enrollment's state machine (``bridge.enrollment``) knows nothing of browsers. It asks an
``Engine`` for one ``EngineSession`` per enrollment and talks to that session only through the methods
below; the steps themselves go to the ``WidgetDriver`` the session's ``open`` returns. The browser
engine (``bridge.browser.BrowserManager`` / ``BrowserSession``) is one implementation: a Chromium
context and page, its calls fed into the enrollment's ``CallLog`` by a Playwright listener. A second
engine (the protocol engine, which speaks the widget's HTTP protocol itself) implements the same two
Protocols: it records the requests it makes into the same ``CallLog`` (so ``GET .../calls`` reads the
same), returns its own ``WidgetDriver`` from ``open``, answers ``screenshot`` with None (it has no
pixels) and ``read_screen`` from the page it parsed. An enrollment on such an engine holds no browser
context; the registry's admission control (session limit, wait queue) counts it all the same.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Literal, Protocol

from bridge.artifacts import Artifacts
from bridge.call_log import CallLog
from bridge.models import ScreenSnapshot
from bridge.redact import Redactor
from bridge.widgets.base import WidgetDriver

EngineName = Literal["browser", "protocol"]


@dataclass(frozen=True)
class SessionOptions:
    """What a request may tell an engine about one enrollment; an engine ignores what it does not use."""

    # Classic on the protocol engine: the Guardian API base, when the widget page does not declare it.
    guardian_url: str | None = None


class EngineSession(Protocol):
    """What one enrollment holds of its engine, from ``Engine.new_session`` until ``close``."""

    @property
    def name(self) -> EngineName: ...

    async def open(self, ticket_url: str, timeout_s: float) -> WidgetDriver | None:
        """Opens the ticket and recognises the widget; None when it is not one the engine knows.

        Raises a ``BridgeError`` when the engine itself fails (page not reachable, browser gone).
        """

    def translate_errors(self, what: str) -> AbstractContextManager[None]:
        """Turns the engine's own failures inside the block into ``BridgeError``s; ``what`` names the
        action in their message (no secrets). A step's driver calls run inside it."""

    async def screenshot(self) -> bytes | None:
        """A PNG of what the widget shows now; None when the engine has no picture to give.

        Raises a ``BridgeError`` when the engine fails while taking it.
        """

    async def read_screen(self, name: str) -> ScreenSnapshot:
        """What the screen shown now offers a person, redacted (contract recording)."""

    async def close(self) -> None:
        """Frees everything the session holds; called once, by the enrollment's dispose."""


class Engine(Protocol):
    """Makes engine sessions: one per enrollment."""

    @property
    def name(self) -> EngineName: ...

    async def new_session(
        self, calls: CallLog, redactor: Redactor, artifacts: Artifacts, options: SessionOptions
    ) -> EngineSession:
        """A fresh session recording into ``calls``; debugging files go to ``artifacts``.

        Raises a ``BridgeError`` when the engine cannot make one now (e.g. browser_unavailable).
        """
