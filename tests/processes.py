"""Finds the Chromium processes this test run started, by walking /proc (Linux only)."""

from __future__ import annotations

import os
from pathlib import Path


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces and parentheses; fields after the last ')' are fixed.
    return int(stat.rsplit(")", 1)[1].split()[1])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def descendants(root: int | None = None) -> set[int]:
    root = root or os.getpid()
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = _parent(int(entry.name))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def browser_processes(root: int | None = None) -> set[int]:
    """Our descendant Chromium main processes: the top of each Chromium tree.

    Told apart by their parent (not a Chromium process) rather than by their command line, which a
    freshly forked helper still shares with its parent for a moment.
    """
    found = set()
    for pid in descendants(root):
        cmdline = _cmdline(pid)
        parent = _parent(pid)
        is_browser = "chrom" in cmdline and "crashpad" not in cmdline and _alive(pid)
        if is_browser and (parent is None or "chrom" not in _cmdline(parent)):
            found.add(pid)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
