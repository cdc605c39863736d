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
    # The engines side by side: sequential runs per engine and flavour, and open protocol enrollments
    # for the memory figure (under the benchmark bridge's session limit).
    engine_runs: int = 20
    engine_open: int = 48
    # Throughput of each engine at these client counts (the figure is at 16); the protocol
    # engine's levels run at least this many enrollments (at thousands a minute, ``level_min_runs``
    # would be a fraction of a second, a few CPU ticks).
    engine_levels: tuple[int, ...] = (1, 4, 16)
    protocol_level_min_runs: int = 480
    # The cluster run: protocol enrollments through haproxy by this many clients, about
    # ``cluster_runs`` per replica count split over ``cluster_rounds`` alternating measurements, and
    # pairs of phone steps (one sent to the owner, one forwarded) for the forwarding overhead.
    cluster_clients: int = 8
    cluster_runs: int = 480
    cluster_rounds: int = 3
    forward_pairs: int = 40


FULL = Sizes("full", 30, (1, 4, 8, 16, 32), 24, 3, 16, 300, engine_runs=30, engine_open=48)
QUICK = Sizes(
    "quick",
    5,
    (1, 4, 8),
    6,
    2,
    16,
    20,
    engine_runs=8,
    engine_open=48,
    protocol_level_min_runs=160,
    cluster_runs=160,
    cluster_rounds=2,
    forward_pairs=20,
)
# For the smoke test: every code path once, nothing statistically meaningful.
TINY = Sizes(
    "tiny",
    1,
    (1,),
    1,
    1,
    2,
    2,
    engine_runs=1,
    engine_open=2,
    engine_levels=(1,),
    protocol_level_min_runs=1,
    cluster_clients=2,
    cluster_runs=4,
    cluster_rounds=1,
    forward_pairs=1,
)

BY_MODE: dict[Mode, Sizes] = {"full": FULL, "quick": QUICK, "tiny": TINY}
