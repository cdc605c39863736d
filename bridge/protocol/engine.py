"""The protocol engine behind the ``Engine`` / ``EngineSession`` seam: no browser, one httpx client each.

A session records its requests into the enrollment's ``CallLog`` (so ``GET .../calls`` reads the same as
for the browser), answers ``screenshot`` with None (there are no pixels) and ``read_screen`` from the page
it parsed. Its HTTP failures are translated where they happen (``protocol.http``), so ``translate_errors``
has nothing left to translate.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Literal
from urllib.parse import urlsplit

from bridge.artifacts import Artifacts
from bridge.call_log import CallLog
from bridge.engine import SessionOptions
from bridge.models import ScreenField, ScreenSnapshot
from bridge.protocol.driver import ProtocolDriver
from bridge.protocol.http import SharedPool
from bridge.protocol.open import open_protocol, resume_protocol
from bridge.protocol.pages import screen_parts
from bridge.protocol.state import ProtocolState
from bridge.protocol.universal import UniversalProtocolDriver
from bridge.redact import Redactor
from bridge.settings import BridgeSettings
from bridge.urls import HostPolicy
from bridge.widgets.snapshot import scrub


class ProtocolSession:
    """One enrollment's protocol client: the ``EngineSession`` of the protocol engine."""

    name: Literal["protocol"] = "protocol"

    def __init__(
        self,
        settings: BridgeSettings,
        calls: CallLog,
        redactor: Redactor,
        artifacts: Artifacts,
        service_url: str | None = None,
        pool: SharedPool | None = None,
    ) -> None:
        self._settings = settings
        self._pool = pool
        self._calls = calls
        self._redactor = redactor
        # Snapshots of unrecognised pages go to disk under the same opt-in as the browser's screenshots.
        self._artifacts = artifacts if settings.save_screenshots else None
        # The Guardian API base when the caller names one (Classic); else the page or Auth0's rules decide.
        self.service_url = service_url
        self.driver: ProtocolDriver | None = None

    async def open(self, ticket_url: str, timeout_s: float) -> ProtocolDriver | None:
        self.driver = await open_protocol(
            ticket_url,
            policy=HostPolicy.of(self._settings.allowed_hosts),
            timeout_s=timeout_s,
            sink=self._calls,
            redactor=self._redactor,
            service_url=self.service_url,
            artifacts=self._artifacts,
            max_body_bytes=self._settings.capture_max_body_bytes,
            transport=self._pool.lease() if self._pool is not None else None,
        )
        return self.driver

    async def resume(self, state: ProtocolState, timeout_s: float) -> ProtocolDriver:
        """Goes on from a saved ``state`` instead of opening the ticket (cluster mode: another replica
        ran the steps before)."""
        self.driver = await resume_protocol(
            state,
            policy=HostPolicy.of(self._settings.allowed_hosts),
            timeout_s=timeout_s,
            sink=self._calls,
            redactor=self._redactor,
            artifacts=self._artifacts,
            max_body_bytes=self._settings.capture_max_body_bytes,
            transport=self._pool.lease() if self._pool is not None else None,
        )
        return self.driver

    def translate_errors(self, what: str) -> AbstractContextManager[None]:
        return nullcontext()

    async def screenshot(self) -> bytes | None:
        return None

    async def read_screen(self, name: str) -> ScreenSnapshot:
        driver = self.driver
        if not isinstance(driver, UniversalProtocolDriver):
            return ScreenSnapshot(name=name, path=self._path(driver))
        parts = {
            k: [scrub(self._redactor.text(v)) for v in vs] for k, vs in screen_parts(driver.html).items()
        }
        form = driver.page.form
        controls = form.controls if form else []
        fields = [ScreenField(name=c.name, type=c.type) for c in controls if c.name and c.tag != "button"]
        return ScreenSnapshot(name=name, path=self._path(driver), fields=fields, **parts)

    def _path(self, driver: ProtocolDriver | None) -> str:
        if isinstance(driver, UniversalProtocolDriver):
            return self._redactor.text(urlsplit(driver.page.url).path)
        return urlsplit(driver.state.service_url or "").path if driver is not None else ""

    async def close(self) -> None:
        if self.driver is not None:
            await self.driver.close()  # no cookie or token outlives the enrollment
            self.driver = None


class ProtocolEngine:
    """Makes one ``ProtocolSession`` per enrollment; holds only the connection pool they share."""

    name: Literal["protocol"] = "protocol"

    def __init__(self, settings: BridgeSettings) -> None:
        self._settings = settings
        self._pool = SharedPool()

    async def close(self) -> None:
        await self._pool.close()

    async def new_session(
        self, calls: CallLog, redactor: Redactor, artifacts: Artifacts, options: SessionOptions
    ) -> ProtocolSession:
        return ProtocolSession(self._settings, calls, redactor, artifacts, options.guardian_url, self._pool)
