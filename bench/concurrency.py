"""The concurrency curve: N clients, each running complete enrollments back to back (a closed loop).

Clients are threads with their own HTTP clients; they only wait on sockets, so the bridge (another
process) is what is measured. Throughput is completed enrollments per minute of the level's wall time.
"""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bench import cpu
from bench.overhead import RUN_FAILURES
from bench.sizes import Sizes
from bench.stats import median, percentile, ratio
from bench.through_bridge import Phones, api_client, enroll
from guardian_bridge_fake.harness import FakeTenantClient

# A whole level may not outlast this, whatever the bridge does (each request is bounded too).
BARRIER_TIMEOUT_S = 60.0


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
    level = Level(clients=clients, runs=clients * rounds)
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1, timeout=BARRIER_TIMEOUT_S)

    def client() -> None:
        with api_client(target.bridge_url, target.token) as api:
            fake = FakeTenantClient(target.fake_url)
            try:
                try:
                    fake.management_token()  # fetched before the clock starts, like a client's login
                except BaseException:
                    barrier.abort()  # release the others now instead of at the barrier's timeout
                    raise
                barrier.wait()
                for _ in range(rounds):
                    try:
                        url = fake.create_ticket()["ticket_url"]
                        run = enroll(api, fake, url, phones.take(), target.engine)
                    except RUN_FAILURES as exc:
                        with lock:
                            level.failures.append(f"{type(exc).__name__}: {str(exc)[:200]}")
                        continue
                    with lock:
                        level.durations_ms.append(run.total)
            finally:
                fake.close()

    with ThreadPoolExecutor(max_workers=clients, thread_name_prefix="bench-client") as pool:
        futures = [pool.submit(client) for _ in range(clients)]
        cpu_before, ticks_before = cpu.by_role(*target.pids), cpu.machine_ticks()
        barrier.wait()  # every client is connected and ready: start the clock together
        t0 = time.perf_counter()
        for future in futures:
            future.result()
        level.wall_s = time.perf_counter() - t0
        busy, total = (
            after - before for after, before in zip(cpu.machine_ticks(), ticks_before, strict=True)
        )
        level.cpu_s = cpu.delta(cpu_before, cpu.by_role(*target.pids))
        level.cpu_s.pop("bench_browser", None)  # no browser of ours runs during the curve
        level.cpu_s["total"] = sum(level.cpu_s.values())
        level.machine_busy = ratio(busy, total)
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
