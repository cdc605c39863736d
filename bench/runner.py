"""Runs every measurement in order against a fresh fake tenant and bridge, and gathers one result.

Order matters: the A/B runs come first (a warm but unloaded bridge); memory and the soak follow, on a
bridge that has only run enrollments one at a time; the concurrency curve comes last because a burst
leaves every heap at its high-water mark. The cluster run (its own Redis, replicas and haproxy) follows
once that bridge has shut down. The leak check runs after everything has shut down.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from bench import baseline, cluster, concurrency, engines, memory, overhead, servers, soak
from bench.facts import load_average, machine
from bench.procs import MARKER_ENV, reap_marked, tree, wait_for_no_survivors
from bench.sizes import Sizes
from bench.through_bridge import FLAVOURS, Phones, api_client
from bridge.browser_binary import find_chromium
from guardian_bridge_fake.harness import FakeTenantClient

# Chromium's helpers take a moment to exit after the browser does; longer than this is a leak.
SHUTDOWN_GRACE_S = 15.0

Log = Callable[[str], None]


@contextmanager
def _marked_environment(marker: str) -> Iterator[None]:
    """Marks this process's environment so the Playwright driver and browsers it starts carry it."""
    previous = os.environ.get(MARKER_ENV)
    os.environ[MARKER_ENV] = marker
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(MARKER_ENV, None)
        else:
            os.environ[MARKER_ENV] = previous


