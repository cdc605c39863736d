"""Contract recording: every stable screen an enrollment reaches, with what it offered and a picture.

Only enrollments started with ``record_screens`` record (``guardian-bridge check`` asks for it); the
engine reads each screen, already redacted.
"""

from __future__ import annotations

from bridge.engine import EngineSession
from bridge.errors import BridgeError
from bridge.models import ScreenSnapshot


class ScreenRecording:
    def __init__(self, engine: EngineSession) -> None:
        self._engine = engine
        self._screens: list[ScreenSnapshot] = []
        self._pngs: list[bytes] = []

    async def observe(self, name: str) -> None:
        """Records the screen shown now under ``name`` (a widget driver's screen observer)."""
        self._screens.append(await self._engine.read_screen(name))
        try:
            png = await self._engine.screenshot() or b""
        except BridgeError:
            png = b""  # the snapshot still counts; only its picture is missing
        self._pngs.append(png)

    def screens(self) -> list[ScreenSnapshot]:
        return list(self._screens)

    def png(self, index: int) -> bytes | None:
        """The picture of screen ``index``; None when there is no such screen or it has none."""
        if not 0 <= index < len(self._pngs):
            return None
        return self._pngs[index] or None
