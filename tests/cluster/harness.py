"""A bridge cluster on loopback for the scale-out tests: Debian's ``redis-server`` and ``haproxy``,
``guardian-bridge serve`` replicas and the fake tenant, each its own process (and process group), started
and ended by pid.

haproxy runs ``deploy/haproxy.cfg`` itself with loopback addresses put in, so the tests exercise the
balancer configuration that ships. The fake tenant runs once per widget flavour (a tenant's login
experience decides the flavour of every ticket page), both forwarding each SMS, signed, to the
balancer's ``/v1/otp-inbox``. Every process gets a marker variable in its environment, inherited by
Chromium, so anything left behind is found even after its parent is gone.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx

from bridge.serving import free_port

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "cluster-test-token"
INBOX_SECRET = "cluster-test-inbox-secret"
MARKER_ENV = "GUARDIAN_CLUSTER_TEST_RUN"
FLAVOURS = ("classic", "universal")
# Short heartbeats so a dead replica is noticed quickly (the default is 5 s), yet long enough that a
# replica starved of CPU for a moment on a loaded 2-core machine is not taken for dead. The drain is
# shorter than production's 30 s (a draining replica waits only as long as an enrollment is still open)
# but leaves room for a browser enrollment on a busy 2-core machine.
HEARTBEAT_TTL_S = 3
DRAIN_TIMEOUT_S = 20
START_TIMEOUT_S = 60.0


def _tool(name: str) -> str:
    # Debian installs haproxy in /usr/sbin, which a non-root PATH may leave out.
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    assert found, f"{name} not found: run scripts/dev setup (it installs redis-server and haproxy)"
    return found


class Process:
    """One child process in a process group of its own, with its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log: IO[bytes] = self.log_path.open("ab")
        self._ended = False
        self.popen = subprocess.Popen(
            argv, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True, cwd=log_dir
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, signum: int) -> None:
        """To the process alone (its own handler decides what its children get)."""
        if self.alive():
            os.kill(self.pid, signum)

    def wait(self, timeout: float) -> int | None:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def end(self, timeout: float = 20.0) -> None:
        """SIGTERM to the whole group this process leads, then SIGKILL to what is left of it."""
        if self._ended:
            return
        self._ended = True
        for signum in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signum)
            if self.wait(timeout) is not None:
                break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)  # stragglers of the group (the leader has exited)
        self._log.close()

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def marked_processes(marker: str) -> list[int]:
    """Live processes (not zombies) whose environment carries this run's marker."""
    found = []
    needle = f"{MARKER_ENV}={marker}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue  # gone meanwhile
        if state != "Z":
            found.append(int(entry.name))
    return found


