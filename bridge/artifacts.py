"""Files an enrollment leaves on disk (unrecognised-widget screenshots, traces, page snapshots).

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


class Artifacts:
    """The files one enrollment left on disk, named after it, deleted together with its record."""

    def __init__(self, directory: Path, enrollment_id: str) -> None:
        self._directory = directory
        self._prefix = enrollment_id
        self._paths: list[Path] = []

    def path_for(self, suffix: str) -> Path:
        """Where to write ``<enrollment id>-<suffix>`` (the directory is created 0700)."""
        return private_path(self._directory, f"{self._prefix}-{suffix}")

    def write(self, suffix: str, data: bytes) -> Path:
        path = write_private(self._directory, f"{self._prefix}-{suffix}", data)
        self._paths.append(path)
        return path

    def keep(self, path: Path) -> None:
        """Adopts a file someone else wrote at ``path_for(...)``: readable by the bridge's user only."""
        restrict(path)
        self._paths.append(path)

    def delete(self) -> None:
        delete_all(self._paths)
