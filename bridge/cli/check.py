"""``guardian-bridge check``: record the widget's contract, compare it with a baseline, report the drift.

Exit codes: 0 when nothing breaking changed (or a baseline was written), 1 on breaking drift, 2 when the
check could not run. ``bridge.cli.app`` only declares the options and calls ``run_check_command``.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import typer
from pydantic import SecretStr, ValidationError

from bridge.check.codes import CallbackCodes, CodeSource, OutboxCodes, tenant_origin
from bridge.check.contract import CONTRACT_FORMAT, Contract, Recording, build_contract
from bridge.check.diff import Difference
from bridge.check.engines import engine_differences
from bridge.check.report import Report, ReportFormat, junit, junit_error, make_report, render
from bridge.check.runner import CheckError, record
from bridge.cli.host import quiet_server_logs, start_in_process
from bridge.client import AsyncBridgeClient
from bridge.errors import BridgeError
from bridge.models import EngineChoice, Enrollment
from bridge.phone import parse_e164
from bridge.settings import BridgeSettings
from bridge.target import EnrollmentTarget
from bridge.urls import origin_entry

CodeFrom = Literal["inbox", "outbox", "stdin", "prompt"]
OK, BREAKING, CANNOT_RUN = 0, 1, 2
_EXTENSIONS = {"text": "txt", "markdown": "md", "json": "json"}


@dataclass(frozen=True)
class CheckOptions:
    ticket_url: str | None
    user_id: str | None
    phone: str
    baseline: Path
    bridge: str | None = None
    token: str | None = None
    update: bool = False
    code_from: CodeFrom | None = None  # None: prompt on a terminal, stdin when piped (as enroll does)
    junit: Path | None = None
    fmt: ReportFormat = "text"
    report: Path | None = None
    outbox_url: str | None = None
    code_timeout_s: float = 120.0
    # None: the bridge's BRIDGE_DEFAULT_ENGINE; "both": the browser, then the protocol engine on the
    # second ticket (or user), their differences reported as breaking drift.
    engine: EngineChoice | Literal["both"] | None = None
    second_ticket_url: str | None = None
    second_user_id: str | None = None

    @property
    def report_path(self) -> Path:
        if self.report is not None:
            return self.report
        folder = self.baseline.parent / f"{self.baseline.stem}.report"
        return folder / f"report.{_EXTENSIONS[self.fmt]}"


def run_check_command(options: CheckOptions) -> int:
    """Runs the whole command and returns its exit code; every failure to run is reported, never raised."""
    try:
        return _run(options)
    except CheckError as exc:
        return _cannot_run(options, exc.message)


def _cannot_run(options: CheckOptions, message: str) -> int:
    typer.echo(f"guardian-bridge check could not run: {message}", err=True)
    if options.junit is not None:
        _write(options.junit, junit_error(message))
    return CANNOT_RUN


def _run(options: CheckOptions) -> int:
    try:
        target = EnrollmentTarget.of(options.ticket_url, options.user_id)
    except ValueError:
        raise CheckError("give exactly one of --ticket-url and --user-id") from None
    try:
        phone = parse_e164(options.phone).e164
    except BridgeError as exc:
        raise CheckError(exc.message) from None  # fixed text: the number itself is never echoed
    baseline = None if options.update else _load_baseline(options.baseline)
    both = options.engine == "both"
    recording = _record(replace(options, engine="browser") if both else options, target, phone)
    differing = _engines_compared(options, recording, phone) if both else []
    contract = build_contract(recording)
    shots = _save_screenshots(options.report_path.parent, recording)
    if baseline is None:
        written = _write_baseline(options, contract, shots)
        for difference in differing:
            typer.echo(f"engines differ: {difference.message}", err=True)
        return BREAKING if differing else written
    report = make_report(baseline, contract, str(options.baseline))
    report.differences += differing
    report.breaking = report.breaking or bool(differing)
    report.screenshots = [str(p) for p in shots]
    text = render(report, options.fmt)
    _write(options.report_path, text)
    if options.junit is not None:
        _write(options.junit, junit(report))
    typer.echo(text, nl=False)
    return BREAKING if report.breaking else OK


def _engines_compared(options: CheckOptions, browser: Recording, phone: str) -> list[Difference]:
    """The same script on the protocol engine, with the second ticket; how it differed from the browser."""
    try:
        second = EnrollmentTarget.of(options.second_ticket_url, options.second_user_id)
    except ValueError:
        raise CheckError(
            "--engine both needs exactly one of --second-ticket-url and --second-user-id "
            "(tickets are single-use, and the browser's run enrolls its user)"
        ) from None
    on_protocol = replace(options, engine="protocol", ticket_url=second.ticket_url, user_id=second.user_id)
    return engine_differences(browser, _record(on_protocol, second, phone))


def _load_baseline(path: Path) -> Contract | None:
    if not path.exists():
        return None  # the first run writes it
    try:
        data = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CheckError(f"cannot read the baseline {path} ({type(exc).__name__})") from None
    try:
        contract = Contract.from_json(data)
    except ValueError:
        raise CheckError(f"{path} is not a contract this version understands; rerun with --update") from None
    if contract.format != CONTRACT_FORMAT:
        raise CheckError(
            f"{path} has contract format {contract.format}, expected {CONTRACT_FORMAT}; use --update"
        )
    return contract


def _write_baseline(options: CheckOptions, contract: Contract, shots: list[Path]) -> int:
    _write(options.baseline, contract.to_json())
    what = f"{len(contract.screens)} screens, {len(contract.calls)} calls"
    typer.echo(f"Baseline written to {options.baseline} ({contract.flavour} widget, {what}).")
    if contract.outcome.state != "completed":
        ends = contract.outcome.state + (
            f" ({contract.outcome.error_code})" if contract.outcome.error_code else ""
        )
        typer.echo(f"Warning: the scripted enrollment did not complete, it ended {ends}.", err=True)
    if shots:
        typer.echo(f"Screenshots in {shots[0].parent}")
    if options.junit is not None:
        _write(options.junit, junit(Report(flavour=contract.flavour, breaking=False)))
    return OK


def _codes(options: CheckOptions, phone: str) -> CodeSource | None:
    if options.code_from == "inbox":
        return None
    if options.code_from == "outbox":
        origin = options.outbox_url or tenant_origin(options.ticket_url, _auth0_domain())
        if origin is None:
            raise CheckError("--code-from outbox needs a ticket URL with a host, or --outbox-url")
        return OutboxCodes(origin, phone, timeout_s=options.code_timeout_s)
    code_from = options.code_from or ("prompt" if sys.stdin.isatty() else "stdin")
    if code_from == "stdin":
        return CallbackCodes("stdin", lambda _: sys.stdin.readline())

    def ask(enrollment: Enrollment) -> str:
        answer: str = typer.prompt(f"Code sent to {enrollment.phone_number or 'the phone'}", err=True)
        return answer

    return CallbackCodes("prompt", ask)


def _settings(**values: Any) -> BridgeSettings:
    """``BRIDGE_*`` settings from the environment, ``values`` winning over them."""
    try:
        return BridgeSettings(**values)
    except ValidationError as exc:
        # Names only: pydantic's messages quote the values, which may be secrets.
        names = ", ".join(sorted({f"BRIDGE_{e['loc'][0]}".upper() for e in exc.errors() if e.get("loc")}))
        raise CheckError(f"invalid settings: {names or 'BRIDGE_*'}") from None


def _auth0_domain() -> str | None:
    return _settings().auth0_domain


def _record(options: CheckOptions, target: EnrollmentTarget, phone: str) -> Recording:
    engine: EngineChoice | None = "browser" if options.engine == "both" else options.engine
    codes = _codes(options, phone)
    if options.bridge is not None:
        return asyncio.run(_record_with(options.bridge, options.token, target, phone, codes, engine))
    # No bridge given: run one in this process, allowing only the origin (host and port) the ticket is on.
    token = secrets.token_urlsafe(24)
    host = origin_entry(tenant_origin(options.ticket_url, _auth0_domain()) or "")
    if not host:
        raise CheckError("without --bridge, the ticket URL (or BRIDGE_AUTH0_DOMAIN) must name a host")
    artifacts = options.report_path.parent
    settings = _settings(allowed_hosts=[host], api_tokens=[SecretStr(token)], artifacts_dir=artifacts)
    quiet_server_logs()
    try:
        server = start_in_process(settings)
    except BridgeError:
        raise CheckError("could not start an in-process bridge") from None
    try:
        return asyncio.run(_record_with(server.base_url, token, target, phone, codes, engine))
    finally:
        server.stop()


async def _record_with(
    base_url: str,
    token: str | None,
    target: EnrollmentTarget,
    phone: str,
    codes: CodeSource | None,
    engine: EngineChoice | None = None,
) -> Recording:
    try:
        async with AsyncBridgeClient(base_url, token, timeout=120.0) as client:
            return await record(client, target, phone, codes, engine=engine)
    except ValueError as exc:  # a malformed token (the client refuses it before sending)
        raise CheckError(str(exc)) from None


def _save_screenshots(folder: Path, recording: Recording) -> list[Path]:
    """``screen-01-phone.png``...: one per recorded screen, in order (stale ones from earlier runs go)."""
    if not any(recording.screenshots):
        return []
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("screen-*.png"):
        old.unlink()
    saved = []
    for number, (screen, png) in enumerate(zip(recording.screens, recording.screenshots, strict=False), 1):
        if png:
            path = folder / f"screen-{number:02d}-{re.sub(r'[^a-z0-9-]+', '-', screen.name.lower())}.png"
            path.write_bytes(png)
            saved.append(path)
    return saved


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CheckError(f"cannot write {path} ({type(exc).__name__})") from None
