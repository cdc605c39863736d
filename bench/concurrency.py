"""The concurrency curve: N clients, each running complete enrollments back to back (a closed loop).

Clients are threads of a few worker processes (``bench.loadgen``), each with its own kept-alive HTTP
clients, so the load generator costs little next to the bridge (another process), which is what is
measured. Throughput is completed enrollments per minute of the level's wall time.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from bench import cpu, loadgen
from bench.sizes import Sizes
from bench.stats import median, percentile, ratio
from bench.through_bridge import Phones

# Getting every client connected may not take longer than this, nor a whole level than the second.
BARRIER_TIMEOUT_S = 60.0
LEVEL_TIMEOUT_S = 1800.0


@dataclass(frozen=True)
class Target:
    """Where the clients go, and which processes' CPU to account."""

    bridge_url: str
    token: str
    fake_url: str
    pids: tuple[int, int]  # the bridge's and the fake's server processes
    engine: str | None = None  # the bridge's default engine when None


@dataclass
class Level:
    clients: int
    runs: int
    wall_s: float = 0.0
    durations_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    cpu_s: dict[str, float] = field(default_factory=dict)
    machine_busy: float = math.nan

    def as_json(self) -> dict[str, Any]:
        completed = len(self.durations_ms)
        return {
            "clients": self.clients,
            "completed": completed,
            "failed": len(self.failures),
            "wall_s": round(self.wall_s, 2),
            "throughput_per_min": ratio(completed * 60, self.wall_s),
            "p50_ms": median(self.durations_ms),
            "p95_ms": percentile(self.durations_ms, 95),
            # CPU per completed enrollment by role; "bench" is this load generator.
            "cpu_ms_per_enrollment": {
                role: ratio(seconds * 1000, completed) for role, seconds in self.cpu_s.items()
            },
            # Share of the whole machine's CPU in use during the level, whoever used it.
            "machine_busy_pct": self.machine_busy * 100,
            "failures": self.failures[:5],
        }


def rounds_for(clients: int, level_min_runs: int, min_rounds: int) -> int:
    return max(min_rounds, math.ceil(level_min_runs / clients))


def run_level(target: Target, phones: Phones, clients: int, rounds: int) -> Level:
    """``clients`` clients, ``rounds`` enrollments each, spread over the load generator's worker
    processes (``bench.loadgen``); the clock runs from the start signal to the last enrollment."""
    level = Level(clients=clients, runs=clients * rounds)
    numbers = [[phones.take() for _ in range(rounds)] for _ in range(clients)]
    jobs = loadgen.jobs_for(
        target.bridge_url, target.token, target.fake_url, target.engine, numbers, BARRIER_TIMEOUT_S
    )
    with loadgen.Workers(jobs, BARRIER_TIMEOUT_S, LEVEL_TIMEOUT_S) as workers:
        cpu_before, ticks_before = cpu.by_role(*target.pids), cpu.machine_ticks()
        t0 = time.perf_counter()
        workers.go()  # every client is connected and ready: start the clock together
        outcomes = workers.results()
        level.wall_s = time.perf_counter() - t0
        busy, total = (
            after - before for after, before in zip(cpu.machine_ticks(), ticks_before, strict=True)
        )
        level.cpu_s = cpu.delta(cpu_before, cpu.by_role(*target.pids))
    # "bench" is the load generator: this process (waiting) plus every worker's own count; the
    # workers' processes are this one's children, so their running totals leave the by-role figure.
    level.cpu_s.pop("bench_browser", None)
    level.cpu_s["bench"] += sum(o.cpu_s for o in outcomes)
    level.cpu_s["total"] = sum(level.cpu_s.values())
    level.machine_busy = ratio(busy, total)
    for outcome in outcomes:
        level.durations_ms += outcome.durations_ms
        level.failures += outcome.failures
    return level


def curve(target: Target, phones: Phones, sizes: Sizes) -> list[Level]:
    return [
        run_level(target, phones, n, rounds_for(n, sizes.level_min_runs, sizes.min_rounds))
        for n in sizes.concurrency_levels
    ]


def scaling(levels: list[Level]) -> dict[str, float]:
    """Throughput at each level relative to one client."""
    by_clients = {lv.clients: lv.as_json()["throughput_per_min"] for lv in levels}
    single = by_clients.get(1, math.nan)
    return {str(n): ratio(t, single) for n, t in by_clients.items()}