def _wait_until(what: str, predicate: object, timeout: float, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(interval)


def _answers(url: str, status: int) -> bool:
    try:
        return httpx.get(url, timeout=2.0).status_code == status
    except httpx.HTTPError:
        return False


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Cluster:
    """Redis, ``replicas`` bridges, haproxy in front of them and the fake tenants; ``start()``/``stop()``."""

    def __init__(self, workdir: Path, replicas: int = 3) -> None:
        self.workdir = workdir
        self.marker = uuid.uuid4().hex
        self.redis_port = free_port()
        self.lb_port = free_port()
        self.replica_ports = [free_port() for _ in range(replicas)]
        self.fake_ports = {flavour: free_port() for flavour in FLAVOURS}
        self.redis: Process | None = None
        self.haproxy: Process | None = None
        self.replicas: list[Process | None] = [None] * replicas
        self.fakes: dict[str, Process] = {}
        self._stats_socket = workdir / "haproxy.sock"

    # --- addresses ---
    @property
    def lb_url(self) -> str:
        return f"http://127.0.0.1:{self.lb_port}"

    def replica_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.replica_ports[index]}"

    def replica_id(self, index: int) -> str:
        return f"replica-{index + 1}"

    def fake_url(self, flavour: str) -> str:
        return f"http://127.0.0.1:{self.fake_ports[flavour]}"

    def api(self, base_url: str | None = None, timeout: float = 30.0) -> httpx.Client:
        return httpx.Client(
            base_url=base_url or self.lb_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=timeout
        )

    # --- processes ---
    def _env(self, **extra: str) -> dict[str, str]:
        # The parent's own BRIDGE_* settings (a developer's shell) must not leak into the replicas.
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
        env[MARKER_ENV] = self.marker
        env.update(extra)
        return env

    def start(self) -> Cluster:
        self.start_redis()
        for flavour in FLAVOURS:
            self._start_fake(flavour)
        for index in range(len(self.replicas)):
            self.start_replica(index, wait=False)
        self._start_haproxy()
        for index in range(len(self.replicas)):
            self.wait_replica_ready(index)
        for flavour in FLAVOURS:
            _wait_until(f"fake {flavour}", lambda f=flavour: _listening(self.fake_ports[f]), START_TIMEOUT_S)
        _wait_until("every replica up in haproxy", self.all_up_in_balancer, START_TIMEOUT_S)
        return self

    def start_redis(self) -> None:
        argv = [_tool("redis-server"), "--port", str(self.redis_port), "--bind", "127.0.0.1"]
        # No persistence: a Redis that restarts comes back empty, the harsher case for the replicas.
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        self.redis = Process("redis", argv, self._env(), self.workdir)
        _wait_until("redis", self.redis_answers, START_TIMEOUT_S)

    def redis_answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop_redis(self) -> None:
        assert self.redis is not None
        self.redis.signal(signal.SIGTERM)
        assert self.redis.wait(15) is not None, "redis did not stop"
        self.redis.end()

    def _start_fake(self, flavour: str) -> None:
        argv = [sys.executable, "-m", "guardian_bridge_fake", "--port", str(self.fake_ports[flavour])]
        argv += ["--experience", flavour, "--sms-webhook", f"{self.lb_url}/v1/otp-inbox"]
        argv += ["--sms-webhook-secret", INBOX_SECRET]
        self.fakes[flavour] = Process(f"fake-{flavour}", argv, self._env(), self.workdir)

    def start_replica(self, index: int, wait: bool = True) -> None:
        env = self._env(
            BRIDGE_API_TOKENS=TOKEN,
            BRIDGE_OTP_INBOX_SECRET=INBOX_SECRET,
            BRIDGE_REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            BRIDGE_REPLICA_ID=self.replica_id(index),
            BRIDGE_ADVERTISE_URL=self.replica_url(index),
            BRIDGE_ALLOWED_HOSTS=",".join(f"127.0.0.1:{port}" for port in self.fake_ports.values()),
            BRIDGE_HEARTBEAT_TTL_S=str(HEARTBEAT_TTL_S),
            BRIDGE_DRAIN_TIMEOUT_S=str(DRAIN_TIMEOUT_S),
            BRIDGE_INBOX_WAIT_S="30",
            BRIDGE_CREATE_RATE_PER_MINUTE="10000",
            # Above what any scenario keeps open, so every start goes through the shared admission.
            BRIDGE_MAX_ENROLLMENTS_PER_TOKEN="64",
        )
        executable = str(Path(sys.executable).parent / "guardian-bridge")
        argv = [executable, "serve", "--host", "127.0.0.1", "--port", str(self.replica_ports[index])]
        argv += ["--log-level", "warning"]
        self.replicas[index] = Process(self.replica_id(index), argv, env, self.workdir)
        if wait:
            self.wait_replica_ready(index)
            _wait_until(f"{self.replica_id(index)} up in haproxy", self.all_up_in_balancer, START_TIMEOUT_S)

    def replica(self, index: int) -> Process:
        process = self.replicas[index]
        assert process is not None
        return process

    def wait_replica_ready(self, index: int) -> None:
        process = self.replica(index)

        def ready() -> bool:
            assert process.alive(), f"{process.name} exited:\n{process.tail()}"
            return _answers(f"{self.replica_url(index)}/readyz", 204)

        _wait_until(f"{process.name} ready", ready, START_TIMEOUT_S)

    def _haproxy_config(self) -> str:
        """deploy/haproxy.cfg with loopback addresses, and a stats socket for reading server states."""
        text = (ROOT / "deploy/haproxy.cfg").read_text()
        text = re.sub(r"(?m)^(\s*)bind :\d+$", rf"\1bind 127.0.0.1:{self.lb_port}", text)
        for index in range(len(self.replicas)):
            name = f"bridge-{index + 1}"
            pattern = rf"(?m)^(\s*)server {name} {name}:\d+"
            text, count = re.subn(pattern, rf"\1server {name} 127.0.0.1:{self.replica_ports[index]}", text)
            assert count == 1, f"deploy/haproxy.cfg has no server {name}"
        return text.replace("global\n", f"global\n    stats socket {self._stats_socket} mode 600\n", 1)

    def _start_haproxy(self) -> None:
        config = self.workdir / "haproxy.cfg"
        config.write_text(self._haproxy_config())
        argv = [_tool("haproxy"), "-db", "-f", str(config)]  # -db: in the foreground, not a daemon
        self.haproxy = Process("haproxy", argv, self._env(), self.workdir)
        _wait_until("haproxy", lambda: _listening(self.lb_port), START_TIMEOUT_S)

    def balancer_states(self) -> dict[str, str]:
        """Each server's state as haproxy sees it (UP, DOWN, ...), from its stats socket."""
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(2)
                s.connect(str(self._stats_socket))
                s.sendall(b"show stat\n")
                raw = b""
                while chunk := s.recv(65536):
                    raw += chunk
        except OSError:
            return {}
        lines = raw.decode().splitlines()
        header = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
        return {r["svname"]: r["status"] for r in rows if r["svname"].startswith("bridge-")}

    def all_up_in_balancer(self) -> bool:
        states = self.balancer_states()
        return len(states) == len(self.replicas) and all(s == "UP" for s in states.values())

    def stop(self) -> list[int]:
        """Ends every process this cluster started, by its group; returns any marked process left."""
        # Traffic first, then the replicas (whose drain hands protocol enrollments to the others, which
        # still talk to the fake tenant), then the tenant, then Redis.
        processes = [self.haproxy, *self.replicas, *self.fakes.values(), self.redis]
        for process in processes:
            if process is not None:
                process.end()
        leftovers: list[int] = []
        with contextlib.suppress(TimeoutError):
            _wait_until("no process left", lambda: not marked_processes(self.marker), 15, 0.2)
        leftovers = marked_processes(self.marker)
        for pid in leftovers:  # counted above; ended so one failure does not leak into the next test
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return leftovers


@contextlib.contextmanager
def running_cluster(workdir: Path, replicas: int = 3) -> Iterator[Cluster]:
    cluster = Cluster(workdir, replicas)
    try:
        yield cluster.start()
    finally:
        cluster.stop()
