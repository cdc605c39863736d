"""The two engines side by side on the same fake and bridge, and the floor: a bare httpx script.

Per flavour: enrollment p50 on each engine and for the bare script (the same tenant calls a client of
Auth0's protocol has to make, with nothing around them), the bridge process tree's CPU per protocol
enrollment, the bridge's memory per open protocol enrollment, and throughput at 1, 4 and 16 clients on
each engine. The top-level keys the README and the issue name are derived at the end.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import Any

import httpx

from bench import concurrency, cpu
from bench.overhead import RUN_FAILURES
from bench.procs import pss_mib
from bench.sizes import Sizes
from bench.stats import median, ratio
from bench.through_bridge import (
    FLAVOURS,
    EnrollmentFailed,
    Flavour,
    Phone,
    Phones,
    cancel,
    enroll,
    open_idle,
)
from guardian_bridge_fake.harness import FakeTenantClient

ENGINES = ("browser", "protocol")
SETTLE_S = 1.0

_STATE = re.compile(r'name="state" value="([^"]+)"')
_MFA_SERVER = re.compile(r'"mfaServerUrl": "([^"]+)"')
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def bare_enroll(
    http: httpx.Client, fake: FakeTenantClient, flavour: Flavour, ticket_url: str, phone: Phone
) -> float:
    """The floor: the calls the protocol engine makes, written out for the fake's pages (regular
    expressions are fine here: this script knows exactly which page it gets). ``http`` is kept across
    runs, as the engine keeps its connection pool; its cookies are not. Returns wall ms.

    The same requests as the engine, no more and no fewer: Classic's ticket page, start-flow,
    sms-enroll and verify-otp (no transaction-state polling: the engine does not poll either);
    Universal Login's redeem page, its form post and the three screens' posts, redirects included."""
    http.cookies.clear()
    t0 = time.perf_counter()
    page = http.get(ticket_url)
    if flavour == "classic":
        match = _MFA_SERVER.search(page.text)
        if match is None:
            raise EnrollmentFailed("bare script: no Guardian address on the Classic page")
        api = match.group(1).rstrip("/") + "/api/"
        ticket = ticket_url.rsplit("ticket=", 1)[1]
        flow = http.post(
            api + "start-flow",
            json={"state_transport": "polling"},
            headers={"Authorization": f'Ticket id="{ticket}"'},
        ).json()
        bearer = {"Authorization": f"Bearer {flow['transaction_token']}"}
        account = flow["device_account"]["id"]
        http.post(
            f"{api}device-accounts/{account}/sms-enroll",
            json={"phone_number": phone.e164},
            headers=bearer,
        )
        code = fake.latest_code(phone.e164)
        done = http.post(api + "verify-otp", json={"type": "manual_input", "code": code}, headers=bearer)
        if done.status_code != 204:
            raise EnrollmentFailed(f"bare script: verify-otp answered {done.status_code}")
    else:
        # The redeem page's form (its hidden fields) posted back, as the engine and a browser do.
        form = dict(_HIDDEN.findall(page.text))
        if not form:
            raise EnrollmentFailed(f"bare script: no form on the redeem page (HTTP {page.status_code})")
        page = http.post(ticket_url, data=form, follow_redirects=True)
        state = _STATE.search(page.text)
        if state is None:
            raise EnrollmentFailed(f"bare script: no state on the phone screen (HTTP {page.status_code})")
        form = {"state": state.group(1), "action": "default"}
        page = http.post(str(page.url), data={**form, "phone": phone.national}, follow_redirects=True)
        code = fake.latest_code(phone.e164)
        page = http.post(str(page.url), data={**form, "code": code}, follow_redirects=True)
        page = http.post(str(page.url), data={**form, "saved": "on"}, follow_redirects=True)
        if "All Set" not in page.text:
            raise EnrollmentFailed(f"bare script: no result screen (HTTP {page.status_code})")
    return (time.perf_counter() - t0) * 1000


def _samples(fn: Any, runs: int, failures: list[str]) -> list[float]:
    out = []
    for _ in range(runs):
        try:
            out.append(fn())
        except RUN_FAILURES as exc:
            failures.append(f"{type(exc).__name__}: {str(exc)[:200]}")
    return out


def latency(
    api: httpx.Client, fake: FakeTenantClient, phones: Phones, runs: int, pids: tuple[int, int]
) -> dict[str, Any]:
    """p50 per flavour for each engine and the bare script, and CPU per protocol enrollment."""
    out: dict[str, Any] = {}
    for flavour in FLAVOURS:
        fake.set_experience(flavour)
        with httpx.Client(trust_env=False, timeout=30) as http:
            out[flavour] = _flavour_latency(api, http, fake, phones, flavour, runs, pids)
    return out


def _flavour_latency(
    api: httpx.Client,
    http: httpx.Client,
    fake: FakeTenantClient,
    phones: Phones,
    flavour: Flavour,
    runs: int,
    pids: tuple[int, int],
) -> dict[str, Any]:
    failures: list[str] = []

    def via(engine: str) -> float:
        return enroll(api, fake, fake.create_ticket()["ticket_url"], phones.take(), engine=engine).total

    def bare() -> float:
        return bare_enroll(http, fake, flavour, fake.create_ticket()["ticket_url"], phones.take())

    if runs > 1:  # warm-ups are not counted; a one-run (smoke) measurement skips them
        for warm in (lambda: via("browser"), lambda: via("protocol"), bare):
            _samples(warm, 1, failures)
    browser = _samples(lambda: via("browser"), runs, failures)
    # The browser runs' renderers exit a moment after their contexts close, and a reaped child's CPU
    # lands in its parent's total then: let that happen before the protocol runs are counted.
    time.sleep(SETTLE_S)
    protocol: list[float] = []
    floor: list[float] = []
    server_s = tree_s = 0.0
    for i in range(runs):
        # Alternated, so the machine's load drifts onto both sides alike; the bridge's CPU is read
        # around each protocol enrollment only (the bare script never reaches the bridge).
        if i % 2:
            floor += _samples(bare, 1, failures)
        before = cpu.by_role(*pids)
        protocol += _samples(lambda: via("protocol"), 1, failures)
        spent = cpu.delta(before, cpu.by_role(*pids))
        server_s += spent["server"]
        tree_s += spent["server"] + spent["driver"] + spent["browser"]
        if not i % 2:
            floor += _samples(bare, 1, failures)
    return {
        "browser_p50_ms": median(browser),
        "protocol_p50_ms": median(protocol),
        "bare_p50_ms": median(floor),
        "protocol_overhead_ratio": ratio(median(protocol), median(floor)),
        # The protocol engine runs in the server process alone ("the bridge process" of the issue);
        # the tree adds the idle driver's and browser's ticks in the same windows.
        "protocol_cpu_ms_per_enrollment": ratio(server_s * 1000, len(protocol)),
        "protocol_tree_cpu_ms_per_enrollment": ratio(tree_s * 1000, len(protocol)),
        "failures": failures[:5],
    }


def memory(
    api: httpx.Client, fake: FakeTenantClient, phones: Phones, bridge_pid: int, count: int
) -> dict[str, Any]:
    """PSS of the bridge's server process with ``count`` protocol enrollments open on the code screen.

    Only the server: a protocol enrollment holds nothing in the browser, whose processes' own PSS moves
    by more than these enrollments weigh."""
    fake.set_experience("classic")
    time.sleep(SETTLE_S)
    idle = pss_mib([bridge_pid])
    opened: list[str] = []
    try:
        for _ in range(count):
            opened.append(open_idle(api, fake, phones.take(), engine="protocol"))
        time.sleep(SETTLE_S)
        loaded = pss_mib([bridge_pid])
    finally:
        for enrollment_id in opened:
            cancel(api, enrollment_id)
    return {
        "open": count,
        "idle_server_mib": idle,
        "loaded_server_mib": loaded,
        "kib_per_enrollment": ratio((loaded - idle) * 1024, count),
    }


def throughput(target: concurrency.Target, phones: Phones, sizes: Sizes) -> dict[str, Any]:
    """Completed enrollments per minute at each level, per engine (Classic, the heavier page)."""
    out: dict[str, Any] = {}
    for engine in ENGINES:
        levels = []
        min_runs = sizes.protocol_level_min_runs if engine == "protocol" else sizes.level_min_runs
        for clients in sizes.engine_levels:
            rounds = concurrency.rounds_for(clients, min_runs, sizes.min_rounds)
            level = concurrency.run_level(replace(target, engine=engine), phones, clients, rounds)
            levels.append(level.as_json())
        out[engine] = levels
    return out


def summary(lat: dict[str, Any], mem: dict[str, Any], tput: dict[str, Any]) -> dict[str, Any]:
    """The issue's top-level keys, from the detail above (Classic for the single figures)."""

    def at(engine: str, clients: int) -> float:
        level = next((lv for lv in tput[engine] if lv["clients"] == clients), None)
        return float(level["throughput_per_min"]) if level else float("nan")

    classic = lat["classic"]
    return {
        "protocol_throughput_ratio_16": ratio(at("protocol", 16), at("browser", 16)),
        "protocol_cpu_ms_per_enrollment": classic["protocol_cpu_ms_per_enrollment"],
        "protocol_overhead_ratio": {f: lat[f]["protocol_overhead_ratio"] for f in FLAVOURS},
        "protocol_kib_per_enrollment": mem["kib_per_enrollment"],
        "engines": {"latency": lat, "memory": mem, "throughput": tput},
    }
