"""Draws the concurrency curve (throughput and p95 against clients) as a small PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on a server; must precede pyplot's import

import matplotlib.pyplot as plt  # the backend has to be chosen first


def concurrency_png(result: dict[str, Any], path: Path) -> None:
    levels = [lv for lv in result.get("concurrency", []) if lv["throughput_per_min"] is not None]
    clients = [lv["clients"] for lv in levels]
    fig, (left, right) = plt.subplots(1, 2, figsize=(7.5, 3), dpi=100)
    left.plot(clients, [lv["throughput_per_min"] for lv in levels], marker="o")
    if levels:
        single = levels[0]["throughput_per_min"] / levels[0]["clients"]
        left.axhline(4 * single, linestyle="--", color="tab:green", label="target: 4x one client")
        # Where the machine runs out of CPU: cores / CPU time per enrollment (as measured at 1 client).
        cpu_ms = levels[0]["cpu_ms_per_enrollment"].get("total")
        cores = result.get("machine", {}).get("cpu_count")
        if cpu_ms and cores:
            ceiling = cores * 60_000 / cpu_ms
            left.axhline(ceiling, linestyle=":", color="grey", label="CPU ceiling")
        left.legend(loc="lower right", fontsize=7)
        left.set_ylim(bottom=0)
    left.set(xlabel="concurrent clients", ylabel="enrollments / min", title="Throughput")
    right.plot(clients, [lv["p95_ms"] for lv in levels], marker="o", color="tab:red")
    right.set(xlabel="concurrent clients", ylabel="ms", title="p95 enrollment time")
    for axis in (left, right):
        axis.set_xticks(clients)
        axis.grid(alpha=0.3)
    mode, cpus = result.get("mode"), result.get("machine", {}).get("cpu_count")
    fig.suptitle(f"guardian-bridge, Classic widget ({mode} run, {cpus} CPUs)", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
