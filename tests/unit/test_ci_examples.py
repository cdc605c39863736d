"""The scheduled-check examples (examples/ci/) stay consistent with the command line: every
``guardian-bridge`` command and option they use exists, they run nightly, and they keep both reports."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from bridge.cli.app import app

CI = Path(__file__).resolve().parents[2] / "examples" / "ci"
GITHUB = CI / "github-actions-widget-check.yml"
GITLAB = CI / "gitlab-ci-widget-check.yml"


def _load(path: Path) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(path.read_text())
    return loaded


def _github_scripts() -> list[str]:
    [job] = _load(GITHUB)["jobs"].values()
    return [step["run"] for step in job["steps"] if "run" in step]


def _gitlab_scripts() -> list[str]:
    [job] = _load(GITLAB).values()
    return [*job.get("before_script", []), *job["script"]]


def _commands(scripts: list[str]) -> list[list[str]]:
    """Each ``guardian-bridge`` command line in the scripts, continuation lines joined, as argv."""
    text = "\n".join(scripts).replace("\\\n", " ")
    return [
        shlex.split(line.strip()) for line in text.splitlines() if re.match(r"\s*guardian-bridge\s", line)
    ]


CLI = typer.main.get_command(app)


@pytest.mark.parametrize("scripts", [_github_scripts(), _gitlab_scripts()], ids=["github", "gitlab"])
def test_every_command_and_option_exists(scripts: list[str]) -> None:
    commands = _commands(scripts)
    assert [argv[1] for argv in commands] == ["doctor", "check"]
    # typer builds a click-style group (typer.core.TyperGroup, on typer's own copy of click).
    assert isinstance(CLI, typer.core.TyperGroup)
    for argv in commands:
        command = CLI.commands.get(argv[1])
        assert command is not None, f"guardian-bridge has no command {argv[1]!r}"
        known = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
        used = {arg.split("=", 1)[0] for arg in argv[2:] if arg.startswith("--")}
        assert used <= known, f"guardian-bridge {argv[1]}: no option {sorted(used - known)}"
        # And the command line parses as the CLI would parse it (values where values are expected).
        command.make_context(f"guardian-bridge {argv[1]}", argv[2:], resilient_parsing=False)


def _check_argv(scripts: list[str]) -> dict[str, str]:
    [argv] = [a for a in _commands(scripts) if a[1] == "check"]
    return dict(zip(argv[2::2], argv[3::2], strict=False))


def test_both_run_the_same_check_nightly_and_keep_both_reports() -> None:
    github, gitlab = _check_argv(_github_scripts()), _check_argv(_gitlab_scripts())
    assert github == gitlab
    assert github["--code-from"] == "inbox"
    workflow = _load(GITHUB)
    # PyYAML reads the bare key "on" as True (YAML 1.1).
    triggers = workflow["on"] if "on" in workflow else workflow[True]
    assert triggers["schedule"][0]["cron"].split()[2:] == ["*", "*", "*"]
    [job] = workflow["jobs"].values()
    upload = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["if"] == "always()"
    assert set(upload["with"]["path"].split()) == {github["--junit"], github["--report"]}
    [gitlab_job] = _load(GITLAB).values()
    assert gitlab_job["artifacts"]["when"] == "always"
    assert set(gitlab_job["artifacts"]["paths"]) == {github["--junit"], github["--report"]}
    assert gitlab_job["artifacts"]["reports"]["junit"] == github["--junit"]
    assert {"if": '$CI_PIPELINE_SOURCE == "schedule"'} in gitlab_job["rules"]
