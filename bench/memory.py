"""Memory per open enrollment: the bridge's one shared browser against one browser per enrollment.

Both hold the same number of enrollments idle on the code screen of the Classic widget (the heavier
flavour: a script-driven page rather than server-rendered HTML). Memory is PSS summed over the whole
process tree (server, Playwright driver, every Chromium process), so shared pages count once.
"""

from __future__ import annotations

import os
import time
from typing import Any

import httpx
from playwright.sync_api import Browser, sync_playwright

from bench import baseline
from bench.procs import all_procs, pss_mib, tree
from bench.stats import ratio
from bench.through_bridge import Phones, cancel, open_idle
from guardian_bridge_fake.harness import FakeTenantClient

# Lets renderers finish loading and the first post-load allocations settle before reading PSS.
SETTLE_S = 1.5


def breakdown(pids: list[int], server_pid: int) -> dict[str, float]:
    """MiB by role: the Python server, Playwright's Node driver, and the browser processes."""
    names = {p.pid: p.name for p in all_procs().values()}
    driver = [pid for pid in pids if names.get(pid, "").startswith("node")]
    browser = [pid for pid in pids if pid != server_pid and pid not in driver]
    return {
        "server_mib": pss_mib([server_pid] if server_pid in pids else []),
        "driver_mib": pss_mib(driver),
        "browser_mib": pss_mib(browser),
        "processes": float(len(pids)),
    }


def shared_browser(
    api: httpx.Client, fake: FakeTenantClient, phones: Phones, bridge_pid: int, count: int
) -> dict[str, Any]:
    """``count`` enrollments open in the bridge, waiting for their codes."""
    fake.set_experience("classic")
    idle_mib = pss_mib(tree(bridge_pid))
    opened: list[str] = []
    try:
        for _ in range(count):
            opened.append(open_idle(api, fake, phones.take()))
        time.sleep(SETTLE_S)
        parts = breakdown(tree(bridge_pid), bridge_pid)
    finally:
        for enrollment_id in opened:
            cancel(api, enrollment_id)
    total = parts["server_mib"] + parts["driver_mib"] + parts["browser_mib"]
    return {
        "open": count,
        "idle_total_mib": idle_mib,
        "total_mib": total,
        "per_enrollment_mib": ratio(total, count),
        # What one more open enrollment costs, with the fixed cost of the idle bridge taken out.
        "marginal_mib": ratio(total - idle_mib, count),
        **parts,
    }


def browser_per_enrollment(
    fake: FakeTenantClient,
    phones: Phones,
    chromium: str,
    count: int,
    bridge_pid: int,
    other_services: list[int],
) -> dict[str, Any]:
    """The alternative design: one Chromium launch per enrollment, one page each, same screen.

    The browsers are launched from this process's own Playwright driver; the server's Python cost is
    taken from the (idle) bridge process, since such a design would need a server just the same.
    """
    fake.set_experience("classic")
    me = os.getpid()
    with sync_playwright() as pw:
        browsers: list[Browser] = []
        try:
            for _ in range(count):
                browser = baseline.launch(pw, chromium)
                browsers.append(browser)
                _, page = baseline.new_page(browser)
                baseline.open_ticket(page, "classic", fake.create_ticket()["ticket_url"])
                baseline.submit_phone(page, "classic", phones.take())
            time.sleep(SETTLE_S)
            ours = [pid for pid in tree(me, exclude=[bridge_pid, *other_services]) if pid != me]
            parts = breakdown(ours, server_pid=-1)
            parts["server_mib"] = pss_mib([bridge_pid])
        finally:
            for browser in browsers:
                browser.close()
    total = parts["server_mib"] + parts["driver_mib"] + parts["browser_mib"]
    return {"open": count, "total_mib": total, "per_enrollment_mib": ratio(total, count), **parts}
