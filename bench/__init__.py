"""guardian-bridge benchmarks: the bridge against a hand-written Playwright script, under load, over time.

Run ``python -m bench [--quick] [--json] [--out FILE] [--plot FILE]`` from the repository root; see
``bench/README.md`` for what each figure means and the latest results.
"""

from bench.report import judge, to_json
from bench.runner import run
from bench.sizes import FULL, QUICK, TINY, Sizes

__all__ = ["FULL", "QUICK", "TINY", "Sizes", "judge", "run", "to_json"]
