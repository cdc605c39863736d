"""Issue 11 items 13, 15 and 16 (files): the log scrubber's generic patterns, Chromium's sandbox
decision, and the artifacts directory (0700, no writing through links, leftovers removed at start-up)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from bridge.artifacts import Artifacts, remove_leftovers, write_private
from bridge.browser import launch_options
from bridge.logs import scrub
from bridge.sandbox import sandbox_on
from tests.hosting import BridgeHost
from tests.security.conftest import TOKEN_A, client, settings_for


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("GET https://acme.eu.auth0.com/guardian/enroll?ticket=Zk3xQ9pLmN0 200", "Zk3xQ9pLmN0"),
        ("POST /u/mfa-sms-enrollment?state=hKFo2SBsYmE3RkFRc 302", "hKFo2SBsYmE3RkFRc"),
        ("form state=hKFo2SBsYmE3RkFRc&action=default", "hKFo2SBsYmE3RkFRc"),
        ("sent to +1 415-555-0123", "415-555-0123"),
        ("sent to +44 (20) 7946 0958", "7946 0958"),
        ("Your verification code is 482913", "482913"),
        ("otp=482913", "482913"),
    ],
)
def test_the_log_scrubber_knows_any_tenants_handles_and_formatted_secrets(line: str, secret: str) -> None:
    assert secret not in scrub(line)


def test_the_log_scrubber_leaves_ordinary_lines_alone() -> None:
    line = "step phone of enr_0123456789abcdef0123 took 1.25 s (version 1.65.2)"
    assert scrub(line) == line


@pytest.mark.parametrize(
    ("mode", "euid", "on"),
    [("auto", 1000, True), ("auto", 0, False), ("on", 0, True), ("off", 1000, False)],
)
def test_the_sandbox_is_on_whenever_the_process_is_not_root(mode: str, euid: int, on: bool) -> None:
    assert sandbox_on(mode, euid) is on  # type: ignore[arg-type]


def test_forcing_the_sandbox_on_leaves_no_no_sandbox_flag(tmp_path: Path) -> None:
    forced = launch_options(settings_for(tmp_path, browser_sandbox="on"), euid=0)
    assert forced["chromium_sandbox"] is True
    assert not any("no-sandbox" in arg for arg in forced["args"])
    as_user = launch_options(settings_for(tmp_path), euid=1000)
    assert as_user["chromium_sandbox"] is True
    assert launch_options(settings_for(tmp_path), euid=0)["chromium_sandbox"] is False


def test_the_artifacts_directory_is_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = Artifacts(tmp_path / "artifacts", "enr_0123456789abcdef").write("shot.png", b"png")
    finally:
        os.umask(old)
    assert (tmp_path / "artifacts").stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o600


def test_an_artifact_is_never_written_through_a_planted_link(tmp_path: Path) -> None:
    directory = tmp_path / "artifacts"
    directory.mkdir(mode=0o700)
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    (directory / "enr_0123456789abcdef-shot.png").symlink_to(victim)
    with pytest.raises(OSError, match=r"symbolic links|Too many levels") as info:
        write_private(directory, "enr_0123456789abcdef-shot.png", b"secret picture")
    assert info.value.errno == errno.ELOOP  # O_NOFOLLOW refused the link
    assert victim.read_text() == "untouched"


def test_leftovers_of_an_earlier_run_are_removed_at_start_up(bridge_host: BridgeHost, tmp_path: Path) -> None:
    directory = tmp_path / "artifacts"
    directory.mkdir(mode=0o700)
    leftovers = [
        directory / "enr_0123456789abcdef-trace.zip",
        directory / "enr_fedcba9876543210-unrecognized.png",
    ]
    for path in leftovers:
        path.write_bytes(b"old")
    kept = directory / "operator-notes.txt"  # not an enrollment's file: not the bridge's to delete
    kept.write_text("keep")
    with bridge_host.serve(settings_for(tmp_path)) as server, client(server.base_url, TOKEN_A) as api:
        assert api.get("/healthz").status_code == 200
        assert not any(path.exists() for path in leftovers)
    assert kept.exists()
    assert remove_leftovers(tmp_path / "missing") == 0
    assert not (tmp_path / "missing").exists()
