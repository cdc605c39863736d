"""``guardian-bridge doctor``: reads the settings, runs the checks (``bridge.doctor``) and prints them."""

from __future__ import annotations

import typer

from bridge.cli.host import settings_from_env
from bridge.cli.output import print_json
from bridge.doctor import DoctorOptions, run_doctor


def run_doctor_command(bridge_url: str | None, token: str | None, json_output: bool) -> int:
    options = DoctorOptions(settings=settings_from_env(), bridge_url=bridge_url, token=token)
    report = run_doctor(options)
    if json_output:
        print_json(report.as_json())
    else:
        typer.echo(report.as_text())
    return int(report.exit_code)
