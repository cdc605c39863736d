"""Files an enrollment leaves on disk (unrecognised-widget screenshots, Playwright traces).

They may show phone numbers and codes, so they are off unless enabled, readable by the bridge's user
only, and deleted together with the enrollment's record.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger("bridge.artifacts")


def private_path(directory: Path, name: str) -> Path:
    """A path in ``directory`` (created 0700) for a file the caller writes; the name has no secrets."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory / name


def write_private(directory: Path, name: str, data: bytes) -> Path:
    path = private_path(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path


def restrict(path: Path) -> None:
    if path.exists():
        path.chmod(0o600)


def delete_all(paths: list[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            log.warning("could not delete an artifact", extra={"artifact": path.name})
    paths.clear()
