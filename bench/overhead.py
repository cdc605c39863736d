"""A/B runs per flavour: the bridge over HTTP against the hand-written script, order alternating.

Each pair runs both sides back to back and flips which goes first every time, so drift (a warming
JIT, a growing fake tenant, a busy neighbour) lands on both sides equally. The bridge half also yields
the start latency and the per-step split, from the same runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from playwright.sync_api import Browser
from playwright.sync_api import Error as PlaywrightError

from bench import baseline, cpu
from bench.stats import median, percentile, ratio
from bench.through_bridge import EnrollmentFailed, Flavour, Phones, Run, enroll
from guardian_bridge_fake.harness import FakeTenantClient

# Failures a run may end with; anything else is a bug in the benchmark and propagates.
RUN_FAILURES = (EnrollmentFailed, PlaywrightError, TimeoutError, httpx.HTTPError)
STEP_NAMES = ("start", "phone", "code")


@dataclass
class FlavourRuns:
    flavour: Flavour
    bridge: list[Run] = field(default_factory=list)
    baseline: list[Run] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    # CPU ms per run by role, the same pairs as above.
    bridge_cpu: list[dict[str, float]] = field(default_factory=list)
    baseline_cpu: list[dict[str, float]] = field(default_factory=list)


def run_pairs(
    api: httpx.Client,
    fake: FakeTenantClient,
    browser: Browser,
    phones: Phones,
    flavour: Flavour,
    pairs: int,
    pids: tuple[int, int],
) -> FlavourRuns:
    """``pids`` are the bridge's and the fake's server processes, for CPU accounting."""
    fake.set_experience(flavour)

    def via_bridge() -> Run:
        return enroll(api, fake, fake.create_ticket()["ticket_url"], phones.take())

    def by_hand() -> Run:
        return baseline.enroll(browser, fake, flavour, fake.create_ticket()["ticket_url"], phones.take())

    result = FlavourRuns(flavour)
    # Warm-up, not counted: the first page of a flavour fills caches on every side.
    for side in (via_bridge, by_hand):
        _attempt(side, result.failures, pids)
    for i in range(pairs):
        order: tuple[Callable[[], Run], ...] = (via_bridge, by_hand) if i % 2 == 0 else (by_hand, via_bridge)
        runs = {side: _attempt(side, result.failures, pids) for side in order}
        a, b = runs[via_bridge], runs[by_hand]
        # A pair with a failed half is dropped whole, so both sides keep the same drift exposure.
        if a is not None and b is not None:
            result.bridge.append(a[0])
            result.baseline.append(b[0])
            result.bridge_cpu.append(a[1])
            result.baseline_cpu.append(b[1])
    return result


def _attempt(
    side: Callable[[], Run], failures: list[str], pids: tuple[int, int]
) -> tuple[Run, dict[str, float]] | None:
    """One run and the CPU it cost (read outside the run's own timing)."""
    before = cpu.by_role(*pids)
    try:
        run = side()
    except RUN_FAILURES as exc:
        failures.append(f"{type(exc).__name__}: {str(exc)[:200]}")
        return None
    used = cpu.delta(before, cpu.by_role(*pids))
    return run, {role: seconds * 1000 for role, seconds in used.items()}


def _cpu_p50(samples: list[dict[str, float]], roles: tuple[str, ...]) -> dict[str, float]:
    p50 = {role: median([s[role] for s in samples]) for role in roles}
    return {**p50, "total": median([sum(s[r] for r in roles) for s in samples])}


def summary(runs: FlavourRuns) -> dict[str, Any]:
    """Everything derived from one flavour's pairs."""
    bridge_ms = [r.total for r in runs.bridge]
    base_ms = [r.total for r in runs.baseline]
    return {
        "pairs": len(runs.bridge),
        "failures": runs.failures,
        "overhead_ratio": ratio(median(bridge_ms), median(base_ms)),
        "bridge_p50_ms": median(bridge_ms),
        "baseline_p50_ms": median(base_ms),
        "start_p50_ms": median([r.start for r in runs.bridge]),
        "start_p95_ms": percentile([r.start for r in runs.bridge], 95),
        # Client-observed p50 per part, both sides, to show where the difference sits.
        "parts_p50_ms": {
            part: {
                "bridge": median([getattr(r, part) for r in runs.bridge]),
                "baseline": median([getattr(r, part) for r in runs.baseline]),
            }
            for part in ("start", "phone", "code_read", "code")
        },
        "steps": step_split(runs.bridge),
        # CPU per enrollment: the bridge's processes plus this client, against the script's Python
        # side and its browser. The fake tenant serves both sides alike and is left out.
        "cpu_p50_ms": {
            "bridge": _cpu_p50(runs.bridge_cpu, ("server", "driver", "browser", "bench")),
            "baseline": _cpu_p50(runs.baseline_cpu, ("bench", "bench_browser")),
        },
    }


def step_split(runs: list[Run]) -> dict[str, dict[str, float]]:
    """The bridge's own step records: p50 duration, p50 time waiting for the widget, and the share
    of all step time spent in the bridge itself (1 - widget time / step time, over every run)."""
    split: dict[str, dict[str, float]] = {}
    for name in STEP_NAMES:
        steps = [s for r in runs for s in r.steps if s["name"] == name and s["outcome"] == "ok"]
        duration = [float(s["duration_ms"]) for s in steps]
        widget = [float(s["widget_ms"]) for s in steps]
        split[name] = {
            "p50_ms": median(duration),
            "widget_p50_ms": median(widget),
            "bridge_share": 1 - ratio(sum(widget), sum(duration)),
        }
    return split
