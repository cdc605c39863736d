"""The Dockerfile, read as data: pinned base image, entry point, user, health check, ports, layer order.

No Docker engine is needed: each check parses the file (and .dockerignore, pyproject.toml) directly.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bridge.browser_binary import playwright_bundled
from bridge.cli.app import app as cli_app

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Instruction:
    keyword: str
    value: str

    def args(self) -> list[str]:
        """Exec-form (JSON array) or shell-form arguments, without ``--flag=value`` options."""
        if self.value.startswith("["):
            parsed: list[str] = json.loads(self.value)
            return parsed
        return [word for word in shlex.split(self.value) if not word.startswith("--")]


def _instructions() -> list[Instruction]:
    """Instructions in order; continuation lines joined, comment lines dropped (as Docker does)."""
    result: list[Instruction] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, value = (pending + line).partition(" ")
        result.append(Instruction(keyword.upper(), value.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return result


def _only(keyword: str) -> Instruction:
    found = [i for i in _instructions() if i.keyword == keyword]
    assert len(found) == 1, f"expected exactly one {keyword}, found {len(found)}"
    return found[0]


def _index(predicate: Any) -> int:
    for index, instruction in enumerate(_instructions()):
        if predicate(instruction):
            return index
    raise AssertionError("no matching instruction")


def _pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def _option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def _cmd_args() -> list[str]:
    value = _only("CMD").value
    assert value.startswith("["), "CMD should be in exec form"
    parsed: list[str] = json.loads(value)
    return parsed


def test_base_image_tag_is_the_pinned_playwright_version() -> None:
    pins = [d for d in _pyproject()["project"]["dependencies"] if re.match(r"playwright\s*==", d)]
    assert len(pins) == 1, "pyproject.toml should pin playwright with =="
    version = pins[0].split("==")[1].strip()
    image = _only("FROM").args()[0]
    assert image == f"mcr.microsoft.com/playwright/python:v{version}-noble"


def test_entrypoint_is_a_console_script_and_cmd_a_command_of_it() -> None:
    entrypoint = _only("ENTRYPOINT")
    assert entrypoint.value.startswith("["), "ENTRYPOINT should be in exec form so signals reach it"
    script = entrypoint.args()
    assert len(script) == 1
    assert script[0] in _pyproject()["project"]["scripts"]
    commands = {c.name or (c.callback.__name__ if c.callback else "") for c in cli_app.registered_commands}
    assert _cmd_args()[0] in commands


def test_runs_as_a_non_root_user_set_before_the_entrypoint() -> None:
    users = [(index, i.value) for index, i in enumerate(_instructions()) if i.keyword == "USER"]
    assert users, "no USER: the container would run as root"
    index, user = users[-1]
    assert user.split(":")[0] not in ("root", "0")
    assert index < _index(lambda i: i.keyword == "ENTRYPOINT")


def test_serve_port_in_cmd_matches_expose() -> None:
    cmd = _cmd_args()
    assert _option(cmd, "--host") == "0.0.0.0"
    exposed = _only("EXPOSE").args()
    assert exposed == [_option(cmd, "--port")]


def test_healthcheck_asks_healthz_on_the_served_port_with_python() -> None:
    healthcheck = _only("HEALTHCHECK").value
    options, _, command = healthcheck.partition("CMD ")
    assert "--timeout=" in options
    argv: list[str] = json.loads(command)
    assert argv[:2] == ["python3", "-c"], "the image has no curl guarantee; python is always there"
    compile(argv[2], "<healthcheck>", "exec")  # quoting mistakes surface here, not in production
    url = re.search(r"http://127\.0\.0\.1:(\d+)/healthz", argv[2])
    assert url, "the health check should ask /healthz on loopback"
    assert url.group(1) == _option(_cmd_args(), "--port")


def _dockerignore_excludes(path: str) -> bool:
    """Docker's rule for a top-level path: the last matching pattern wins; ``!`` re-includes."""
    excluded = False
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!"))
        regex = re.escape(pattern).replace(r"\*\*/", "(.*/)?").replace(r"\*", "[^/]*").replace(r"\?", ".")
        if re.fullmatch(regex, path):
            excluded = not negate
    return excluded


def test_every_copied_path_exists_and_is_in_the_build_context() -> None:
    copies = [i for i in _instructions() if i.keyword in ("COPY", "ADD")]
    assert copies
    for copy in copies:
        assert copy.keyword == "COPY", "ADD fetches and unpacks; COPY is all this image needs"
        assert "--from" not in copy.value
        *sources, _destination = copy.args()
        for source in sources:
            path = source.rstrip("/")
            assert (ROOT / path).exists(), f"COPY {source}: no such path in the repository"
            assert not _dockerignore_excludes(path), f"COPY {source}: .dockerignore leaves it out"


# The fake Auth0 tenant is a test double with a distribution of its own (fixtures/pyproject.toml); the
# production image must hold the bridge only.
FAKE_NAMES = ("fixtures", "guardian_bridge_fake", "guardian-bridge-fake")


