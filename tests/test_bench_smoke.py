"""The benchmark suite end to end at its tiny size: it runs, shuts down cleanly and reports every metric.

The figures of a tiny run mean nothing; this only proves that ``python -m bench`` works and that its JSON
keeps the shape the README and any dashboards read.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
FLAVOURS = ("classic", "universal")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "tiny.json"
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--tiny", "--json", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        # A guard against a hang, not a timing: about 25 s on a quiet machine, over two minutes on a
        # 2-core one that other test suites keep at a load average of 10 or more.
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    printed: dict[str, Any] = json.loads(completed.stdout)  # stdout holds exactly one JSON object
    assert json.loads(out.read_text()) == printed
    return printed


def test_per_flavour_latency_metrics(result: dict[str, Any]) -> None:
    for key in ("overhead_ratio", "start_p50_ms", "start_p95_ms"):
        assert set(result[key]) == set(FLAVOURS), key
        assert all(_number(v) and v > 0 for v in result[key].values()), (key, result[key])
    for flavour in FLAVOURS:
        for step in ("phone", "code"):
            assert _number(result["step_p50_ms"][flavour][step])
            assert 0 <= result["step_bridge_share"][flavour][step] <= 1


def test_concurrency_and_memory_metrics(result: dict[str, Any]) -> None:
    [level] = result["concurrency"]
    assert level["clients"] == 1
    assert level["completed"] >= 1
    assert level["failed"] == 0
    assert _number(level["throughput_per_min"])
    assert _number(level["p95_ms"])
    assert result["throughput_scaling"] == {"1": 1.0}
    assert _number(result["rss_per_enrollment_mib"])
    assert result["rss_per_enrollment_mib"] > 0
    assert _number(result["rss_per_enrollment_browser_per_enrollment_mib"])


def test_engines_side_by_side(result: dict[str, Any]) -> None:
    assert set(result["protocol_overhead_ratio"]) == set(FLAVOURS)
    assert all(_number(v) and v > 0 for v in result["protocol_overhead_ratio"].values())
    assert _number(result["protocol_cpu_ms_per_enrollment"])
    assert _number(result["protocol_kib_per_enrollment"])
    assert "protocol_throughput_ratio_16" in result  # null at this size: no 16-client level
    for engine in ("browser", "protocol"):
        [level] = result["engines"]["throughput"][engine]
        assert (level["clients"], level["failed"]) == (1, 0)


def test_soak_leaves_nothing_behind(result: dict[str, Any]) -> None:
    assert _number(result["memory_growth_pct"])
    assert result["soak"]["runs"] == 2
    assert result["leaked_processes"] == 0


def test_machine_facts_and_targets(result: dict[str, Any]) -> None:
    machine = result["machine"]
    assert isinstance(machine["cpu_count"], int)
    for key in ("chromium", "playwright", "python"):
        assert isinstance(machine[key], str)
        assert machine[key]
    assert result["mode"] == "tiny"
    assert {t["metric"] for t in result["targets"]} >= {"rss_per_enrollment_mib", "leaked_processes"}
    assert all(t["met"] in (True, False, None) for t in result["targets"])
