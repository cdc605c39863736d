"""``check --engine both``: the browser as the protocol engine's oracle, as drift differences.

The same script runs once per engine against the same tenant (each needs its own ticket: tickets are
single-use and the first run enrolls its user). Every difference between the two runs' calls (by shape
and order) and outcomes is breaking: it means the protocol engine no longer does what the widget does.
"""

from __future__ import annotations

from bridge.check.contract import Recording
from bridge.check.diff import Difference
from bridge.protocol.compare import call_differences, outcome_differences


def engine_differences(browser: Recording, protocol: Recording) -> list[Difference]:
    found = [
        Difference(kind="engine_call_differs", where="calls", severity="breaking", message=text)
        for text in call_differences(browser.calls, protocol.calls)
    ]
    outcomes = outcome_differences(
        browser.enrollment.model_dump(mode="json"), protocol.enrollment.model_dump(mode="json")
    )
    found += [
        Difference(kind="engine_outcome_differs", where="outcome", severity="breaking", message=text)
        for text in outcomes
    ]
    for probe, ours, theirs in (
        ("invalid phone", browser.invalid_phone, protocol.invalid_phone),
        ("wrong code", browser.wrong_code, protocol.wrong_code),
    ):
        before = (ours.outcome, ours.error_code) if ours else None
        after = (theirs.outcome, theirs.error_code) if theirs else None
        if before != after:
            found.append(
                Difference(
                    kind="engine_probe_differs",
                    where=f"probe '{probe}'",
                    before=str(before),
                    after=str(after),
                    severity="breaking",
                    message=f"The {probe} probe ended {before} on the browser and {after} on the "
                    "protocol engine.",
                )
            )
    return found
