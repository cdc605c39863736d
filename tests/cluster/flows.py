"""What a client of the cluster does: enrollments started through the balancer (or on one replica),
retried only where the bridge says a retry is safe (``Retry-After``), and followed to their end."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from guardian_bridge_fake.harness import FakeTenantClient
from tests.cluster.harness import Cluster

FINAL = ("completed", "failed", "cancelled", "expired")
# Refusals that promise nothing happened and say when to come back.
RETRYABLE = {(503, "draining"), (503, "store_unavailable"), (429, "session_limit"), (429, "rate_limited")}


@dataclass
class Job:
    """One enrollment to run: its ticket (on the fake of its flavour), engine and own phone number."""

    flavour: str
    engine: str
    phone: str
    user_id: str
    ticket_url: str
    refusals: list[str] = field(default_factory=list)  # retryable refusals met while starting
    id: str = ""  # the enrollment's id, once started
    started_on: str = ""  # the replica that answered the start


def make_jobs(cluster: Cluster, count: int, first_phone: int, skip: int = 0) -> list[Job]:
    """``count`` jobs cycling through Classic/Universal x browser/protocol (from position ``skip`` of
    the cycle), each with its own number (the OTP inbox matches a code to the enrollment waiting for
    that recipient)."""
    jobs = []
    fakes = {flavour: FakeTenantClient(cluster.fake_url(flavour)) for flavour in ("classic", "universal")}
    try:
        for n in range(skip, skip + count):
            flavour = ("classic", "universal")[n % 2]
            engine = ("browser", "protocol")[(n // 2) % 2]
            user_id = fakes[flavour].add_user()["user_id"]
            ticket = fakes[flavour].create_ticket(user_id)
            phone = f"+1415555{first_phone + n:04d}"
            jobs.append(Job(flavour, engine, phone, user_id, ticket["ticket_url"]))
    finally:
        for fake in fakes.values():
            fake.close()
    return jobs


def _error_code(response: httpx.Response) -> str | None:
    try:
        code: str = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code


def start(api: httpx.Client, job: Job, code_source: str, deadline_s: float = 60.0) -> httpx.Response:
    """POST /v1/enrollments with the phone, retrying a refusal that carries ``Retry-After``."""
    body = {"ticket_url": job.ticket_url, "phone_number": job.phone, "engine": job.engine}
    body["code_source"] = code_source
    deadline = time.monotonic() + deadline_s
    while True:
        response = api.post("/v1/enrollments", json=body)
        code = _error_code(response)
        retryable = (response.status_code, code) in RETRYABLE and "Retry-After" in response.headers
        if not retryable or time.monotonic() > deadline:
            return response
        job.refusals.append(f"{response.status_code} {code}")
        time.sleep(min(float(response.headers["Retry-After"]), 2.0))


def wait_all(cluster: Cluster, jobs: list[Job], timeout: float = 60.0) -> list[dict[str, Any]]:
    """Polls every job's enrollment through the balancer until each has ended or ``timeout`` passed;
    returns the last record read of each, in order."""
    latest: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    with cluster.api(timeout=10.0) as api:
        while time.monotonic() < deadline:
            pending = [j for j in jobs if latest.get(j.id, {}).get("state") not in FINAL]
            if not pending:
                break
            for job in pending:
                try:
                    response = api.get(f"/v1/enrollments/{job.id}")
                except httpx.TransportError:
                    continue  # a replica going away mid-request: asked again next round
                if response.status_code == 200:
                    latest[job.id] = response.json()
            time.sleep(0.2)
    return [latest.get(job.id, {"id": job.id, "state": None}) for job in jobs]


def start_with_inbox(cluster: Cluster, job: Job) -> None:
    """Starts ``job`` through the balancer; the fake's SMS hook posts its code to the inbox."""
    with cluster.api() as api:
        response = start(api, job, "inbox")
    assert response.status_code == 201, f"{job.engine}/{job.flavour}: {response.text}"
    job.id = response.json()["id"]
    job.started_on = response.headers["X-Bridge-Replica"]
