"""Starts the cluster the bench measures, on loopback, and stops every process of it by pid, even when a
measurement fails: ``redis-server`` without persistence, the fake tenant (as the rest of the bench
starts it), two ``guardian-bridge serve`` replicas in cluster mode sharing that Redis, and one haproxy
with two front ends, one balancing over replica 1 alone and one over both, so the one- and two-replica
figures go through the same balancer. Redis, haproxy and each replica lead a process group of their
own, which goes with them (a replica's Chromium too).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import httpx

from bench import bridge_app, servers
from bridge.serving import free_port

HOST = servers.HOST
NOT_INSTALLED = "skipped: redis-server/haproxy not installed"
START_TIMEOUT_S = servers.STARTUP_TIMEOUT_S
STOP_TIMEOUT_S = servers.STOP_TIMEOUT_S
REPLICA = "X-Bridge-Replica"  # every answer in cluster mode names the replica that served it

Log = Callable[[str], None]


def tool(name: str) -> str | None:
    # Debian installs haproxy in /usr/sbin, which a non-root PATH may leave out.
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")


class Child:
    """One child process leading a process group of its own (a replica's Chromium goes with it)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.log = name, log
        self._out: IO[bytes] = log.open("ab")
        self.proc = subprocess.Popen(
            argv,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def terminate(self) -> None:
        """SIGTERM to the leader alone: a replica drains and closes its own browser."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)

    def stop(self) -> None:
        """Waits for a SIGTERM sent before (or sends one), then SIGKILLs whatever is left of the group."""
        self.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(STOP_TIMEOUT_S)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(STOP_TIMEOUT_S)
        self._out.close()

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _wait_until(what: str, ready: Callable[[], bool], timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _status(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=2.0, trust_env=False).status_code
    except httpx.HTTPError:
        return None


def haproxy_config(one_port: int, two_port: int, replica_ports: list[int]) -> str:
    """Two front ends: ``one`` balances over replica 1 alone, ``two`` over both (round robin, no
    stickiness, as deploy/haproxy.cfg). A server is taken out after three failed /readyz checks, not
    one, so a replica slow to answer under full load is not mistaken for a draining one."""
    servers_of = {
        "one": replica_ports[:1],
        "two": replica_ports,
    }
    lines = [
        "global",
        "    maxconn 2048",
        "defaults",
        "    mode http",
        "    timeout connect 2s",
        "    timeout client 60s",
        "    timeout server 60s",
        "    timeout check 5s",
        "    retries 3",
        "    option redispatch",
    ]
    for name, port in (("one", one_port), ("two", two_port)):
        lines += [f"frontend {name}", f"    bind {HOST}:{port}", f"    default_backend {name}"]
    for name, ports in servers_of.items():
        lines += [
            f"backend {name}",
            "    balance roundrobin",
            "    option httpchk GET /readyz",
            "    http-check expect status 204",
            "    default-server inter 1s fall 3 rise 1",
        ]
        lines += [f"    server bridge-{i + 1} {HOST}:{p} check" for i, p in enumerate(ports)]
    return "\n".join(lines) + "\n"


class Cluster:
    """Redis, the fake tenant, two replicas and haproxy; ``start()`` then ``stop()`` (always)."""

    def __init__(self, env: dict[str, str], token: str, chromium: str, workdir: Path) -> None:
        self.env, self.token, self.chromium, self.workdir = env, token, chromium, workdir
        self.redis_port = free_port(HOST)
        self.replica_ports = [free_port(HOST), free_port(HOST)]
        self.lb_ports = {1: free_port(HOST), 2: free_port(HOST)}
        self.children: list[Child] = []
        self.replicas: list[Child] = []
        self.fake: servers.Service | None = None

    def lb_url(self, replicas: int) -> str:
        return f"http://{HOST}:{self.lb_ports[replicas]}"

    def replica_url(self, index: int) -> str:
        return f"http://{HOST}:{self.replica_ports[index]}"

    @staticmethod
    def replica_id(index: int) -> str:
        return f"bench-replica-{index + 1}"

    @property
    def fake_url(self) -> str:
        assert self.fake is not None
        return self.fake.base_url

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Child:
        child = Child(name, argv, env or self.env, self.workdir / f"{name}.log")
        self.children.append(child)
        return child

    def start(self, redis_server: str, haproxy: str) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        argv = [redis_server, "--port", str(self.redis_port), "--bind", HOST]
        # No persistence: nothing is written, nothing is read back from an earlier run.
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        self._spawn("redis", argv)
        _wait_until("redis-server", lambda: _redis_answers(self.redis_port))
        self.fake = servers.fake_tenant(self.env, self.workdir / "fake.log").start()
        for index in range(len(self.replica_ports)):
            self.replicas.append(self._start_replica(index))
        for index, replica in enumerate(self.replicas):

            def ready(i: int = index, r: Child = replica) -> bool:
                if not r.alive():
                    raise RuntimeError(f"{r.name} exited at start-up:\n{r.tail()}")
                return _status(f"{self.replica_url(i)}/readyz") == 204

            _wait_until(f"{replica.name} ready", ready)
        config = self.workdir / "haproxy.cfg"
        config.write_text(haproxy_config(self.lb_ports[1], self.lb_ports[2], self.replica_ports))
        self._spawn("haproxy", [haproxy, "-db", "-f", str(config)])  # -db: foreground
        # Both replicas answer through the two-replica front end once haproxy counts them in.
        _wait_until("both replicas behind haproxy", lambda: self._served_by(2) == {0, 1})

    def _start_replica(self, index: int) -> Child:
        """``guardian-bridge serve`` configured by environment, as a deployment runs it, with the settings
        of ``bench.bridge_app`` (the single bridge of the rest of the bench) plus cluster mode; the start
        limit over all tokens is lifted like the per-token one (the load generator is one token)."""
        assert self.fake is not None
        env = {
            **self.env,
            "BRIDGE_API_TOKENS": self.token,
            "BRIDGE_ALLOWED_HOSTS": f"{HOST}:{self.fake.port}",
            "BRIDGE_MAX_ENROLLMENTS": str(bridge_app.MAX_ENROLLMENTS),
            "BRIDGE_BROWSER_EXECUTABLE": self.chromium,
            "BRIDGE_ARTIFACTS_DIR": str(self.workdir / f"artifacts-{index + 1}"),
            "BRIDGE_CREATE_RATE_PER_MINUTE": "1000000",
            "BRIDGE_CREATE_RATE_PER_MINUTE_TOTAL": "1000000",
            "BRIDGE_REDIS_URL": f"redis://{HOST}:{self.redis_port}/0",
            "BRIDGE_REPLICA_ID": self.replica_id(index),
            "BRIDGE_ADVERTISE_URL": self.replica_url(index),
        }
        executable = str(Path(sys.executable).parent / "guardian-bridge")
        argv = [executable, "serve", "--host", HOST, "--port", str(self.replica_ports[index])]
        return self._spawn(self.replica_id(index), [*argv, "--log-level", "warning"], env)

    def _served_by(self, replicas: int) -> set[int]:
        seen: set[int] = set()
        try:
            with httpx.Client(base_url=self.lb_url(replicas), timeout=2.0, trust_env=False) as http:
                for _ in range(4):
                    name = http.get("/healthz").headers.get(REPLICA, "")
                    seen |= {i for i in range(len(self.replica_ports)) if name == self.replica_id(i)}
        except httpx.HTTPError:
            pass
        return seen

    def pids(self) -> list[int]:
        return [r.pid for r in self.replicas]

    def stop(self) -> None:
        """Traffic first, then the replicas together (each drains on SIGTERM), then the tenant and Redis."""
        haproxy = [c for c in self.children if c.name == "haproxy"]
        rest = [c for c in self.children if c.name not in {"haproxy", "redis"}]
        redis = [c for c in self.children if c.name == "redis"]
        for child in (*haproxy, *rest):
            child.terminate()
        for child in (*haproxy, *rest):
            child.stop()
        if self.fake is not None:
            self.fake.stop()
        for child in redis:
            child.stop()

    def tails(self) -> str:
        return "\n".join(f"--- {c.name}:\n{c.tail()}" for c in self.children)


@contextlib.contextmanager
def running(env: dict[str, str], token: str, chromium: str, workdir: Path, log: Log) -> Iterator[Cluster]:
    redis_server, haproxy = tool("redis-server"), tool("haproxy")
    if redis_server is None or haproxy is None:
        raise FileNotFoundError(NOT_INSTALLED)
    cluster = Cluster(env, token, chromium, workdir)
    try:
        cluster.start(redis_server, haproxy)
        yield cluster
    except Exception:
        log(f"cluster run failed; last lines of its logs:\n{cluster.tails()}")
        raise
    finally:
        cluster.stop()
