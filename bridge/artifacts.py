"""Files an enrollment leaves on disk (unrecognised-widget screenshots, traces, page snapshots).

They may show phone numbers and codes, so they are off unless enabled, readable by the bridge's user
only (directory 0700, files 0600, never written through a symbolic link), deleted together with the
enrollment's record, and any left by a process that did not stop cleanly are removed at start-up.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

log = logging.getLogger("bridge.artifacts")


# The files an enrollment leaves: ``enr_<hex>-<suffix>`` (registry.new_enrollment_id, Artifacts).
_ENROLLMENT_FILE = re.compile(r"^enr_[0-9a-f]{6,}-[\w.-]+$")


def private_dir(directory: Path) -> Path:
    """``directory``, created 0700 (the umask cannot widen it) and made 0700 if it already existed."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    if directory.is_symlink():
        raise OSError(f"the artifacts directory must not be a symbolic link: {directory}")
    os.chmod(directory, 0o700)
    return directory


def private_path(directory: Path, name: str) -> Path:
    """A path in ``directory`` (created 0700) for a file the caller writes; the name has no secrets."""
    return private_dir(directory) / name


def write_private(directory: Path, name: str, data: bytes) -> Path:
    path = private_path(directory, name)
    # O_NOFOLLOW: a link planted at this name is refused rather than written through; O_EXCL would
    # refuse an existing file, which a retried write of the same artifact may legitimately replace.
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(data)
    return path


def restrict(path: Path) -> None:
    if path.is_symlink():
        path.unlink()  # never chmod (and later serve) what a link points at
    elif path.exists():
        path.chmod(0o600)


def remove_leftovers(directory: Path) -> int:
    """Deletes enrollment files a previous run left behind (it stopped before deleting them); returns how
    many. Does nothing when the directory does not exist (nothing is created until something is saved)."""
    if not directory.is_dir() or directory.is_symlink():
        return 0
    removed = 0
    for entry in directory.iterdir():
        if _ENROLLMENT_FILE.match(entry.name) and (entry.is_symlink() or entry.is_file()):
            try:
                entry.unlink()
                removed += 1
            except OSError:
                log.warning("could not delete a leftover artifact", extra={"artifact": entry.name})
    if removed:
        log.info("removed leftover artifacts", extra={"count": removed})
    return removed


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
