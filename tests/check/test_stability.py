"""An unchanged fake reports no drift, run after run; the committed baselines pass; no secret gets in.

Together with the CLI runs these record each flavour several times against fresh tickets, phones codes
and ids, so any flakiness from timings, ids, tokens or ordering would show as a difference here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.check.contract import build_contract
from bridge.check.diff import compare
from guardian_bridge_fake.harness import FakeTenantClient
from tests.check.conftest import CONTRACTS, PHONE, TOKEN, CliResult, RecordRun, committed

FLAVOURS = ["classic", "universal"]
# Ids and tokens by their shape: Guardian ids, tickets, the bridge's enrollment ids, JWTs.
ID_OR_TOKEN = re.compile(r"\b(dev|tx|etx|gten|enr)_[0-9a-f]{6,}|eyJ[\w-]{6,}\.")


@pytest.mark.parametrize("flavour", FLAVOURS)
async def test_an_unchanged_fake_reports_no_drift_across_runs(record_run: RecordRun, flavour: str) -> None:
    first = build_contract(await record_run(flavour))
    second = build_contract(await record_run(flavour))
    baseline = committed(flavour)
    assert compare(baseline, first) == []
    assert compare(baseline, second) == []
    assert compare(first, second) == []
    # Byte for byte the same JSON but for the timings, which are kept and never compared strictly.
    assert (
        first.model_copy(update={"timings": {}}).to_json()
        == second.model_copy(update={"timings": {}}).to_json()
    )


@pytest.mark.parametrize("flavour", FLAVOURS)
async def test_the_contract_holds_no_secret_or_personal_data(
    record_run: RecordRun, fake: FakeTenantClient, flavour: str
) -> None:
    recording = await record_run(flavour)
    text = build_contract(recording).to_json()
    assert recording.enrollment.state.value == "completed"
    recovery_code = recording.enrollment.recovery_code
    assert recovery_code
    codes = [str(m["code"]) for m in fake.sms(PHONE)]
    assert codes
    used = [
        PHONE,
        PHONE.lstrip("+"),
        "4155550123",
        "+1******0123",
        recovery_code,
        TOKEN,
        *codes,
        *recording.secrets,  # the ticket id and the wrong code the run tried, among others
    ]
    for value in used:
        assert value not in text
    assert not ID_OR_TOKEN.search(text)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_committed_baseline_passes_through_the_cli(
    run_cli: Callable[..., CliResult], tmp_path: Path, flavour: str
) -> None:
    result = run_cli(flavour)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == [
        f"guardian-bridge check: {flavour} widget against {CONTRACTS / f'{flavour}.json'}",
        "PASSED: no differences",
    ]
    assert result.junit is not None
    assert result.junit.get("failures") == "0"
    screenshots = sorted(p.name for p in (tmp_path / "report").glob("screen-*.png"))
    assert screenshots[0] == "screen-01-phone.png"
    assert len(screenshots) == 6
    assert (tmp_path / "report" / "report.txt").read_text(encoding="utf-8") == result.output


def test_a_first_run_writes_the_baseline(run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    baseline = tmp_path / "new" / "universal.json"
    result = run_cli("universal", baseline=baseline)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        f"Baseline written to {baseline} (universal widget, 4 screens, 11 calls)."
    )
    assert compare(committed("universal"), committed("universal").from_json(baseline.read_text())) == []


def test_the_executable_with_its_own_bridge_passes_against_the_committed_baseline(
    fake: FakeTenantClient, tmp_path: Path
) -> None:
    """``guardian-bridge check`` as a user runs it: no --bridge, so it hosts a bridge itself."""
    cli = str(Path(sys.executable).with_name("guardian-bridge"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_") or "BROWSER" in k}
    fake.set_experience("classic")
    ticket_url = fake.create_ticket()["ticket_url"]
    args = ["check", "--ticket-url", ticket_url, "--phone", PHONE, "--code-from", "outbox"]
    args += ["--baseline", str(CONTRACTS / "classic.json"), "--report", str(tmp_path / "report.txt")]
    done = subprocess.run([cli, *args], capture_output=True, text=True, env=env, timeout=90, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASSED: no differences" in done.stdout
    assert (tmp_path / "screen-06-congrats.png").exists()
