"""Judges the figures against their targets and prints them: rich tables for people, JSON for tools."""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

# (metric path, comparison, bound, how the target reads): the targets, verbatim.
TARGETS: tuple[tuple[str, Callable[[float, float], bool], float, str], ...] = (
    ("overhead_ratio.classic", operator.le, 1.10, "<= 1.10"),
    ("overhead_ratio.universal", operator.le, 1.10, "<= 1.10"),
    ("start_p50_ms.classic", operator.le, 250, "<= 250 ms"),
    ("start_p50_ms.universal", operator.le, 250, "<= 250 ms"),
    ("rss_per_enrollment_mib", operator.le, 30, "<= 30 MiB"),
    ("throughput_scaling.16", operator.ge, 4, ">= 4x single client"),
    ("leaked_processes", operator.eq, 0, "== 0"),
    ("memory_growth_pct", operator.lt, 10, "< 10 %"),
    ("protocol_throughput_ratio_16", operator.ge, 20, ">= 20x the browser at 16 clients"),
    ("protocol_cpu_ms_per_enrollment", operator.le, 10, "<= 10 ms"),
    ("protocol_overhead_ratio.classic", operator.le, 1.2, "<= 1.2"),
    ("protocol_overhead_ratio.universal", operator.le, 1.2, "<= 1.2"),
    ("protocol_kib_per_enrollment", operator.le, 64, "<= 64 KiB"),
)


