"""The operator console's page: its HTML, script and style sheet, shipped inside the package as data."""

from __future__ import annotations

from importlib import resources

# The only files the console serves, with their media types: nothing else under static/ is reachable.
ASSETS: dict[str, str] = {
    "console.html": "text/html; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "bridge-api.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}


def read_asset(name: str) -> bytes:
    """The bytes of one of ``ASSETS`` (a ``KeyError`` for any other name)."""
    if name not in ASSETS:
        raise KeyError(name)
    return resources.files(__package__).joinpath("static", name).read_bytes()