def test_the_build_context_leaves_out_the_fake_tenant() -> None:
    assert _dockerignore_excludes("fixtures"), ".dockerignore lets fixtures/ (the fake tenant) into the image"
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    reincluded = [p for p in patterns if p.startswith("!") and any(name in p for name in FAKE_NAMES)]
    assert not reincluded, f".dockerignore re-includes the fake tenant: {reincluded}"


def test_only_the_bridge_is_copied_and_installed() -> None:
    for instruction in _instructions():
        if instruction.keyword in ("COPY", "ADD", "RUN"):
            mentioned = [name for name in FAKE_NAMES if name in instruction.value]
            assert not mentioned, f"{instruction.keyword} {instruction.value!r} brings in the fake tenant"
    sources = {s.rstrip("/") for i in _instructions() if i.keyword == "COPY" for s in i.args()[:-1]}
    assert sources == {"pyproject.toml", "README.md", "requirements.lock", "bridge"}, (
        "copy the bridge by name, not the context"
    )
    project = _pyproject()
    # What the image installs: build requirements and dependencies (first RUN), then this project's wheel.
    installed = project["build-system"]["requires"] + project["project"]["dependencies"]
    assert not [d for d in installed if re.match(r"guardian[-_]bridge[-_]fake", d)]
    assert project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["bridge"]


def test_dependencies_are_installed_before_the_source_is_copied() -> None:
    instructions = _instructions()
    first_source = _index(
        lambda i: i.keyword == "COPY" and any(s.startswith("bridge") for s in i.args()[:-1])
    )
    deps = _index(lambda i: i.keyword == "RUN" and "pip install" in i.value and "--no-deps" not in i.value)
    project = _index(lambda i: i.keyword == "RUN" and "pip install" in i.value and "--no-deps" in i.value)
    assert deps < first_source < project
    early = {s for i in instructions[:deps] if i.keyword == "COPY" for s in i.args()[:-1]}
    assert early == {"pyproject.toml", "README.md", "requirements.lock"}, (
        "only the metadata and the lock file may come before the dependencies"
    )


def test_no_browser_executable_or_token_is_baked_in() -> None:
    env = " ".join(i.value for i in _instructions() if i.keyword in ("ENV", "ARG"))
    assert "BRIDGE_BROWSER_EXECUTABLE" not in env
    assert "BRIDGE_API_TOKENS" not in env


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        # Chrome for Testing builds (the pinned Playwright's layout)
        (
            [
                "chromium-1255/chrome-linux64/chrome",
                "chromium_headless_shell-1255/chrome-headless-shell-linux64/chrome-headless-shell",
            ],
            "chromium_headless_shell-1255/chrome-headless-shell-linux64/chrome-headless-shell",
        ),
        # Older releases
        (
            ["chromium-1148/chrome-linux/chrome", "chromium_headless_shell-1148/chrome-linux/headless_shell"],
            "chromium_headless_shell-1148/chrome-linux/headless_shell",
        ),
        (["chromium-1255/chrome-linux64/chrome"], "chromium-1255/chrome-linux64/chrome"),
    ],
)
def test_the_images_browsers_are_found_under_playwright_browsers_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: list[str], expected: str
) -> None:
    for relative in layout:
        executable = tmp_path / relative
        executable.parent.mkdir(parents=True)
        executable.write_text("#!/bin/sh\n")
        executable.chmod(0o755)
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path))
    assert playwright_bundled() == str(tmp_path / expected)


def _locked() -> dict[str, tuple[str, list[str]]]:
    """requirements.lock as {normalised name: (version, hashes)}."""
    locked: dict[str, tuple[str, list[str]]] = {}
    current = ""
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not line.startswith(" "):
            name, _, version = stripped.rstrip(" \\").partition("==")
            assert version, f"requirements.lock: {stripped!r} is not pinned with =="
            current = re.sub(r"[-_.]+", "-", name.split("[")[0]).lower()
            locked[current] = (version, [])
        elif stripped.startswith("--hash=sha256:"):
            locked[current][1].append(stripped.removeprefix("--hash=sha256:").rstrip(" \\"))
    return locked


def test_the_image_installs_a_lock_file_with_hashes_only() -> None:
    deps = [
        i
        for i in _instructions()
        if i.keyword == "RUN" and "pip install" in i.value and "--no-deps" not in i.value
    ]
    assert len(deps) == 1
    assert "--require-hashes" in deps[0].value
    assert "-r requirements.lock" in deps[0].value
    locked = _locked()
    assert locked
    for name, (_, hashes) in locked.items():
        assert hashes, f"{name} has no hash in requirements.lock"
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), name


def test_the_lock_file_covers_every_dependency_at_an_allowed_version() -> None:
    from packaging.requirements import Requirement

    project = _pyproject()
    locked = _locked()
    for spec in project["build-system"]["requires"] + project["project"]["dependencies"]:
        requirement = Requirement(spec)
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        assert name in locked, f"{requirement.name} is in pyproject.toml but not in requirements.lock"
        assert requirement.specifier.contains(locked[name][0]), (
            f"requirements.lock pins {name}=={locked[name][0]}, outside {requirement.specifier}: regenerate"
        )
    assert not [n for n in locked if "guardian-bridge-fake" in n]
