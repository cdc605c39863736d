"""``guardian-bridge demo`` runs to completion: the README's first command on a fresh machine."""

from __future__ import annotations

import json
import re

from tests.cli.conftest import run_cli


def test_demo_enrolls_both_flavours(env: dict[str, str]) -> None:
    proc = run_cli(["demo", "--experience", "both"], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert re.findall(r"^== (\w+) widget", out, re.MULTILINE) == ["classic", "universal"]
    assert len(re.findall(r"^recovery code: [A-Z0-9]{24}$", out, re.MULTILINE)) == 2
    # The captured Guardian calls of the classic widget, and Universal Login's form posts.
    for call in ("POST start-flow", "POST sms-enroll", "POST verify-otp", "POST u/mfa-sms-enrollment"):
        assert f"call {call} " in out
    assert re.findall(r"^step (\w+): ok", out, re.MULTILINE) == ["start", "phone", "inbox", "code"] * 2
    assert "4155550123" not in out + proc.stderr
    assert "\x1b" not in out


def test_demo_json_is_one_object(env: dict[str, str]) -> None:
    proc = run_cli(["demo", "--experience", "universal", "--json"], env)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["exit_code"] == 0
    [run] = result["runs"]
    assert (run["experience"], run["enrollment"]["state"]) == ("universal", "completed")
    assert {"method", "endpoint", "status", "auth_scheme", "duration_ms"} <= set(run["calls"][0])
