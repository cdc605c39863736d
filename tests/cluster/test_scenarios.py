"""Three replicas behind haproxy on one Redis, as the issue describes them: a mixed run through the
balancer with codes from the OTP inbox, a replica killed mid-run, a rolling restart, Redis stopped and
started, a replica frozen past its heartbeat, and nothing left running afterwards. The tests run in
this order on one cluster."""

from __future__ import annotations

import signal
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from guardian_bridge_fake.harness import FakeTenantClient
from tests.cluster.flows import Job, make_jobs, start, start_with_inbox, wait_all
from tests.cluster.harness import DRAIN_TIMEOUT_S, Cluster, marked_processes
from tests.processes import descendants

# Owner dead -> replica_lost, as the issue promises it (heartbeat TTL + one check).
REPLICA_LOST_WITHIN_S = 5.0
# Each scenario runs many enrollments and restarts processes: more than the suite's default per test.
pytestmark = pytest.mark.timeout(300)


def _assert_completed(job: Job, final: dict[str, Any]) -> None:
    what = f"{job.engine}/{job.flavour} {job.phone}"
    assert final.get("state") == "completed", f"{what}: {final.get('state')} {final.get('last_error')}"
    assert final["recovery_code"], what
    # The first code it got was its own: a code meant for another enrollment would have been refused.
    assert final["code_attempts"] == 1, f"{what}: {final['code_attempts']} code attempts"
    assert final["last_error"] is None, what


def _assert_tenant_enrolled_the_right_phone(cluster: Cluster, jobs: list[Job]) -> None:
    fakes = {flavour: FakeTenantClient(cluster.fake_url(flavour)) for flavour in ("classic", "universal")}
    try:
        for job in jobs:
            enrollments = fakes[job.flavour].enrollments(job.user_id)
            confirmed = [e for e in enrollments if e.get("status") == "confirmed"]
            assert [e["phone_number"] for e in confirmed] == [job.phone], f"{job.user_id}: {enrollments}"
    finally:
        for fake in fakes.values():
            fake.close()


def test_thirty_mixed_enrollments_through_the_balancer_all_complete_with_their_own_codes(
    cluster: Cluster,
) -> None:
    jobs = make_jobs(cluster, 30, first_phone=1000)
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda job: start_with_inbox(cluster, job), jobs))
    finals = wait_all(cluster, jobs)
    for job, final in zip(jobs, finals, strict=True):
        _assert_completed(job, final)
    _assert_tenant_enrolled_the_right_phone(cluster, jobs)
    # Round robin spread the work: every replica started some of them.
    assert {job.started_on for job in jobs} == {cluster.replica_id(i) for i in range(3)}
    with cluster.api() as api:
        listed = api.get("/v1/enrollments")
    assert listed.status_code == 200
    ids = {e["id"] for e in listed.json()["enrollments"]}
    assert {f["id"] for f in finals} <= ids, "the directory lists every replica's enrollments"


def _start_on(cluster: Cluster, index: int, jobs: list[Job]) -> list[dict[str, Any]]:
    """Starts each job on replica ``index`` itself (so its owner is known), up to awaiting_code."""
    started = []
    with cluster.api(cluster.replica_url(index)) as api:
        for job in jobs:
            response = start(api, job, "manual")
            assert response.status_code == 201, response.text
            assert response.headers["X-Bridge-Replica"] == cluster.replica_id(index)
            assert response.json()["state"] == "awaiting_code", response.text
            started.append(response.json())
    return started


def _submit_code(cluster: Cluster, job: Job) -> httpx.Response:
    fake = FakeTenantClient(cluster.fake_url(job.flavour))
    try:
        code = fake.latest_code(job.phone)
    finally:
        fake.close()
    with cluster.api() as api:
        return api.post(f"/v1/enrollments/{job.id}/code", json={"code": code})


