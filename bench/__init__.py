"""guardian-bridge benchmarks: the bridge against a hand-written Playwright script, under load, over time.

Run ``python -m bench [--quick] [--json] [--out FILE] [--plot FILE]`` from the repository root; see
``bench/README.md`` for what each figure means and the latest results.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["FULL", "QUICK", "TINY", "Sizes", "judge", "run", "to_json"]

# Imported on first use (PEP 562), not with the package: the load generator's worker processes import
# a few of its modules and must not pay for Playwright and the report's imports (about 2 s of CPU).
_HOMES = {
    "FULL": "bench.sizes",
    "QUICK": "bench.sizes",
    "TINY": "bench.sizes",
    "Sizes": "bench.sizes",
    "judge": "bench.report",
    "to_json": "bench.report",
    "run": "bench.runner",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'bench' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
