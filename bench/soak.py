"""Soak: many sequential enrollments through one bridge, watching its memory for growth.

Flavours alternate so both drivers' clean-up paths run. Memory is sampled with no enrollment open,
so what it shows is what the bridge keeps between enrollments, not what they use while open.
"""

from __future__ import annotations

import math
import time
from typing import Any

import httpx

from bench.memory import SETTLE_S, breakdown
from bench.overhead import RUN_FAILURES
from bench.procs import pss_mib, tree
from bench.stats import ratio
from bench.through_bridge import FLAVOURS, Phones, enroll
from guardian_bridge_fake.harness import FakeTenantClient

SAMPLES = 10
# Enrollments before the start sample, not counted: the first ones after a burst of closed contexts
# re-create the browser's per-profile state (network service, spare renderer), a one-off step that
# is not growth. The PSS before them is reported too.
WARMUP_RUNS = 2


def soak(
    api: httpx.Client, fake: FakeTenantClient, phones: Phones, bridge_pid: int, runs: int
) -> dict[str, Any]:
    before_warmup_mib = pss_mib(tree(bridge_pid))
    failures: list[str] = []

    def one(i: int) -> None:
        fake.set_experience(FLAVOURS[i % 2])
        try:
            enroll(api, fake, fake.create_ticket()["ticket_url"], phones.take())
        except RUN_FAILURES as exc:
            failures.append(f"{type(exc).__name__}: {str(exc)[:200]}")

    for i in range(WARMUP_RUNS):
        one(i)
    time.sleep(SETTLE_S)
    start = breakdown(tree(bridge_pid), bridge_pid)
    start_mib = start["server_mib"] + start["driver_mib"] + start["browser_mib"]
    every = max(1, runs // SAMPLES)
    samples: list[tuple[int, float]] = [(0, start_mib)]
    t0 = time.perf_counter()
    for i in range(runs):
        one(i)
        if (i + 1) % every == 0 and i + 1 < runs:
            samples.append((i + 1, pss_mib(tree(bridge_pid))))
    elapsed = time.perf_counter() - t0
    time.sleep(SETTLE_S)
    end = breakdown(tree(bridge_pid), bridge_pid)
    end_mib = end["server_mib"] + end["driver_mib"] + end["browser_mib"]
    samples.append((runs, end_mib))
    return {
        "runs": runs,
        "failed": len(failures),
        "failures": failures[:5],
        "elapsed_s": round(elapsed, 1),
        "before_warmup_mib": before_warmup_mib,
        "start_mib": start_mib,
        "end_mib": end_mib,
        "memory_growth_pct": ratio(end_mib - start_mib, start_mib) * 100,
        # Growth from the first sample after the start, to tell a one-off warm-up step (caches
        # filled by the first enrollments) from a steady climb. A diagnostic, not the target.
        "growth_after_first_sample_pct": ratio(end_mib - samples[1][1], samples[1][1]) * 100
        if len(samples) > 2
        else math.nan,
        # Which process grew: the Python server, Playwright's driver, or the browser.
        "growth_mib": {role: end[role] - start[role] for role in ("server_mib", "driver_mib", "browser_mib")},
        "samples_mib": [[n, round(mib, 1)] for n, mib in samples],
    }