def test_a_replica_killed_mid_run_loses_only_its_browser_enrollments(cluster: Cluster) -> None:
    jobs = make_jobs(cluster, 12, first_phone=2000)  # per replica: each engine x each flavour
    for index in range(3):
        mine = jobs[index * 4 : index * 4 + 4]
        for job, enrollment in zip(mine, _start_on(cluster, index, mine), strict=True):
            job.id = enrollment["id"]
    victim = cluster.replica(0)
    its_processes = descendants(victim.pid)
    assert its_processes, "the replica's browser should be running"

    victim.signal(signal.SIGKILL)
    killed_at = time.monotonic()
    assert victim.wait(10) is not None

    lost = [j for j in jobs[:4] if j.engine == "browser"]
    with cluster.api() as api:
        for job in lost:
            body: dict[str, Any] = {}
            while time.monotonic() - killed_at <= REPLICA_LOST_WITHIN_S:
                response = api.get(f"/v1/enrollments/{job.id}")
                body = response.json() if response.status_code == 200 else {}
                if body.get("state") == "failed":
                    break
                time.sleep(0.1)
            assert body.get("state") == "failed", f"not reported lost in time: {body}"
            assert body["last_error"]["code"] == "replica_lost"
        # Its steps are refused in words, and its event stream says so and ends.
        refused = api.post(f"/v1/enrollments/{lost[0].id}/code", json={"code": "123456"})
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "step_out_of_order"
        with api.stream("GET", f"/v1/enrollments/{lost[0].id}/events", timeout=10) as events:
            text = "".join(events.iter_text())
        assert "replica_lost" in text

    # Everything else completes: the victim's protocol enrollments on the replicas still alive.
    for job in [j for j in jobs if j not in lost]:
        response = _submit_code(cluster, job)
        assert response.status_code == 200, response.text
        assert response.json()["state"] == "completed", response.text
        assert response.headers["X-Bridge-Replica"] != cluster.replica_id(0)

    # The killed replica's Chromium went with it (Playwright's driver closes it when its parent dies).
    deadline = time.monotonic() + 15
    while (left := [pid for pid in its_processes if _alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"orphans of the killed replica: {left}"

    victim.end()
    cluster.start_replica(0)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_rolling_restart_during_a_run_fails_no_enrollment(cluster: Cluster) -> None:
    restarting = threading.Event()
    restarting.set()
    launched: list[tuple[Job, Future[None]]] = []
    exit_codes = []
    timeline: list[str] = []  # for the failure message: when each replica stopped and came back

    def restart_each() -> None:
        try:
            for index in range(3):
                process = cluster.replica(index)
                timeline.append(f"{datetime.now(UTC):%H:%M:%S.%f} SIGTERM {cluster.replica_id(index)}")
                process.signal(signal.SIGTERM)
                exit_codes.append(process.wait(DRAIN_TIMEOUT_S + 15))
                process.end()
                timeline.append(f"{datetime.now(UTC):%H:%M:%S.%f} exited {cluster.replica_id(index)}")
                cluster.start_replica(index)
                timeline.append(f"{datetime.now(UTC):%H:%M:%S.%f} ready {cluster.replica_id(index)}")
        finally:
            restarting.clear()

    with ThreadPoolExecutor(max_workers=4) as pool:
        restarter = threading.Thread(target=restart_each, name="rolling-restart")
        restarter.start()
        # New enrollments keep coming for as long as the restart lasts (bounded, in case it hangs).
        while (restarting.is_set() or len(launched) < 6) and len(launched) < 40:
            (job,) = make_jobs(cluster, 1, first_phone=3000, skip=len(launched))
            launched.append((job, pool.submit(start_with_inbox, cluster, job)))
            time.sleep(0.6)
        restarter.join(150)
        for _, future in launched:
            future.result(timeout=90)
    started = [job for job, _ in launched]
    finals = wait_all(cluster, started)

    assert exit_codes == [0, 0, 0], "a drained replica exits 0"
    for job, final in zip(started, finals, strict=True):
        when = f"on {job.started_on} at {final.get('created_at')}, last change {final.get('updated_at')}"
        assert final.get("state") == "completed", f"{final.get('last_error')} {when}; restarts: {timeline}"
        _assert_completed(job, final)
    _assert_tenant_enrolled_the_right_phone(cluster, started)


def test_redis_stopped_gives_clean_503s_then_recovers(cluster: Cluster) -> None:
    jobs = make_jobs(cluster, 5, first_phone=4000)
    cluster.stop_redis()
    try:
        for index in range(3):
            with cluster.api(cluster.replica_url(index)) as api:
                body = {"ticket_url": jobs[index].ticket_url, "phone_number": jobs[index].phone}
                for response in (api.post("/v1/enrollments", json=body), api.get("/v1/enrollments")):
                    assert response.status_code == 503, response.text
                    assert response.json()["error"]["code"] == "store_unavailable"
                    assert float(response.headers["Retry-After"]) > 0
                deadline = time.monotonic() + 10
                while (ready := api.get("/readyz")).status_code != 503 and time.monotonic() < deadline:
                    time.sleep(0.2)
                assert ready.status_code == 503
                assert ready.json()["error"]["code"] == "store_unavailable"
                # Alive all the same: the platform must not restart a replica for Redis's sake.
                assert api.get("/healthz").status_code == 200
    finally:
        cluster.start_redis()
    deadline = time.monotonic() + 30
    while not cluster.all_up_in_balancer() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert cluster.all_up_in_balancer(), f"replicas not ready again: {cluster.balancer_states()}"
    # Back: new enrollments of both engines complete through the balancer (a start refused while the
    # replicas reconnect is retried after its Retry-After).
    recovered = jobs[3:5]
    for job in recovered:
        start_with_inbox(cluster, job)
    for job, final in zip(recovered, wait_all(cluster, recovered), strict=True):
        _assert_completed(job, final)


def test_a_replica_stalled_past_its_heartbeat_sends_on_the_steps_of_what_was_adopted_meanwhile(
    cluster: Cluster,
) -> None:
    """A replica frozen past its heartbeat TTL has its protocol enrollments adopted by the next request
    elsewhere; woken up and asked for a step, it must send the step to the adopter instead of running it
    on its stale copy (which would fork the enrollment)."""
    jobs = make_jobs(cluster, 2, first_phone=5000, skip=2)  # protocol, Classic and Universal
    assert {job.engine for job in jobs} == {"protocol"}
    for job, enrollment in zip(jobs, _start_on(cluster, 0, jobs), strict=True):
        job.id = enrollment["id"]
    with cluster.api(cluster.replica_url(0)) as api:
        before = {job.id: api.get(f"/v1/enrollments/{job.id}/calls").json()["calls"] for job in jobs}
    assert all(before.values()), "the start captured the widget's calls"
    stalled = cluster.replica(0)
    stalled.signal(signal.SIGSTOP)
    try:
        # Read at once: the first read is forwarded to the frozen owner and answered once its heartbeat
        # has run out (by the reader, which adopts the enrollment); the second finds it gone already.
        with cluster.api(cluster.replica_url(1), timeout=30.0) as api:
            for job in jobs:
                read = api.get(f"/v1/enrollments/{job.id}")
                assert read.status_code == 200, read.text
                assert read.headers["X-Bridge-Replica"] == cluster.replica_id(1), "adopted by the reader"
                assert read.json()["state"] == "awaiting_code"
    finally:
        stalled.signal(signal.SIGCONT)
    for job in jobs:
        fake = FakeTenantClient(cluster.fake_url(job.flavour))
        try:
            code = fake.latest_code(job.phone)
        finally:
            fake.close()
        with cluster.api(cluster.replica_url(0)) as api:
            answer = api.post(f"/v1/enrollments/{job.id}/code", json={"code": code})
        assert answer.status_code == 200, answer.text
        assert answer.headers["X-Bridge-Replica"] == cluster.replica_id(1), "run by the adopter"
        _assert_completed(job, answer.json())
        # The calls captured before the move moved with it: one log, numbered on.
        with cluster.api() as api:
            calls = api.get(f"/v1/enrollments/{job.id}/calls").json()["calls"]
        assert calls[: len(before[job.id])] == before[job.id]
        assert len(calls) > len(before[job.id]), "the code step's calls, made by the adopter"
        assert [c["seq"] for c in calls] == list(range(1, len(calls) + 1))
    _assert_tenant_enrolled_the_right_phone(cluster, jobs)


def test_nothing_is_left_running_after_the_cluster_stops(cluster: Cluster) -> None:
    assert marked_processes(cluster.marker), "the cluster's processes carry the marker"
    assert cluster.stop() == []
    assert marked_processes(cluster.marker) == []
