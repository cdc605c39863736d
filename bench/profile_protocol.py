"""``python -m bench.profile_protocol``: where the bridge's CPU goes in a protocol enrollment.

Starts the fake tenant and the bridge (the benchmark's settings) as child processes on loopback, runs
``--runs`` sequential protocol enrollments through the HTTP API, and reports the bridge server
process's CPU per enrollment (utime + stime from ``/proc``, so a loaded machine's waiting is not
counted) next to the bare httpx script's wall time. With ``--profile FILE`` the bridge runs under
cProfile and writes its statistics there (read them with ``python -m pstats FILE``); profiling
inflates the CPU figure, so compare profiled runs only with profiled runs.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import secrets
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bench import engines, servers
from bench.bridge_app import settings
from bench.procs import all_procs
from bench.stats import median
from bench.through_bridge import Flavour, Phones, api_client, enroll
from bridge.api import create_app
from bridge.browser_binary import find_chromium
from guardian_bridge_fake.harness import FakeTenantClient

WARMUP = 5


def _serve(args: argparse.Namespace) -> None:
    """The bridge in this process, optionally under cProfile."""
    app = create_app(settings(args.chromium, args.artifacts, os.environ[servers.TOKEN_ENV], args.tenant_port))
    config = uvicorn.Config(app, host=servers.HOST, port=args.port, log_level="warning")
    server = uvicorn.Server(config)
    if args.profile is None:
        server.run()
        return
    # CPU time, not wall time: on a loaded machine wall time charges preemption to whatever ran.
    profiler = cProfile.Profile(time.process_time)
    out = args.profile

    def stop(*_: object) -> None:
        profiler.disable()
        profiler.dump_stats(out)

    # Profiling runs from SIGUSR1 (after the warm-up) to SIGUSR2, so start-up and warm-up are left
    # out (uvicorn re-raises SIGTERM after its shutdown, so a ``finally`` would never run).
    signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
    signal.signal(signal.SIGUSR2, stop)
    server.run()


def _cpu_s(pid: int) -> float:
    return all_procs()[pid].cpu_s


def _measure(args: argparse.Namespace) -> dict[str, Any]:
    chromium = find_chromium()
    if chromium is None:
        raise RuntimeError("no Chromium found: run scripts/dev setup")
    token = secrets.token_urlsafe(16)
    flavour: Flavour = args.flavour
    with tempfile.TemporaryDirectory(prefix="guardian-profile-") as tmp:
        env = servers.child_env("GUARDIAN_PROFILE_RUN", "1")
        fake_tenant = servers.fake_tenant(env, Path(tmp, "f.log"))  # its port is chosen here
        argv = [sys.executable, "-m", "bench.profile_protocol", "serve", "--port", "{port}"]
        argv += ["--chromium", chromium, "--artifacts", tmp, "--tenant-port", str(fake_tenant.port)]
        if args.profile:
            argv += ["--profile", str(Path(args.profile).resolve())]
        bridge = servers.Service(
            "bridge", argv, "/healthz", {**env, servers.TOKEN_ENV: token}, Path(tmp, "b.log")
        )
        with fake_tenant as fake_svc, bridge:
            fake = FakeTenantClient(fake_svc.base_url)
            fake.set_experience(flavour)
            phones = Phones()
            with api_client(bridge.base_url, token) as api, httpx.Client(trust_env=False, timeout=30) as http:

                def via() -> float:
                    return enroll(
                        api, fake, fake.create_ticket()["ticket_url"], phones.take(), "protocol"
                    ).total

                def bare() -> float:
                    ticket = fake.create_ticket()["ticket_url"]
                    return engines.bare_enroll(http, fake, flavour, ticket, phones.take())

                for _ in range(WARMUP):
                    via()
                    bare()
                if args.profile:
                    os.kill(bridge.pid, signal.SIGUSR1)
                walls, floors = [], []
                spent = 0.0
                for _ in range(args.runs):
                    before = _cpu_s(bridge.pid)
                    walls.append(via())
                    spent += _cpu_s(bridge.pid) - before
                    floors.append(bare())
                if args.profile:
                    os.kill(bridge.pid, signal.SIGUSR2)
                    time.sleep(2.0)  # the stats are written by the bridge's signal handler
                # The HTTP layer alone: a read of one enrollment (auth, routing, the Enrollment
                # view) and the health probe, so the per-request share of the figure above shows.
                enrollment_id = api.get("/v1/enrollments").json()["enrollments"][-1]["id"]
                before = _cpu_s(bridge.pid)
                for _ in range(args.runs * 3):
                    api.get(f"/v1/enrollments/{enrollment_id}").raise_for_status()
                read_ms = (_cpu_s(bridge.pid) - before) * 1000 / (args.runs * 3)
            load = os.getloadavg()[0]
    return {
        "server_cpu_ms_per_enrollment_read": read_ms,
        "flavour": flavour,
        "runs": args.runs,
        "server_cpu_ms_per_enrollment": spent * 1000 / args.runs,
        "protocol_p50_ms": median(walls),
        "bare_p50_ms": median(floors),
        "load_average_1m": load,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_protocol", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="(internal) the bridge process")
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument("--chromium", required=True)
    serve.add_argument("--artifacts", type=Path, required=True)
    serve.add_argument("--tenant-port", type=int, required=True)
    serve.add_argument("--profile")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--flavour", choices=("classic", "universal"), default="classic")
    parser.add_argument("--profile", help="run the bridge under cProfile and write its stats here")
    args = parser.parse_args(argv)
    if args.command == "serve":
        _serve(args)
        return 0
    t0 = time.perf_counter()
    result = _measure(args)
    result["wall_s"] = round(time.perf_counter() - t0, 1)
    print(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
