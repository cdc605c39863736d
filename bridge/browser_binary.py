"""Finds a Chromium build for Playwright: its own download when present, else a system headless shell."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

# Debian's chromium-headless-shell package installs here; Playwright drives it like its own build.
SYSTEM_CANDIDATES: tuple[str, ...] = (
    "/usr/lib/chromium/chromium-headless-shell",
    "/usr/bin/chromium-headless-shell",
    "/usr/lib/chromium/chromium",
    "/usr/bin/chromium",
)


def playwright_bundled() -> str | None:
    """The executable Playwright downloaded for itself, if it is on disk.

    Playwright lays its builds out as ``<browsers dir>/chromium_headless_shell-<rev>/<platform dir>/<exe>``
    (the official Docker image sets PLAYWRIGHT_BROWSERS_PATH=/ms-playwright); we look for them directly
    rather than starting the driver, which costs ~0.5 s. Since Playwright moved to Chrome for Testing
    builds the shell is ``chrome-headless-shell-linux64/chrome-headless-shell`` and Chromium is
    ``chrome-linux64/chrome``; older releases used ``chrome-linux/headless_shell`` and
    ``chrome-linux/chrome``.
    """
    base = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    if not base.is_dir():
        return None
    patterns = (
        "chromium_headless_shell-*/*/chrome-headless-shell",
        "chromium_headless_shell-*/*/headless_shell",
        "chromium-*/chrome-linux*/chrome",
    )
    for pattern in patterns:
        for hit in sorted(base.glob(pattern), reverse=True):
            if os.access(hit, os.X_OK):
                return str(hit)
    return None


def find_chromium(explicit: str | None = None) -> str | None:
    """The browser to launch: an explicit path wins, then Playwright's own, then the system's."""
    if explicit:
        return explicit
    bundled = playwright_bundled()
    if bundled:
        return bundled
    for candidate in SYSTEM_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium-headless-shell")


def main() -> int:
    path = find_chromium(os.environ.get("BRIDGE_BROWSER_EXECUTABLE"))
    if path is None:
        print("no Chromium found", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
