"""The report's four forms on hand-made contracts, and the command's refusals (exit code 2)."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from typer.testing import CliRunner

from bridge.check.report import Report, junit, make_report, render, verdict
from bridge.cli.app import app
from tests.check.factories import contract, edit

BASE = contract()
DRIFTED = edit(
    BASE,
    {
        "calls.2.status": 201,
        "calls.0.response.new_key": "integer",
        "screens.0.texts": ["Enter your phone | to enroll."],
    },
)


def test_text_report_groups_breaking_before_notable() -> None:
    report = make_report(BASE, DRIFTED, "fixtures/contracts/classic.json")
    text = render(report, "text")
    head, _, rest = text.partition("Breaking (the bridge may no longer drive the widget):")
    breaking_part, _, notable_part = rest.partition("Notable (worth a look; the check still passes):")
    assert head.splitlines()[:2] == [
        "guardian-bridge check: classic widget against fixtures/contracts/classic.json",
        "BREAKING DRIFT: 1 breaking and 2 notable difference(s)",
    ]
    assert "now answers with status 201 (was 200)" in breaking_part
    assert "     was:   200\n     now:   201" in breaking_part
    assert "has a new key 'new_key' (integer)" in notable_part
    assert "Timings in ms (for reading only; never compared strictly):" in notable_part
    assert "  start" in notable_part


def test_verdicts() -> None:
    assert verdict(make_report(BASE, BASE)) == "PASSED: no differences"
    notable = edit(BASE, {"calls.0.response.new_key": "integer"})
    assert verdict(make_report(BASE, notable)) == "PASSED with 1 notable difference(s)"


def test_markdown_report_escapes_table_cells() -> None:
    text = render(make_report(BASE, DRIFTED), "markdown")
    assert text.startswith("## guardian-bridge check: classic widget\n\n**BREAKING DRIFT")
    assert "| # | What changed | Where | Was | Now |" in text
    assert "Enter your phone \\| to enroll." in text
    assert "| Step | Baseline | Now |" in text


def test_json_report_round_trips() -> None:
    report = make_report(BASE, DRIFTED)
    data = json.loads(render(report, "json"))
    assert data["breaking"] is True
    assert {d["severity"] for d in data["differences"]} == {"breaking", "notable"}
    assert Report.model_validate(data) == report


def test_junit_has_one_case_per_section_and_fails_only_on_breaking() -> None:
    suite = ET.fromstring(junit(make_report(BASE, DRIFTED)))  # noqa: S314 - our own output
    assert suite.get("name") == "guardian-bridge contract (classic)"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "1", "0")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert list(cases) == ["enrollment", "screens", "errors", "calls", "timings"]
    failure = cases["calls"].find("failure")
    assert failure is not None
    assert "status 201 (was 200)" in (failure.text or "")
    out = cases["calls"].find("system-out")
    assert out is not None
    assert "new_key" in (out.text or "")
    assert cases["screens"].find("failure") is None
    assert cases["screens"].find("system-out") is not None


# --- the command's refusals: exit code 2, nothing secret echoed ---
runner = CliRunner()


def _check(tmp: Path, *args: str) -> tuple[int, str]:
    base = [
        "check",
        "--baseline",
        str(tmp / "c.json"),
        "--report",
        str(tmp / "r.txt"),
        "--code-from",
        "outbox",
    ]
    result = runner.invoke(app, [*base, *args])
    return result.exit_code, result.output


def test_needs_exactly_one_target(tmp_path: Path) -> None:
    code, output = _check(tmp_path, "--phone", "+14155550123")
    assert code == 2
    assert "give exactly one of --ticket-url and --user-id" in output


def test_refuses_a_malformed_phone_without_echoing_it(tmp_path: Path) -> None:
    code, output = _check(
        tmp_path, "--phone", "415-CALL-ME-9", "--ticket-url", "http://127.0.0.1:9/x?ticket=t"
    )
    assert code == 2
    assert "E.164" in output
    assert "CALL-ME" not in output


def test_refuses_a_baseline_it_cannot_read(tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text("{not json", encoding="utf-8")
    code, output = _check(
        tmp_path, "--phone", "+14155550123", "--ticket-url", "http://127.0.0.1:9/x?ticket=t"
    )
    assert code == 2
    assert "is not a contract this version understands; rerun with --update" in output


@pytest.mark.timeout(60)
def test_an_unreachable_bridge_is_exit_code_2_with_a_junit_error(tmp_path: Path) -> None:
    junit_path = tmp_path / "junit.xml"
    code, output = _check(
        tmp_path,
        "--phone",
        "+14155550123",
        "--ticket-url",
        "http://127.0.0.1:9/guardian/enroll?ticket=gten_secret123",
        "--bridge",
        "http://127.0.0.1:9",
        "--junit",
        str(junit_path),
    )
    assert code == 2
    assert "could not reach the bridge" in output
    assert "gten_secret123" not in output
    suite = ET.fromstring(junit_path.read_text(encoding="utf-8"))  # noqa: S314 - our own output
    assert suite.get("errors") == "1"
    assert not (tmp_path / "c.json").exists()
