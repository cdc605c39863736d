"""The browser as the protocol engine's oracle: the difference between two engines' calls and outcomes.

Calls are compared by shape, never by value (values hold secrets and change every run): kind, method,
endpoint, auth scheme, status and the body's keys, in order. Page loads (GET navigations) and the Classic
widget's ``transaction-state`` polling are left out: how often a browser polls depends on timing, not on
the protocol. Any difference means the protocol engine no longer does what the widget does.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bridge.models import CapturedCall

IGNORED_ENDPOINTS = frozenset({"transaction-state"})


@dataclass(frozen=True)
class CallShape:
    kind: str
    method: str
    endpoint: str
    auth_scheme: str | None
    status: int | None
    request_keys: tuple[str, ...]
    response_keys: tuple[str, ...]

    def describe(self) -> str:
        keys = ",".join(self.request_keys)
        return (
            f"{self.kind} {self.method} {self.endpoint} auth={self.auth_scheme or '-'} "
            f"status={self.status} body=[{keys}]"
        )


def _keys(body: Any) -> tuple[str, ...]:
    return tuple(sorted(str(k) for k in body)) if isinstance(body, dict) else ()


def shapes(calls: Iterable[CapturedCall]) -> list[CallShape]:
    """The calls that carry the protocol, as shapes, in the order they were made."""
    return [
        CallShape(
            c.kind,
            c.method,
            c.endpoint,
            c.auth_scheme,
            c.status,
            _keys(c.request_body),
            _keys(c.response_body),
        )
        for c in calls
        if c.kind in ("api", "form") and c.endpoint not in IGNORED_ENDPOINTS
    ]


def call_differences(reference: Sequence[CapturedCall], candidate: Sequence[CapturedCall]) -> list[str]:
    """What ``candidate`` (the protocol engine) did differently from ``reference`` (the browser)."""
    want, got = shapes(reference), shapes(candidate)
    found: list[str] = []
    matcher = difflib.SequenceMatcher(a=want, b=got, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            continue
        for shape in want[a0:a1]:
            found.append(f"browser made, protocol did not: {shape.describe()}")
        for shape in got[b0:b1]:
            found.append(f"protocol made, browser did not: {shape.describe()}")
    return found


def outcome_differences(reference: dict[str, Any], candidate: dict[str, Any]) -> list[str]:
    """Differences between two enrollments' results: state, steps' outcomes and error codes, flavour."""
    found = []
    for key in ("state", "flavour"):
        if reference.get(key) != candidate.get(key):
            found.append(f"{key}: browser {reference.get(key)!r}, protocol {candidate.get(key)!r}")

    def steps(enrollment: dict[str, Any]) -> list[tuple[Any, Any, Any]]:
        return [(s.get("name"), s.get("outcome"), s.get("error_code")) for s in enrollment.get("steps", [])]

    if steps(reference) != steps(candidate):
        found.append(f"steps: browser {steps(reference)}, protocol {steps(candidate)}")
    ref_error = (reference.get("last_error") or {}).get("code")
    cand_error = (candidate.get("last_error") or {}).get("code")
    if ref_error != cand_error:
        found.append(f"last_error: browser {ref_error!r}, protocol {cand_error!r}")
    return found
