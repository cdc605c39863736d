"""The pytest plugin as a QA suite uses it: pytest runs (pytester, in subprocesses) of the committed example
file and of small test files, hermetic (``--guardian-fake``), under pytest-xdist, and misconfigured.

Each run starts its own fake tenant and bridge, so the runs are few and each covers several behaviours.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "pytest" / "test_sms_enrollment.py"

# Runs in file order after the example: checks what the plugin cleaned up and what a test kept.
CLEANUP_CHECKS = """
import httpx
import pytest


def test_enroll_a_created_user(enroll_sms, guardian_phone, guardian_bridge):
    assert enroll_sms(guardian_phone).state == "completed"
    state = httpx.get(guardian_bridge.fake_url + "/__test/state").json()
    assert (len(state["users"]), state["enrollments"]) == (4, 1)


def test_the_created_users_and_enrollments_are_gone(guardian_bridge):
    state = httpx.get(guardian_bridge.fake_url + "/__test/state").json()
    # Only the fake's three seeded users are left: every user a test created was deleted.
    assert sorted(state["users"]) == ["auth0|test-user-1", "auth0|test-user-2", "auth0|test-user-3"]
    assert state["enrollments"] == 0


@pytest.mark.guardian_keep
def test_kept(enroll_sms, guardian_phone):
    enroll_sms(guardian_phone, user_id="auth0|test-user-1")


def test_a_kept_enrollment_stays(guardian_tenant):
    [kept] = guardian_tenant.enrollments("auth0|test-user-1")
    assert kept["status"] == "confirmed"


def test_enroll_without_cleanup_by_argument(enroll_sms, guardian_phone, guardian_tenant):
    enroll_sms(guardian_phone, user_id="auth0|test-user-2", keep=True)
    enroll_sms(guardian_phone, user_id="auth0|test-user-3")


def test_only_the_argument_kept_one_stays(guardian_tenant):
    assert len(guardian_tenant.enrollments("auth0|test-user-2")) == 1
    assert guardian_tenant.enrollments("auth0|test-user-3") == []
"""

FAILING = """
def test_an_invalid_number_fails_with_evidence(enroll_sms):
    enroll_sms("+1415555", engine="browser")
"""


def _copy_example(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_a_example=EXAMPLE.read_text())


@pytest.mark.browser  # its runs start a bridge with Chromium
def test_the_example_and_cleanup_hermetically_with_failure_evidence(pytester: pytest.Pytester) -> None:
    _copy_example(pytester)
    pytester.makepyfile(test_b_cleanup=CLEANUP_CHECKS, test_c_failing=FAILING)
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess(
        "--guardian-fake", "-p", "no:cacheprovider", f"--junitxml={junit}", "-rA", timeout=300
    )
    result.assert_outcomes(passed=10, failed=1)
    output = result.stdout.str()
    # The bridge's own exception, with the outcome code and the widget's message.
    result.stdout.fnmatch_lines(
        ["*EnrollmentFailedError: enrollment * ended awaiting_phone: invalid_phone_number*"]
    )
    assert "the widget said:" in output
    # The evidence in the report: a section with the captured calls and the screenshot's path.
    result.stdout.fnmatch_lines(["*guardian-bridge enrollment *", "screenshot: *.png", "captured calls:"])
    assert "+1415555" not in output.split("guardian-bridge enrollment", 1)[1]  # calls are redacted
    testcase = next(
        c
        for c in ET.parse(junit).getroot().iter("testcase")  # noqa: S314 (pytest's own report)
        if c.get("name") == "test_an_invalid_number_fails_with_evidence"
    )
    [screenshot] = [
        p.get("value") for p in testcase.iter("property") if p.get("name") == "guardian_bridge_screenshot"
    ]
    assert Path(str(screenshot)).read_bytes().startswith(b"\x89PNG")


@pytest.mark.browser
def test_xdist_workers_with_the_environment_switch(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_parallel="""
import json, pathlib

import pytest


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_enroll(enroll_sms, guardian_phone, worker_id, n):
    assert enroll_sms(guardian_phone, engine="protocol").recovery_code
    pathlib.Path(f"phone-{worker_id}-{n}.json").write_text(json.dumps(guardian_phone))
"""
    )
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", timeout=300)
    result.assert_outcomes(passed=4)
    # GUARDIAN_FAKE=1 (set below), not a flag: each worker ran its own fake tenant and bridge, and no
    # two tests, in one worker or across both, got the same number.
    files = list(pytester.path.glob("phone-gw*.json"))
    assert {f.name.split("-")[1] for f in files} == {"gw0", "gw1"}
    assert len({f.read_text() for f in files}) == 4


@pytest.fixture(autouse=True)
def _project(
    pytester: pytest.Pytester, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A QA project's own settings: pytest-asyncio (installed here) warns when its loop scope is unset.
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    if request.node.name == "test_xdist_workers_with_the_environment_switch":
        monkeypatch.setenv("GUARDIAN_FAKE", "1")


def test_a_suite_without_a_bridge_is_told_what_to_pass(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(enroll_sms):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*--guardian-fake*--guardian-bridge-url*"])


def test_the_readme_shows_the_example_file_as_it_is() -> None:
    section = (
        (ROOT / "README.md").read_text().split("## Testing your app with pytest", 1)[1].split("\n## ", 1)[0]
    )
    [_, shown] = section.split("```python\n")
    assert shown.split("```", 1)[0] == EXAMPLE.read_text()
