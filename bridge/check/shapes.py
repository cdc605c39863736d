"""Turns volatile values into stable ones: URL paths into templates, JSON values into their shapes.

A contract must not change between two runs against an unchanged widget, and must never hold a secret or
a person's data, so ids become named placeholders and JSON bodies keep only their keys and value types.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# Id prefixes the Guardian API and the bridge use (docs/protocol.md#conventions); each
# becomes a named placeholder so a report can say which id sits where.
_PREFIXED_IDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^dev_[\w-]+$"), "{device_account_id}"),
    (re.compile(r"^etx_[\w-]+$"), "{enrollment_tx_id}"),
    (re.compile(r"^tx_[\w-]+$"), "{transaction_id}"),
    (re.compile(r"^gten_[\w-]+$"), "{ticket_id}"),
    (re.compile(r"^enr_[\w-]+$"), "{enrollment_id}"),
)
# Anything else that looks generated: a long hex run, a long token, or a long segment with several digits
# (a UUID, a JWT). Route names (``mfa-sms-enrollment-verify``) have no digits and stay as they are.
_GENERATED = re.compile(r"^[0-9a-f]{16,}$|^[\w-]{32,}$|^(?=(?:.*\d){3})[\w.~%-]{12,}$", re.IGNORECASE)
# Redacted or masked forms the bridge's redactor leaves in a path.
_REDACTED = re.compile(r"\[redacted\]|\*{3,}")


def path_template(path: str) -> str:
    """``/guardian/api/device-accounts/dev_1a2b/sms-enroll`` -> ``.../{device_account_id}/sms-enroll``."""
    return "/".join(_segment(segment) for segment in path.split("/"))


def _segment(segment: str) -> str:
    if not segment:
        return segment
    for pattern, placeholder in _PREFIXED_IDS:
        if pattern.match(segment):
            return placeholder
    if _REDACTED.search(segment) or _GENERATED.match(segment):
        return "{id}"
    return segment


def url_template(url: str) -> str:
    """A path template plus the query's parameter names, each value a ``{name}`` placeholder."""
    parts = urlsplit(url)
    template = path_template(parts.path)
    names = sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True)})
    if names:
        template += "?" + "&".join(f"{name}={{{name}}}" for name in names)
    return template


def json_shape(value: Any) -> Any:
    """Keys and value types, never values: ``{"id": "tx_1", "n": [1]}`` -> ``{"id": "string", "n":
    ["integer"]}``. A list's element shapes are merged (one entry when every element has the same shape),
    so its length never matters; keys are sorted so the result is stable."""
    if isinstance(value, dict):
        return {str(key): json_shape(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, list):
        return _merge(json_shape(item) for item in value)
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if value is None:
        return "null"
    # A redacted value was a string before redaction too, so its type stays "string".
    return "string"


def _merge(shapes: Iterable[Any]) -> list[Any]:
    unique: list[Any] = []
    for shape in shapes:
        if shape not in unique:
            unique.append(shape)
    return sorted(unique, key=repr)


def shape_paths(shape: Any, prefix: str = "") -> dict[str, str]:
    """A shape flattened to ``{"device_account.status": "string", "methods[]": "string"}``: each leaf's
    dotted path and type, plus every object and list as ``object`` / ``array`` so a removed branch shows."""
    out: dict[str, str] = {}
    if shape is None and not prefix:
        return out  # no body at all
    if isinstance(shape, dict):
        if prefix:
            out[prefix] = "object"
        for key, sub in shape.items():
            out.update(shape_paths(sub, f"{prefix}.{key}" if prefix else key))
    elif isinstance(shape, list):
        out[prefix or "[]"] = "array"
        for sub in shape:
            for path, kind in shape_paths(sub, f"{prefix}[]").items():
                # Several element shapes may share a path; keep every type seen there.
                out[path] = kind if path not in out or out[path] == kind else f"{out[path]}|{kind}"
    else:
        out[prefix or "(body)"] = str(shape)
    return out


def media_type(content_type: str | None) -> str | None:
    """``application/json; charset=utf-8`` -> ``application/json``."""
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None
