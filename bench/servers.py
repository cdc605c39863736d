"""Starts the fake tenant and the bridge as child processes on loopback, and stops them.

Each runs in its own process, not on a thread of this one, so the load generator's threads never
compete with the bridge for the GIL, and the bridge's memory is its own process tree, not ours.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from bridge.serving import free_port

HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
TOKEN_ENV = "GUARDIAN_BENCH_TOKEN"  # noqa: S105  # the variable's name, not a secret


def child_env(marker_env: str, marker: str) -> dict[str, str]:
    """Our environment without ``BRIDGE_*`` (the bench passes every setting explicitly, so a
    developer's shell cannot change what is measured), plus this run's marker."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env[marker_env] = marker
    return env


class Service:
    """One server process: started with ``argv``, ready once ``probe`` answers 2xx."""

    def __init__(self, name: str, argv: list[str], probe: str, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.port = free_port(HOST)
        self.argv = [arg.replace("{port}", str(self.port)) for arg in argv]
        self.probe = probe
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None, "the service is not started"
        return self.proc.pid

    def start(self) -> Service:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        with httpx.Client(base_url=self.base_url, timeout=2.0) as client:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited at start-up; see {self.log}")
                try:
                    if client.get(self.probe).is_success:
                        return self
                except httpx.TransportError:
                    pass  # not listening yet
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"{self.name} did not answer {self.probe}; see {self.log}")
                time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM lets uvicorn run the lifespan shutdown (the bridge closes its browser there);
        SIGKILL only if that hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT_S)

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()


def fake_tenant(env: dict[str, str], log: Path) -> Service:
    argv = [sys.executable, "-m", "guardian_bridge_fake", "--host", HOST, "--port", "{port}"]
    return Service("fake tenant", argv, "/__test/state", env, log)


def bridge(
    env: dict[str, str], log: Path, token: str, chromium: str, artifacts: Path, tenant_port: int
) -> Service:
    """The bridge, allowed to open the fake tenant on ``tenant_port``; its bearer token travels in the
    environment, not the command line others can read."""
    argv = [sys.executable, "-m", "bench.bridge_app", "--port", "{port}"]
    argv += ["--chromium", chromium, "--artifacts", str(artifacts), "--tenant-port", str(tenant_port)]
    return Service("bridge", argv, "/healthz", {**env, TOKEN_ENV: token}, log)
