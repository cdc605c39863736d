"""Structured logging: JSON lines when not on a terminal, readable lines on one; secrets scrubbed.

Every line carries the enrollment id and step bound with ``structlog.contextvars`` while a step runs.
The bridge never logs phone numbers, codes, recovery codes, tickets or tokens on purpose; the scrubber
is the second line of defence for anything a library might print.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from bridge.redact import RECOVERY_CODE

_SCRUBS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"eyJ[\w-]{6,}\.[\w-]{6,}\.[\w-]*"), "[jwt]"),
    (re.compile(r"(?i)(bearer|ticket)\s+(id=)?\"?[\w.~+/=-]{6,}\"?"), r"\1 [redacted]"),
    (re.compile(r"gten_\w+"), "[ticket]"),
    # Any tenant's ticket and Universal Login state handles in a URL or a form, whatever their prefix.
    (re.compile(r"(?i)\b(ticket|state|code|otp|recovery_code)=[^&\s\"'#]+"), r"\1=[redacted]"),
    # Phone numbers, compact or written out: +14155550123, +1 415-555-0123, +44 (0)20 7946 0958.
    (re.compile(r"(?<![\w+])\+\d[\d \-.()]{5,18}\d"), "[phone]"),
    (RECOVERY_CODE, "[recovery-code]"),
    (re.compile(r"(?i)(code|otp|passcode|pin)([\"':= ]+|\s+is\s+)\d{4,10}"), r"\1\2[code]"),
)


def scrub(text: str) -> str:
    for pattern, replacement in _SCRUBS:
        text = pattern.sub(replacement, text)
    return text


def _scrub_event(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if isinstance(value, str):
            event[key] = scrub(value)
    return event


def configure_logging(level: str = "info", json_output: bool | None = None) -> None:
    """Routes stdlib logging (ours, uvicorn's, Playwright's) through structlog's formatter."""
    as_json = (not sys.stderr.isatty()) if json_output is None else json_output
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _scrub_event,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _scrub_event,
            renderer,
        ],
    )
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
