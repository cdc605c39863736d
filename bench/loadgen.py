"""The closed-loop load generator: clients spread over worker processes, each client a thread of one.

One process of Python threads cannot load the bridge on this machine: at 16 clients its threads spent
about twice the bridge's CPU per enrollment, most of it the interpreter handing the GIL around between
threads that all wake for short bursts of HTTP parsing. Here the clients are split over a few worker
processes (a handful of threads each), each a fresh, small interpreter without this process's heap
and Playwright threads, and each client speaks HTTP through
``bench.light_client`` (the standard library's kept-alive connection, a sixth of httpx's CPU a request)
with connections of its own for the whole level. The clock starts once every client is logged in.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from bench.light_client import Fake, KeepAlive, RequestFailed, enroll
from bench.through_bridge import EnrollmentFailed, Phone

# At most this many worker processes; more only add interpreters competing for the same 2 cores.
MAX_WORKERS = 4
# Failures a run may end with here (no Playwright in a worker); anything else is a bug and propagates.
RUN_FAILURES = (EnrollmentFailed, RequestFailed, OSError, http.client.HTTPException)
_GO = "go"


@dataclass(frozen=True)
class Job:
    """One worker's share of a level: a list of phone numbers per client, one per enrollment."""

    bridge_url: str
    token: str
    fake_url: str
    engine: str | None
    phones: list[list[Phone]]
    timeout_s: float


@dataclass
class Outcome:
    """What one worker reports: each completed enrollment's wall ms, the failures, and its own CPU
    seconds (all its threads) from the start signal to the last enrollment."""

    durations_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    cpu_s: float = 0.0
    error: str | None = None  # the worker could not get its clients ready


def split(clients: int, workers: int) -> list[int]:
    """``clients`` over ``workers`` as evenly as possible: split(16, 4) == [4, 4, 4, 4]."""
    base, extra = divmod(clients, workers)
    return [base + (1 if i < extra else 0) for i in range(workers)]


def workers_for(clients: int) -> int:
    return max(1, min(clients, MAX_WORKERS))


def _run_job(job: Job, conn: Connection) -> None:
    """In the worker: log every client in, report ready, wait for the start signal, run, report.

    The clients wait for the parent's signal, not only for each other: the parent starts its clock
    when every worker is ready, and no enrollment may run before that."""
    outcome = Outcome()
    lock = threading.Lock()
    ready = threading.Barrier(len(job.phones) + 1, timeout=job.timeout_s)
    start, off = threading.Event(), threading.Event()

    def client(numbers: list[Phone]) -> None:
        api = KeepAlive(job.bridge_url, {"Authorization": f"Bearer {job.token}"})
        fake = Fake(job.fake_url)
        try:
            try:
                fake.login()  # before the clock starts, like a client's login
            except RUN_FAILURES as exc:
                outcome.error = f"{type(exc).__name__}: {str(exc)[:200]}"
                ready.abort()  # release the others now instead of at the barrier's timeout
                return
            try:
                ready.wait()
            except threading.BrokenBarrierError:
                return  # another client of this worker could not log in: the level is off
            start.wait()
            if off.is_set():
                return
            for phone in numbers:
                try:
                    ms = enroll(api, fake, fake.create_ticket(), phone, job.engine)
                except RUN_FAILURES as exc:
                    with lock:
                        outcome.failures.append(f"{type(exc).__name__}: {str(exc)[:200]}")
                    continue
                with lock:
                    outcome.durations_ms.append(ms)
        finally:
            fake.close()
            api.close()

    threads = [threading.Thread(target=client, args=(numbers,), daemon=True) for numbers in job.phones]
    for thread in threads:
        thread.start()
    try:
        ready.wait()  # every client of this worker is logged in and waiting for ``start``
    except threading.BrokenBarrierError:
        for thread in threads:
            thread.join()
        conn.send(Outcome(error=outcome.error or "a client did not get ready"))
        return
    conn.send("ready")
    if conn.recv() != _GO:
        off.set()  # another worker failed: the level is called off
    cpu0 = time.process_time()
    start.set()
    for thread in threads:
        thread.join()
    if off.is_set():
        return
    outcome.cpu_s = time.process_time() - cpu0
    conn.send(outcome)


def _worker_main(fd: int) -> int:
    """A worker process's entry point (``python -m bench.loadgen FD``): one job, then exit."""
    conn = Connection(fd)
    try:
        _run_job(conn.recv(), conn)
    finally:
        conn.close()
    return 0


class Workers:
    """The worker processes of one level, started by ``with``, which returns once every client is
    logged in; each is a plain child process ended by its own handle, talking over a socket pair."""

    def __init__(self, jobs: Sequence[Job], timeout_s: float, level_timeout_s: float) -> None:
        self._jobs = list(jobs)
        self._timeout_s = timeout_s
        self._level_timeout_s = level_timeout_s
        self._conns: list[Connection] = []
        self._procs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Workers:
        try:
            for job in self._jobs:
                ours, theirs = socket.socketpair()
                with theirs:
                    fd = theirs.fileno()
                    argv = [sys.executable, "-m", "bench.loadgen", str(fd)]
                    self._procs.append(subprocess.Popen(argv, pass_fds=(fd,), stdin=subprocess.DEVNULL))
                self._conns.append(Connection(ours.detach()))
                self._conns[-1].send(job)
            for conn in self._conns:
                answer = self._recv(conn)
                if answer != "ready":
                    error = answer.error if isinstance(answer, Outcome) else repr(answer)
                    raise RuntimeError(f"a load generator worker did not get ready: {error}")
        except BaseException:
            self.__exit__()
            raise
        return self

    def _recv(self, conn: Connection, timeout_s: float | None = None) -> Any:
        timeout_s = self._timeout_s if timeout_s is None else timeout_s
        if not conn.poll(timeout_s):
            raise RuntimeError(f"a load generator worker did not answer within {timeout_s} s")
        return conn.recv()

    def go(self) -> None:
        for conn in self._conns:
            conn.send(_GO)

    def results(self) -> list[Outcome]:
        return [self._recv(conn, self._level_timeout_s) for conn in self._conns]

    def __exit__(self, *_: object) -> None:
        for conn in self._conns:
            # A worker still waiting for the start signal gives up; a finished one closed its end.
            with contextlib.suppress(OSError):
                conn.send("stop")
            conn.close()
        for proc in self._procs:
            try:
                proc.wait(self._timeout_s)
            except subprocess.TimeoutExpired:  # stuck: ours, started above, ended by its own handle
                proc.kill()
                proc.wait()


def jobs_for(
    bridge_url: str,
    token: str,
    fake_url: str,
    engine: str | None,
    phones: list[list[Phone]],
    timeout_s: float,
) -> list[Job]:
    """The clients' phone lists dealt to ``workers_for(len(phones))`` workers."""
    jobs = []
    at = 0
    for count in split(len(phones), workers_for(len(phones))):
        jobs.append(Job(bridge_url, token, fake_url, engine, phones[at : at + count], timeout_s))
        at += count
    return jobs


if __name__ == "__main__":
    # Through the package's module, not ``__main__``: what a worker pickles must unpickle in the parent
    # as ``bench.loadgen``'s classes.
    from bench import loadgen

    raise SystemExit(loadgen._worker_main(int(sys.argv[1])))
