"""The fake Auth0 tenant, for the two commands that exist to run it (``demo`` and ``fake-guardian``).

The fake is its own distribution (``guardian-bridge-fake``, in ``fixtures/`` of a source checkout), never
part of the bridge's wheel or image, so these commands check it is importable first and, when it is not,
say what to install instead of failing with an ``ImportError``.
"""

from __future__ import annotations

import importlib.util

import typer

from bridge.outcomes import ExitClass

FAKE_PACKAGE = "guardian_bridge_fake"
FAKE_DISTRIBUTION = "guardian-bridge-fake"


def missing_fake_message(package: str = FAKE_PACKAGE) -> str:
    return (
        f"This command runs the fake Auth0 tenant, and its package ({package}) is not installed. "
        f"From a source checkout: pip install -e fixtures/ (scripts/dev does it); otherwise install "
        f"the {FAKE_DISTRIBUTION} distribution."
    )


def require_fake(package: str = FAKE_PACKAGE) -> None:
    """Returns when ``package`` can be imported; otherwise says what to install and exits (usage error).

    ``package`` is a parameter so the refusal can be exercised with a name that is certainly absent.
    """
    if importlib.util.find_spec(package) is None:
        typer.echo(missing_fake_message(package), err=True)
        raise typer.Exit(int(ExitClass.USAGE))
