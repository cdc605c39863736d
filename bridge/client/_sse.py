"""Decoding a ``text/event-stream`` body, line by line, into server-sent events (no I/O here).

Follows the WHATWG parsing rules (https://html.spec.whatwg.org/multipage/server-sent-events.html
#event-stream-interpretation): a blank line dispatches the event being built, ``:`` starts a comment
(the bridge's ``: keep-alive``), one space after the colon is dropped, ``data`` lines join with ``\\n``.
Splitting the body into lines (``\\r\\n``, ``\\n`` or ``\\r``) is left to httpx's ``aiter_lines()``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServerSentEvent:
    event: str
    data: str
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Feed it one line at a time (without its line ending); it returns an event at the line ending one."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._last_id: str | None = None  # the spec keeps the last id across events
        self._retry: int | None = None

    def feed(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:  # the spec ignores ids containing NUL
                self._last_id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        # Any other field name is ignored, as the spec requires.
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        if not self._data:
            # No data, no event (the spec's rule); an ``event:`` line alone is forgotten.
            self._event = ""
            return None
        event = ServerSentEvent(
            event=self._event or "message",
            data="\n".join(self._data),
            id=self._last_id,
            retry=self._retry,
        )
        self._event, self._data, self._retry = "", [], None
        return event
