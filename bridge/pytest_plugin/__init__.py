"""The ``guardian_bridge`` pytest plugin (entry point ``pytest11``): SMS enrollments as a fixture.

Options, each also read from the environment:

- ``--guardian-bridge-url`` / ``GUARDIAN_BRIDGE_URL`` and ``--guardian-bridge-token`` /
  ``GUARDIAN_BRIDGE_TOKEN``: a running bridge; users and cleanup use ``BRIDGE_AUTH0_*``.
- ``--guardian-fake`` / ``GUARDIAN_FAKE=1``: the embedded fake tenant and an in-process bridge, started
  once per session (per worker under pytest-xdist); ``--guardian-fake-experience`` picks its pages.

Fixtures: ``enroll_sms`` (``SmsEnroller``), ``guardian_tenant`` (``GuardianTenant``), ``guardian_phone`` (a
number no other worker uses) and the session's ``guardian_bridge`` (``GuardianEnvironment``). The marker
``guardian_keep`` leaves a test's enrollments and users in place. A failed enrollment's screenshot path and
captured calls are added to the failing test's report. Nothing here runs unless a test asks for a fixture.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from bridge.pytest_plugin.enroll import Evidence, SmsEnroller
    from bridge.pytest_plugin.hosting import GuardianEnvironment
    from bridge.pytest_plugin.tenant import GuardianTenant

EVIDENCE_KEY = pytest.StashKey[list["Evidence"]]()
_TRUE = {"1", "true", "yes", "on"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("guardian-bridge", "guardian-bridge SMS enrollments")
    group.addoption(
        "--guardian-bridge-url",
        default=os.environ.get("GUARDIAN_BRIDGE_URL"),
        help="a running bridge (env GUARDIAN_BRIDGE_URL)",
    )
    group.addoption(
        "--guardian-bridge-token",
        default=os.environ.get("GUARDIAN_BRIDGE_TOKEN"),
        help="its bearer token (env GUARDIAN_BRIDGE_TOKEN)",
    )
    group.addoption(
        "--guardian-fake",
        action="store_true",
        default=os.environ.get("GUARDIAN_FAKE", "").lower() in _TRUE,
        help="start the embedded fake tenant and an in-process bridge (env GUARDIAN_FAKE=1)",
    )
    group.addoption(
        "--guardian-fake-experience",
        choices=("classic", "universal"),
        default=os.environ.get("GUARDIAN_FAKE_EXPERIENCE", "classic"),
        help="the fake tenant's widget pages (env GUARDIAN_FAKE_EXPERIENCE)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "guardian_keep: leave this test's enrollments and created users in the tenant"
    )


@pytest.fixture(scope="session")
def guardian_bridge(pytestconfig: pytest.Config) -> Iterator[GuardianEnvironment]:
    """The bridge (and with --guardian-fake the fake tenant) this session enrolls through."""
    from bridge.pytest_plugin.hosting import MissingFakeError, connect, start_hermetic

    url = pytestconfig.getoption("guardian_bridge_url")
    if pytestconfig.getoption("guardian_fake"):
        try:
            env = start_hermetic(pytestconfig.getoption("guardian_fake_experience"))
        except MissingFakeError as exc:
            raise pytest.UsageError(str(exc)) from None
    elif url:
        env = connect(url, pytestconfig.getoption("guardian_bridge_token"))
    else:
        raise pytest.UsageError(
            "guardian-bridge fixtures need --guardian-fake (hermetic) or --guardian-bridge-url "
            "(GUARDIAN_FAKE=1 or GUARDIAN_BRIDGE_URL in the environment)"
        )
    yield env
    env.close()


@pytest.fixture
def guardian_tenant(
    request: pytest.FixtureRequest, guardian_bridge: GuardianEnvironment
) -> Iterator[GuardianTenant]:
    """Management API helpers: ``create_user``, ``create_ticket``, ``enrollments``, ``delete_enrollment``,
    ``delete_user``. Users the test creates are deleted at teardown (not with ``guardian_keep``)."""
    tenant = guardian_bridge.tenant
    if tenant is None:
        raise pytest.UsageError("guardian_tenant needs BRIDGE_AUTH0_DOMAIN, _CLIENT_ID and _CLIENT_SECRET")
    first = len(tenant.created_users)
    yield tenant
    if request.node.get_closest_marker("guardian_keep") is None:
        for user_id in tenant.created_users[first:]:
            tenant.delete_user(user_id)
    del tenant.created_users[first:]


@pytest.fixture(scope="session")
def _guardian_phones() -> object:
    from bridge.pytest_plugin.enroll import PhoneNumbers

    return PhoneNumbers()


@pytest.fixture
def guardian_phone(_guardian_phones: object) -> str:
    """A test phone number in E.164 that no other test of this run (nor any other xdist worker) uses."""
    from bridge.pytest_plugin.enroll import PhoneNumbers

    assert isinstance(_guardian_phones, PhoneNumbers)
    return _guardian_phones.next()


@pytest.fixture
def enroll_sms(
    request: pytest.FixtureRequest,
    guardian_bridge: GuardianEnvironment,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SmsEnroller]:
    """``enroll_sms(phone, *, user_id=None, ticket_url=None, engine=None, keep=False)`` -> the completed
    Enrollment; what it enrolled (and users it created) are deleted at teardown."""
    from bridge.pytest_plugin.enroll import SmsEnroller

    keep = request.node.get_closest_marker("guardian_keep") is not None
    artifacts = tmp_path_factory.getbasetemp() / "guardian-bridge"
    enroller = SmsEnroller(guardian_bridge, artifacts, keep=keep)
    request.node.stash[EVIDENCE_KEY] = enroller.evidence
    yield enroller
    problems = enroller.cleanup()
    if problems:
        request.node.warn(pytest.PytestWarning("guardian-bridge cleanup left: " + "; ".join(problems)))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Adds each failed enrollment's evidence to a failing test's report: a section with the captured
    calls, and the screenshot's path as a user property (JUnit XML writes it as a property)."""
    report = yield
    evidence = item.stash.get(EVIDENCE_KEY, [])
    if report.failed and report.when == "call":
        for found in evidence:
            lines = [found.summary]
            if found.screenshot is not None:
                lines.append(f"screenshot: {found.screenshot}")
                prop = ("guardian_bridge_screenshot", str(found.screenshot))
                report.user_properties.append(prop)
                # The JUnit XML report reads properties from the later teardown report, made from the item.
                item.user_properties.append(prop)
            lines += ["captured calls:", *(f"  {c}" for c in found.calls)] if found.calls else []
            report.sections.append((f"guardian-bridge enrollment {found.enrollment_id}", "\n".join(lines)))
    return report