def lookup(result: dict[str, Any], path: str) -> Any:
    node: Any = result
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def judge(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per target; ``met`` is None when the run did not measure it (e.g. quick mode has
    no 16-client level)."""
    verdicts = []
    for path, compare, bound, text in TARGETS:
        value = lookup(result, path)
        measured = isinstance(value, int | float) and not math.isnan(value)
        verdicts.append(
            {
                "metric": path,
                "value": value,
                "target": text,
                "met": compare(value, bound) if measured else None,
            }
        )
    return verdicts


def to_json(result: dict[str, Any]) -> str:
    """Strict JSON: NaN (an empty sample) becomes null rather than the non-standard ``NaN``."""

    def clean(node: Any) -> Any:
        if isinstance(node, float):
            return None if math.isnan(node) else round(node, 3)
        if isinstance(node, dict):
            return {k: clean(v) for k, v in node.items()}
        if isinstance(node, list | tuple):
            return [clean(v) for v in node]
        return node

    return json.dumps(clean(result), indent=2, allow_nan=False)


def _fmt(value: Any, digits: int = 1) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:,.{digits}f}"
    return "-" if value is None else str(value)


def print_tables(result: dict[str, Any], console: Console) -> None:
    m = result.get("machine", {})
    console.print(
        f"[bold]guardian-bridge benchmarks[/bold] ({result['mode']} run, {result.get('duration_s')} s): "
        f"{m.get('cpu_count')} CPUs, Python {m.get('python')}, Playwright {m.get('playwright')}, "
        f"Chromium {m.get('chromium')}"
    )
    flavours = Table(title="Per flavour (bridge vs hand-written Playwright)")
    for column in ("metric", "classic", "universal"):
        flavours.add_column(column, justify="left" if column == "metric" else "right")
    rows: list[tuple[str, str, int]] = [
        ("overhead ratio (p50 bridge / p50 script)", "overhead_ratio.{f}", 3),
        ("enrollment p50 via bridge, ms", "enrollment_p50_ms.{f}.bridge", 0),
        ("enrollment p50 hand-written, ms", "enrollment_p50_ms.{f}.baseline", 0),
        ("start p50 (POST -> awaiting_phone), ms", "start_p50_ms.{f}", 0),
        ("start p95, ms", "start_p95_ms.{f}", 0),
        ("phone step p50, ms", "step_p50_ms.{f}.phone", 0),
        ("code step p50, ms", "step_p50_ms.{f}.code", 0),
        ("phone step: share in the bridge", "step_bridge_share.{f}.phone", 2),
        ("code step: share in the bridge", "step_bridge_share.{f}.code", 2),
        ("CPU per enrollment via bridge, ms", "ab_detail.{f}.cpu_p50_ms.bridge.total", 0),
        ("CPU per enrollment hand-written, ms", "ab_detail.{f}.cpu_p50_ms.baseline.total", 0),
        ("A/B pairs", "ab_detail.{f}.pairs", 0),
    ]
    for label, path, digits in rows:
        cells = [_fmt(lookup(result, path.format(f=f)), digits) for f in ("classic", "universal")]
        flavours.add_row(label, *cells)
    console.print(flavours)

    curve = Table(
        title="Concurrency (Classic, closed loop)",
        caption="CPU ms: all processes' CPU per enrollment; busy %: the whole machine's, anyone's",
    )
    columns = ("clients", "done", "failed", "per min", "x one", "p50 ms", "p95 ms", "CPU ms", "busy %")
    for column in columns:
        curve.add_column(column, justify="right")
    scaling = result.get("throughput_scaling", {})
    for level in result.get("concurrency", []):
        curve.add_row(
            str(level["clients"]),
            str(level["completed"]),
            str(level["failed"]),
            _fmt(level["throughput_per_min"]),
            _fmt(scaling.get(str(level["clients"])), 2),
            _fmt(level["p50_ms"], 0),
            _fmt(level["p95_ms"], 0),
            _fmt(level["cpu_ms_per_enrollment"].get("total"), 0),
            _fmt(level["machine_busy_pct"], 0),
        )
    console.print(curve)

    mem = result.get("memory", {})
    shared, separate = mem.get("shared_browser", {}), mem.get("browser_per_enrollment", {})
    memory = Table(title=f"Memory (PSS, MiB) with {shared.get('open')} open enrollments")
    for column in ("design", "per enrollment", "total", "server", "driver", "browser"):
        memory.add_column(column, justify="left" if column == "design" else "right")
    for name, row in (("shared browser", shared), ("browser each", separate)):
        memory.add_row(
            name,
            *(_fmt(row.get(k)) for k in ("per_enrollment_mib", "total_mib", "server_mib")),
            *(_fmt(row.get(k)) for k in ("driver_mib", "browser_mib")),
        )
    console.print(memory)

    _engines_table(result, console)
    _cluster_table(result, console)

    soak = result.get("soak", {})
    growth = ", ".join(f"{k.removesuffix('_mib')} {v:+.1f}" for k, v in soak.get("growth_mib", {}).items())
    console.print(
        f"Soak: {soak.get('runs')} enrollments ({soak.get('failed')} failed), "
        f"{_fmt(soak.get('start_mib'))} -> {_fmt(soak.get('end_mib'))} MiB "
        f"({_fmt(result.get('memory_growth_pct'))} %; {growth} MiB), "
        f"leaked processes: {result.get('leaked_processes')}"
    )

    targets = Table(title="Targets")
    for column in ("metric", "value", "target", "status"):
        targets.add_column(column)
    status = {True: "[green]met[/green]", False: "[red]missed[/red]", None: "[dim]not measured[/dim]"}
    for verdict in result.get("targets", []):
        value = verdict["value"]
        targets.add_row(verdict["metric"], _fmt(value, 2), verdict["target"], status[verdict["met"]])
    console.print(targets)


def _engines_table(result: dict[str, Any], console: Console) -> None:
    """The browser and protocol engines and the bare httpx script, side by side."""
    engines = result.get("engines", {})
    side = Table(title="Engines (browser, protocol, bare httpx script)")
    for column in ("metric", "classic", "universal"):
        side.add_column(column, justify="left" if column == "metric" else "right")
    rows: list[tuple[str, str, int]] = [
        ("enrollment p50 on the browser engine, ms", "latency.{f}.browser_p50_ms", 0),
        ("enrollment p50 on the protocol engine, ms", "latency.{f}.protocol_p50_ms", 1),
        ("enrollment p50 of a bare httpx script, ms", "latency.{f}.bare_p50_ms", 1),
        ("protocol / bare script (p50)", "latency.{f}.protocol_overhead_ratio", 2),
        ("bridge server CPU per protocol enrollment, ms", "latency.{f}.protocol_cpu_ms_per_enrollment", 1),
        ("same, server + idle driver and browser, ms", "latency.{f}.protocol_tree_cpu_ms_per_enrollment", 1),
    ]
    for label, path, digits in rows:
        side.add_row(
            label, *(_fmt(lookup(engines, path.format(f=f)), digits) for f in ("classic", "universal"))
        )
    console.print(side)
    levels = Table(title="Engines: throughput per minute (Classic, closed loop)")
    for column in ("clients", "browser", "protocol"):
        levels.add_column(column, justify="right")
    by_engine = {
        engine: {
            lv["clients"]: lv["throughput_per_min"] for lv in engines.get("throughput", {}).get(engine, [])
        }
        for engine in ("browser", "protocol")
    }
    for clients in sorted(set(by_engine["browser"]) | set(by_engine["protocol"])):
        levels.add_row(
            str(clients), _fmt(by_engine["browser"].get(clients)), _fmt(by_engine["protocol"].get(clients))
        )
    console.print(levels)
    memory = engines.get("memory", {})
    console.print(
        f"Protocol engine memory: {_fmt(memory.get('kib_per_enrollment'))} KiB per open enrollment "
        f"({memory.get('open')} open)"
    )


def _cluster_table(result: dict[str, Any], console: Console) -> None:
    """Protocol-engine throughput with one and two replicas behind haproxy, and the forwarded step."""
    section = result.get("cluster", {})
    if "skipped" in section:
        console.print(f"Cluster: {section['skipped']}")
        return
    tput = section.get("throughput", {})
    clients = next((row["clients"] for row in tput.values()), None)
    table = Table(
        title=f"Cluster (protocol engine, Classic, {clients} clients through haproxy, one Redis)",
        caption="p50/p95: enrollment, ms; CPU r1/r2: each replica's server process per enrollment, ms",
    )
    columns = ("replicas", "ok/fail", "per min", "x one", "p50", "p95", "CPU r1", "CPU r2", "busy %")
    for column in columns:
        table.add_column(column, justify="right")
    for replicas in ("1", "2"):
        row = tput.get(replicas)
        if row is None:
            continue
        scale = 1.0 if replicas == "1" else result.get("cluster_scaling_2")
        table.add_row(
            replicas,
            f"{row['completed']}/{row['failed']}",
            _fmt(row["throughput_per_min"], 0),
            _fmt(scale, 2),
            _fmt(row["p50_ms"], 1),
            _fmt(row["p95_ms"], 1),
            *(_fmt(v, 1) for v in row["replica_cpu_ms_per_enrollment"]),
            _fmt(row["machine_busy_pct"], 0),
        )
    console.print(table)
    forward = section.get("forward", {})
    p50 = forward.get("p50_ms", {})
    console.print(
        f"Forwarded to the owner ({forward.get('pairs')} pairs, p50 ms, direct / forwarded / added): "
        f"{forward.get('engine')} {forward.get('step')} step {_fmt(p50.get('step_direct'), 2)} / "
        f"{_fmt(p50.get('step_forwarded'), 2)} / {_fmt(result.get('forward_overhead_ms'), 2)}; "
        f"GET /v1/enrollments/{{id}} {_fmt(p50.get('read_direct'), 2)} / "
        f"{_fmt(p50.get('read_forwarded'), 2)} / {_fmt(forward.get('read_overhead_ms'), 2)}"
    )
