"""How much each measurement does in the full, quick and tiny runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["full", "quick", "tiny"]


@dataclass(frozen=True)
class Sizes:
    mode: Mode
    # A/B pairs per flavour (bridge run + hand-written run, order alternating), after one warm-up each.
    overhead_pairs: int
    concurrency_levels: tuple[int, ...]
    # Each level runs at least ``level_min_runs`` enrollments and every client at least ``min_rounds``.
    level_min_runs: int
    min_rounds: int
    # Open, idle enrollments held for the memory figure (the target is stated at 16).
    open_enrollments: int
    soak_runs: int


FULL = Sizes("full", 30, (1, 4, 8, 16, 32), 24, 3, 16, 300)
QUICK = Sizes("quick", 5, (1, 4, 8), 6, 2, 16, 20)
# For the smoke test: every code path once, nothing statistically meaningful.
TINY = Sizes("tiny", 1, (1,), 1, 1, 2, 2)

BY_MODE: dict[Mode, Sizes] = {"full": FULL, "quick": QUICK, "tiny": TINY}