def run(sizes: Sizes, log: Log) -> dict[str, Any]:
    chromium = find_chromium()
    if chromium is None:
        raise RuntimeError("no Chromium found: run scripts/dev setup")
    marker = uuid.uuid4().hex
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="guardian-bench-") as tmp, _marked_environment(marker):
        try:
            result = _measure(sizes, chromium, marker, Path(tmp), log)
        except Exception:
            # The servers' logs live in the temporary directory: show their ends before it goes.
            for name in ("fake.log", "bridge.log"):
                log(f"last lines of {name}:\n{_tail(Path(tmp) / name)}")
            raise
        # After the single bridge has gone, so the replicas have the machine to themselves; before the
        # leak check, which covers the cluster's processes too (they carry the marker).
        env = servers.child_env(MARKER_ENV, marker)
        token = secrets.token_urlsafe(24)
        result.update(cluster.measure(sizes, env, token, chromium, Path(tmp) / "cluster", log))
        result["machine"]["load_average_at_end"] = load_average()
        log("checking for processes left behind")
        left = wait_for_no_survivors(marker, SHUTDOWN_GRACE_S)
        result["leaked_processes"] = len(left)
        result["leaked_process_names"] = sorted(p.name for p in left)
        reap_marked(left, marker)
    result["duration_s"] = round(time.perf_counter() - began, 1)
    return result


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _measure(sizes: Sizes, chromium: str, marker: str, tmp: Path, log: Log) -> dict[str, Any]:
    env = servers.child_env(MARKER_ENV, marker)
    token = secrets.token_urlsafe(24)
    phones = Phones()
    out: dict[str, Any] = {"mode": sizes.mode}
    log("starting the fake tenant and the bridge")
    fake_log, bridge_log = tmp / "fake.log", tmp / "bridge.log"
    with (
        servers.fake_tenant(env, fake_log) as fake_svc,
        servers.bridge(env, bridge_log, token, chromium, tmp / "artifacts", fake_svc.port) as bridge_svc,
        api_client(bridge_svc.base_url, token) as api,
    ):
        health = api.get("/healthz").json()
        if not health["browser_connected"]:
            raise RuntimeError(f"the bridge has no browser; see {bridge_log}")
        fake = FakeTenantClient(fake_svc.base_url)
        pids = (bridge_svc.pid, fake_svc.pid)
        try:
            with sync_playwright() as pw:
                browser = baseline.launch(pw, chromium)
                out["machine"] = machine(chromium, browser.version)
                per_flavour: dict[str, dict[str, Any]] = {}
                for flavour in FLAVOURS:
                    log(f"A/B runs, {flavour}: {sizes.overhead_pairs} pairs")
                    runs = overhead.run_pairs(api, fake, browser, phones, flavour, sizes.overhead_pairs, pids)
                    per_flavour[flavour] = overhead.summary(runs)
                browser.close()
            out.update(_latency(per_flavour))

            log(f"engines side by side: {sizes.engine_runs} runs per engine and flavour, and a bare script")
            engine_latency = engines.latency(api, fake, phones, sizes.engine_runs, pids)
            log(f"memory with {sizes.engine_open} open protocol enrollments")
            engine_memory = engines.memory(api, fake, phones, bridge_svc.pid, sizes.engine_open)

            log(f"memory with {sizes.open_enrollments} open enrollments: shared browser")
            shared = memory.shared_browser(api, fake, phones, bridge_svc.pid, sizes.open_enrollments)
            log(f"memory with {sizes.open_enrollments} open enrollments: a browser each")
            separate = memory.browser_per_enrollment(
                fake, phones, chromium, sizes.open_enrollments, bridge_svc.pid, [fake_svc.pid]
            )
            out["rss_per_enrollment_mib"] = shared["per_enrollment_mib"]
            out["rss_per_enrollment_browser_per_enrollment_mib"] = separate["per_enrollment_mib"]
            out["memory"] = {"shared_browser": shared, "browser_per_enrollment": separate}

            log(f"soak: {sizes.soak_runs} sequential enrollments")
            soaked = soak.soak(api, fake, phones, bridge_svc.pid, sizes.soak_runs)
            out["memory_growth_pct"] = soaked["memory_growth_pct"]
            out["soak"] = soaked

            fake.set_experience("classic")
            log(f"concurrency curve at {sizes.concurrency_levels} clients")
            target = concurrency.Target(bridge_svc.base_url, token, fake_svc.base_url, pids)
            levels = concurrency.curve(target, phones, sizes)
            out["concurrency"] = [level.as_json() for level in levels]
            out["throughput_scaling"] = concurrency.scaling(levels)
            log(f"engines side by side at {sizes.engine_levels} clients")
            engine_throughput = engines.throughput(target, phones, sizes)
            out.update(engines.summary(engine_latency, engine_memory, engine_throughput))
            # Heaps keep their high-water mark after a burst: the idle bridge's memory shows it.
            time.sleep(memory.SETTLE_S)
            idle = memory.breakdown(tree(bridge_svc.pid), bridge_svc.pid)
            out["memory"]["idle_after_concurrency"] = idle

            out["machine"]["load_average_at_end"] = load_average()
        finally:
            fake.close()
        log("shutting down")
    return out


def _latency(per_flavour: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Regroups the per-flavour A/B summaries into one key per metric."""
    steps = ("phone", "code")
    return {
        "overhead_ratio": {f: s["overhead_ratio"] for f, s in per_flavour.items()},
        "enrollment_p50_ms": {
            f: {"bridge": s["bridge_p50_ms"], "baseline": s["baseline_p50_ms"]}
            for f, s in per_flavour.items()
        },
        "start_p50_ms": {f: s["start_p50_ms"] for f, s in per_flavour.items()},
        "start_p95_ms": {f: s["start_p95_ms"] for f, s in per_flavour.items()},
        "step_p50_ms": {f: {n: s["steps"][n]["p50_ms"] for n in steps} for f, s in per_flavour.items()},
        "step_bridge_share": {
            f: {n: s["steps"][n]["bridge_share"] for n in steps} for f, s in per_flavour.items()
        },
        "ab_detail": {
            f: {k: s[k] for k in ("pairs", "failures", "parts_p50_ms", "steps", "cpu_p50_ms")}
            for f, s in per_flavour.items()
        },
    }
