"""``demo`` and ``fake-guardian`` need the fake tenant's separate distribution; without it they say what to
install and exit with the usage code, instead of failing with an ImportError."""

from __future__ import annotations

import pytest
import typer

from bridge.cli.fake import FAKE_PACKAGE, require_fake
from bridge.outcomes import ExitClass


def test_an_absent_fake_names_what_to_install(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as exited:
        require_fake("guardian_bridge_fake_that_does_not_exist")
    assert exited.value.exit_code == int(ExitClass.USAGE)
    err = capsys.readouterr().err
    assert "guardian_bridge_fake_that_does_not_exist" in err
    assert "pip install -e fixtures/" in err
    assert "guardian-bridge-fake" in err


def test_the_installed_fake_passes(capsys: pytest.CaptureFixture[str]) -> None:
    require_fake(FAKE_PACKAGE)
    assert capsys.readouterr().err == ""
