"""The check's report in four forms: plain text (a terminal), markdown (a CI summary), JSON, JUnit XML."""

from __future__ import annotations

import json
from typing import Literal
from xml.etree import ElementTree as ET

from pydantic import BaseModel, Field

from bridge.check.contract import Contract
from bridge.check.diff import Difference, breaking, compare

ReportFormat = Literal["text", "markdown", "json"]
SECTIONS = ("enrollment", "screens", "errors", "calls", "timings")


class Report(BaseModel):
    flavour: str | None = None
    baseline: str | None = None
    breaking: bool
    differences: list[Difference] = Field(default_factory=list)
    # stage -> {"baseline": ms, "now": ms}: shown for reading, never compared strictly.
    timings: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    screenshots: list[str] = Field(default_factory=list)

    @property
    def breaking_differences(self) -> list[Difference]:
        return [d for d in self.differences if d.severity == "breaking"]

    @property
    def notable_differences(self) -> list[Difference]:
        return [d for d in self.differences if d.severity == "notable"]


def make_report(baseline: Contract, current: Contract, baseline_name: str | None = None) -> Report:
    differences = compare(baseline, current)
    # In the order the steps ran (the JSON keeps them sorted), the total last.
    ran = [line.split(" -> ", 1)[0] for line in [*current.outcome.steps, *baseline.outcome.steps]]
    stages = [s for s in dict.fromkeys([*ran, *baseline.timings, *current.timings]) if s != "total"]
    stages += ["total"] if "total" in baseline.timings or "total" in current.timings else []
    timings = {s: {"baseline": baseline.timings.get(s), "now": current.timings.get(s)} for s in stages}
    return Report(
        flavour=current.flavour,
        baseline=baseline_name,
        breaking=breaking(differences),
        differences=differences,
        timings=timings,
    )


def section_of(difference: Difference) -> str:
    for prefix, section in (
        ("screen", "screens"),
        ("errors", "errors"),
        ("call", "calls"),
        ("timing", "timings"),
    ):
        if difference.where.startswith(prefix):
            return section
    return "enrollment"


def verdict(report: Report) -> str:
    b, n = len(report.breaking_differences), len(report.notable_differences)
    if b:
        return f"BREAKING DRIFT: {b} breaking and {n} notable difference(s)"
    if n:
        return f"PASSED with {n} notable difference(s)"
    return "PASSED: no differences"


def render(report: Report, fmt: ReportFormat) -> str:
    if fmt == "json":
        return json.dumps(report.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
    if fmt == "markdown":
        return _markdown(report)
    return _text(report)


def _title(report: Report) -> str:
    widget = f"{report.flavour} widget" if report.flavour else "widget"
    against = f" against {report.baseline}" if report.baseline else ""
    return f"guardian-bridge check: {widget}{against}"


def _text(report: Report) -> str:
    lines = [_title(report), verdict(report), ""]
    groups = (
        ("Breaking (the bridge may no longer drive the widget):", report.breaking_differences),
        ("Notable (worth a look; the check still passes):", report.notable_differences),
    )
    for heading, items in groups:
        if not items:
            continue
        lines.append(heading)
        for number, d in enumerate(items, 1):
            lines.append(f"  {number}. {d.message}")
            lines.append(f"     where: {d.where}")
            if d.before is not None:
                lines.append(f"     was:   {d.before}")
            if d.after is not None:
                lines.append(f"     now:   {d.after}")
        lines.append("")
    lines += _timing_lines(report)
    if report.screenshots:
        lines.append("Screenshots:")
        lines += [f"  {path}" for path in report.screenshots]
    return "\n".join(lines).rstrip() + "\n"


def _timing_lines(report: Report) -> list[str]:
    if not report.timings:
        return []
    lines = ["Timings in ms (for reading only; never compared strictly):"]
    lines.append(f"  {'step':<22}{'baseline':>10}{'now':>10}")
    for stage, values in report.timings.items():
        lines.append(f"  {stage:<22}{_ms(values.get('baseline')):>10}{_ms(values.get('now')):>10}")
    return [*lines, ""]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _cell(text: str | None) -> str:
    return "" if text is None else text.replace("|", "\\|").replace("\n", " ")


def _markdown(report: Report) -> str:
    lines = [f"## {_title(report)}", "", f"**{verdict(report)}**", ""]
    for heading, items in (
        ("Breaking", report.breaking_differences),
        ("Notable", report.notable_differences),
    ):
        if not items:
            continue
        lines += [f"### {heading}", "", "| # | What changed | Where | Was | Now |", "|---|---|---|---|---|"]
        for n, d in enumerate(items, 1):
            lines.append(
                f"| {n} | {_cell(d.message)} | {_cell(d.where)} | {_cell(d.before)} | {_cell(d.after)} |"
            )
        lines.append("")
    if report.timings:
        lines += [
            "### Timings (ms, never compared strictly)",
            "",
            "| Step | Baseline | Now |",
            "|---|---:|---:|",
        ]
        for stage, values in report.timings.items():
            lines.append(f"| {stage} | {_ms(values.get('baseline'))} | {_ms(values.get('now'))} |")
        lines.append("")
    if report.screenshots:
        lines += ["### Screenshots", "", *(f"- `{path}`" for path in report.screenshots), ""]
    return "\n".join(lines)


def junit(report: Report) -> str:
    """One test case per contract section; a section fails when it has a breaking difference, and its
    notable differences go to the case's system-out."""
    name = f"guardian-bridge contract ({report.flavour or 'unknown'})"
    suite = ET.Element("testsuite", name=name, tests=str(len(SECTIONS)))
    failures = 0
    for section in SECTIONS:
        case = ET.SubElement(suite, "testcase", classname=name, name=section)
        items = [d for d in report.differences if section_of(d) == section]
        broken = [d for d in items if d.severity == "breaking"]
        if broken:
            failures += 1
            failure = ET.SubElement(
                case, "failure", message=f"{len(broken)} breaking difference(s)", type="drift"
            )
            failure.text = "\n".join(d.message for d in broken)
        notable = [d for d in items if d.severity == "notable"]
        if notable:
            ET.SubElement(case, "system-out").text = "\n".join(d.message for d in notable)
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def junit_error(message: str, flavour: str | None = None) -> str:
    """A JUnit file for a check that could not run (exit code 2): one errored case."""
    name = f"guardian-bridge contract ({flavour or 'unknown'})"
    suite = ET.Element("testsuite", name=name, tests="1", failures="0", errors="1")
    case = ET.SubElement(suite, "testcase", classname=name, name="run")
    ET.SubElement(case, "error", message=message, type="check_error")
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
