"""Reads ``/proc``: process trees, proportional set size, and the processes this run left behind.

Only reads, except ``reap_marked``, which ends processes proven to be this run's by the marker in
their environment. Linux only, like the bridge's deployment target.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
# Every process this run starts inherits this variable (Playwright passes its environment on to
# Chromium by default), so an orphan re-parented to init is still recognisably ours.
MARKER_ENV = "GUARDIAN_BENCH_RUN"
MIB = 1024 * 1024
TICK_S = 1 / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    name: str
    state: str
    # CPU seconds this process used, and those of its children it has already reaped (proc(5)): a
    # tree's sum of both counts the renderers that came and went, as long as their reaper is alive.
    cpu_s: float
    reaped_cpu_s: float


def _stat(pid: int) -> Proc | None:
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The name is in parentheses and may itself hold spaces or parentheses: split on the last ")".
    head, _, tail = raw.rpartition(")")
    name = head.partition("(")[2]
    # ``tail`` starts at field 3 (state) of proc(5): utime..cstime are fields 14-17.
    fields = tail.split()
    utime, stime, cutime, cstime = (int(v) * TICK_S for v in fields[11:15])
    return Proc(
        pid=pid,
        ppid=int(fields[1]),
        name=name,
        state=fields[0],
        cpu_s=utime + stime,
        reaped_cpu_s=cutime + cstime,
    )


def all_procs() -> dict[int, Proc]:
    procs: dict[int, Proc] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            proc = _stat(int(entry.name))
            if proc is not None:
                procs[proc.pid] = proc
    return procs


def descendants(root: int, procs: dict[int, Proc] | None = None) -> list[Proc]:
    """Every live process below ``root`` (not ``root`` itself)."""
    procs = procs if procs is not None else all_procs()
    children: dict[int, list[Proc]] = {}
    for proc in procs.values():
        children.setdefault(proc.ppid, []).append(proc)
    found: list[Proc] = []
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child.pid)
    return found


def tree(root: int, exclude: Iterable[int] = ()) -> list[int]:
    """``root`` and its descendants, leaving out the subtrees rooted at ``exclude``."""
    procs = all_procs()
    skipped: set[int] = set()
    for pid in exclude:
        skipped.add(pid)
        skipped.update(p.pid for p in descendants(pid, procs))
    pids = [root, *(p.pid for p in descendants(root, procs))]
    return [pid for pid in pids if pid not in skipped]


def pss_bytes(pid: int) -> int:
    """Proportional set size: private pages plus a fair share of pages shared with other processes,
    so summing it over a set of processes does not count shared libraries twice (proc(5))."""
    try:
        with (PROC / str(pid) / "smaps_rollup").open() as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass  # the process ended between listing and reading: it holds no memory any more
    return 0


def pss_mib(pids: Iterable[int]) -> float:
    return sum(pss_bytes(pid) for pid in pids) / MIB


def has_marker(pid: int, marker: str) -> bool:
    try:
        environ = (PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return False  # another user's process, or gone: not ours either way
    return f"{MARKER_ENV}={marker}".encode() in environ.split(b"\0")


def survivors(marker: str, me: int | None = None) -> list[Proc]:
    """Live processes started by this run (descendants of ``me`` or carrying the marker), except
    ``me``. Zombies are left out: they hold no memory and their parent reaps them."""
    me = os.getpid() if me is None else me
    procs = all_procs()
    mine = {p.pid for p in descendants(me, procs)}
    return [
        p
        for p in procs.values()
        if p.pid != me and p.state != "Z" and (p.pid in mine or has_marker(p.pid, marker))
    ]


def wait_for_no_survivors(marker: str, timeout_s: float) -> list[Proc]:
    """Polls until every process of this run has exited, or ``timeout_s`` passed; returns the rest."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = survivors(marker)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def reap_marked(procs: Iterable[Proc], marker: str) -> None:
    """Ends leftovers once they are counted, re-checking each one's marker just before the signal."""
    for proc in procs:
        if has_marker(proc.pid, marker):
            with contextlib.suppress(ProcessLookupError):  # it exited by itself meanwhile
                os.kill(proc.pid, signal.SIGKILL)
