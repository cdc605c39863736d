"""CPU time spent per process role, to show what a measured wall time actually cost and where.

On a small machine throughput is bounded by CPU: at most ``cores / CPU seconds per enrollment``.
"""

from __future__ import annotations

import os
from pathlib import Path

from bench.procs import Proc, all_procs, descendants


def _tree_cpu(procs: list[Proc]) -> float:
    return sum(p.cpu_s + p.reaped_cpu_s for p in procs)


def by_role(bridge_pid: int, fake_pid: int) -> dict[str, float]:
    """CPU seconds so far of the bridge's server, driver and browsers, the fake tenant, and this
    process (the load generator, or the hand-written script's Python side)."""
    procs = all_procs()
    me = os.getpid()
    bridge = [procs[bridge_pid], *descendants(bridge_pid, procs)] if bridge_pid in procs else []
    fake = [procs[fake_pid], *descendants(fake_pid, procs)] if fake_pid in procs else []
    skip = {p.pid for p in (*bridge, *fake)} | {me}
    mine = [p for p in descendants(me, procs) if p.pid not in skip]
    driver = {p.pid for p in bridge if p.name.startswith("node")}
    return {
        "server": bridge[0].cpu_s if bridge else 0.0,  # its children are the driver and browser below
        "driver": sum(p.cpu_s for p in bridge if p.pid in driver),
        "browser": _tree_cpu([p for p in bridge[1:] if p.pid not in driver]),
        "fake": _tree_cpu(fake),
        "bench": procs[me].cpu_s if me in procs else 0.0,
        # This process's own Playwright driver and browsers (the hand-written side).
        "bench_browser": _tree_cpu(mine),
    }


def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {role: after[role] - before.get(role, 0.0) for role in after}


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot, from /proc/stat's first line."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # user..steal; guest time is already inside user
    return total - idle, total
