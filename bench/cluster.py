"""The cluster run: protocol-engine throughput with one and two replicas behind haproxy sharing one Redis
(``cluster_scaling_2``), and what a step forwarded to the replica that owns its enrollment adds
(``forward_overhead_ms``). The processes are bench/cluster_servers.py's.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from bench import concurrency
from bench.cluster_servers import NOT_INSTALLED, REPLICA, Cluster, Log, running
from bench.procs import all_procs
from bench.sizes import Sizes
from bench.stats import median, percentile, ratio
from bench.through_bridge import EnrollmentFailed, Phones, api_client, cancel, post_step
from guardian_bridge_fake.harness import FakeTenantClient

# Reads of an enrollment timed per forwarded-step pair (a read is cheap; more samples steady its p50).
READS_PER_PAIR = 5


# --- the forwarded step ---
def _timed(call: Callable[[], httpx.Response]) -> tuple[float, httpx.Response]:
    t0 = time.perf_counter()
    response = call()
    return (time.perf_counter() - t0) * 1000, response


def forwarding(cluster: Cluster, phones: Phones, pairs: int) -> dict[str, Any]:
    """Pairs of protocol enrollments started on replica 1: one's phone step sent to replica 1 itself,
    the other's to replica 2, which forwards it (its owner is alive and holds it); order alternating.
    Then reads (``GET /v1/enrollments/{id}``) the same two ways. Both answers must name replica 1."""
    owner_id = cluster.replica_id(0)
    samples: dict[str, list[float]] = {
        "step_direct": [],
        "step_forwarded": [],
        "read_direct": [],
        "read_forwarded": [],
    }
    failures: list[str] = []
    with (
        api_client(cluster.replica_url(0), cluster.token) as owner,
        api_client(cluster.replica_url(1), cluster.token) as other,
        contextlib.closing(FakeTenantClient(cluster.fake_url)) as fake,
    ):
        via = {"direct": owner, "forwarded": other}
        for n in range(pairs + 1):  # the first pair warms both paths (pools, first forward) uncounted
            ids: list[str] = []
            try:
                for _ in range(2):
                    body = {"ticket_url": fake.create_ticket()["ticket_url"], "engine": "protocol"}
                    ids.append(str(post_step(owner, "/v1/enrollments", body, "awaiting_phone")["id"]))
                order = ("direct", "forwarded") if n % 2 else ("forwarded", "direct")
                for path, enrollment_id in zip(order, ids, strict=True):
                    url = f"/v1/enrollments/{enrollment_id}/phone"
                    body = {"phone_number": phones.take().e164}
                    ms, answer = _timed(partial(via[path].post, url, json=body))
                    _check(answer, owner_id, "awaiting_code")
                    if n:
                        samples[f"step_{path}"].append(ms)
                for i in range(READS_PER_PAIR * 2):
                    path = order[i % 2]
                    url = f"/v1/enrollments/{ids[0]}"
                    ms, answer = _timed(partial(via[path].get, url))
                    _check(answer, owner_id, "awaiting_code")
                    if n:
                        samples[f"read_{path}"].append(ms)
            except (EnrollmentFailed, httpx.HTTPError) as exc:
                failures.append(f"{type(exc).__name__}: {str(exc)[:200]}")
            finally:
                for enrollment_id in ids:
                    cancel(owner, enrollment_id)
    p50 = {k: median(v) for k, v in samples.items()}
    return {
        "pairs": len(samples["step_forwarded"]),
        "engine": "protocol",
        "step": "phone",
        "p50_ms": p50,
        "step_overhead_ms": p50["step_forwarded"] - p50["step_direct"],
        "read_overhead_ms": p50["read_forwarded"] - p50["read_direct"],
        "failures": failures[:5],
    }


def _check(answer: httpx.Response, owner_id: str, state: str) -> None:
    """The request was served, by the owner (a forwarded answer keeps the owner's name), in ``state``."""
    if answer.status_code != 200:
        raise EnrollmentFailed(f"HTTP {answer.status_code} {answer.text[:200]}")
    served_by = answer.headers.get(REPLICA)
    if served_by != owner_id:
        raise EnrollmentFailed(f"answered by {served_by}, not by the owner {owner_id}: not forwarded")
    if answer.json()["state"] != state:
        raise EnrollmentFailed(f"state {answer.json()['state']}, expected {state}")


# --- throughput with one and two replicas ---
def _replica_cpu_s(pids: list[int]) -> list[float]:
    """CPU seconds so far of each replica's server process (the protocol engine runs there alone)."""
    procs = all_procs()
    return [procs[pid].cpu_s if pid in procs else math.nan for pid in pids]


def throughput(cluster: Cluster, phones: Phones, sizes: Sizes, log: Log) -> dict[str, Any]:
    """Closed-loop protocol enrollments (Classic) through haproxy at ``cluster_clients`` clients, with
    one replica and with two, measured in the order 1, 2, 2, 1, ... so a drift (the directory grows
    with every enrollment) lands on both."""
    clients = sizes.cluster_clients
    per_client = max(1, math.ceil(sizes.cluster_runs / clients / sizes.cluster_rounds))
    levels: dict[int, list[concurrency.Level]] = {1: [], 2: []}
    cpu_s: dict[int, list[float]] = {1: [0.0, 0.0], 2: [0.0, 0.0]}
    pids = cluster.pids()
    fake_pid = cluster.fake.pid if cluster.fake else 0
    order = [(1, 2), (2, 1)]
    for round_ in range(sizes.cluster_rounds):
        for replicas in order[round_ % 2]:
            log(f"cluster: {replicas} replica(s), {clients} clients x {per_client} enrollments")
            target = concurrency.Target(
                cluster.lb_url(replicas), cluster.token, cluster.fake_url, (pids[0], fake_pid), "protocol"
            )
            before = _replica_cpu_s(pids)
            levels[replicas].append(concurrency.run_level(target, phones, clients, per_client))
            after = _replica_cpu_s(pids)
            cpu_s[replicas] = [t + a - b for t, a, b in zip(cpu_s[replicas], after, before, strict=True)]
    return {str(n): _combined(levels[n], cpu_s[n]) for n in (1, 2)}


def _combined(levels: list[concurrency.Level], cpu_s: list[float]) -> dict[str, Any]:
    """One replica count's runs as one figure: all completed enrollments over all their wall time."""
    durations = [d for lv in levels for d in lv.durations_ms]
    wall = sum(lv.wall_s for lv in levels)
    busy = [lv.machine_busy for lv in levels]
    return {
        "clients": levels[0].clients,
        "completed": len(durations),
        "failed": sum(len(lv.failures) for lv in levels),
        "wall_s": round(wall, 2),
        "throughput_per_min": ratio(len(durations) * 60, wall),
        # Each measurement's own figure, in the order run: a drift through the run shows here.
        "throughput_per_min_by_run": [lv.as_json()["throughput_per_min"] for lv in levels],
        "p50_ms": median(durations),
        "p95_ms": percentile(durations, 95),
        "machine_busy_pct": sum(busy) / len(busy) * 100,
        # Each replica's server process; with one replica behind the balancer the second stays idle.
        "replica_cpu_ms_per_enrollment": [ratio(s * 1000, len(durations)) for s in cpu_s],
        "failures": [f for lv in levels for f in lv.failures][:5],
    }


def measure(
    sizes: Sizes, env: dict[str, str], token: str, chromium: str, workdir: Path, log: Log
) -> dict[str, Any]:
    """The ``cluster`` section and its two top-level figures (None when redis-server/haproxy are
    missing: the section says it was skipped)."""
    phones = Phones()
    try:
        with running(env, token, chromium, workdir, log) as cluster:
            with contextlib.closing(FakeTenantClient(cluster.fake_url)) as fake:
                fake.set_experience("classic")
            log(f"cluster: forwarded step, {sizes.forward_pairs} pairs")
            forward = forwarding(cluster, phones, sizes.forward_pairs)
            tput = throughput(cluster, phones, sizes, log)
    except FileNotFoundError as exc:
        if str(exc) != NOT_INSTALLED:
            raise
        return {"cluster_scaling_2": None, "forward_overhead_ms": None, "cluster": {"skipped": NOT_INSTALLED}}
    one, two = (tput[n]["throughput_per_min"] for n in ("1", "2"))
    return {
        "cluster_scaling_2": ratio(two, one),
        "forward_overhead_ms": forward["step_overhead_ms"],
        "cluster": {"throughput": tput, "forward": forward},
    }
