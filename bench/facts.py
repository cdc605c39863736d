"""Facts about the machine and the software measured, so a figure can be read in its context."""

from __future__ import annotations

import hashlib
import os
import platform
from importlib import metadata
from pathlib import Path


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def bridge_source_digest() -> str:
    """A short digest of the bridge's source as measured: figures from different code differ."""
    import bridge

    root = Path(bridge.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def load_average() -> list[float]:
    """1, 5 and 15 minute load: other work on a shared machine shows here, and in every figure."""
    return [round(v, 2) for v in os.getloadavg()]


def machine(chromium_path: str, chromium_version: str) -> dict[str, object]:
    return {
        "cpu_count": os.cpu_count(),
        # The cores this process may actually run on (a container's cpuset can be smaller).
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "playwright": metadata.version("playwright"),
        "chromium": chromium_version,
        "chromium_path": chromium_path,
        "guardian_bridge": metadata.version("guardian-bridge"),
        "bridge_source_sha256": bridge_source_digest(),
        "load_average_at_start": load_average(),
    }
