"""``guardian-bridge enroll`` end to end: codes from stdin and from the inbox, tickets from a user id,
``--json`` and the exit codes, against the fake tenant with a bridge started in the command."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from typer.testing import CliRunner

from bridge.cli.app import app
from bridge.cli.enroll import EXIT_CODES, ExitCode
from bridge.serving import free_port
from guardian_bridge_fake.harness import FakeTenantClient
from tests.cli.conftest import INBOX_SECRET, PHONE, ForwardingFake, run_cli, run_with_code_on_stdin

RECOVERY_LINE = re.compile(r"^recovery code: [A-Z0-9]{24}$")


def _json(stdout: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(stdout)  # fails unless stdout is exactly one JSON document
    return result


@pytest.mark.parametrize("experience", ["classic", "universal"])
def test_stdin_code_enrolls_with_plain_output(
    fake: FakeTenantClient, env: dict[str, str], experience: str
) -> None:
    fake.set_experience(experience)  # type: ignore[arg-type]
    user_id = fake.add_user()["user_id"]
    ticket = fake.create_ticket(user_id)
    proc = run_with_code_on_stdin(["--ticket-url", ticket["ticket_url"], "--phone", PHONE], env, fake)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split(" (")[0] for line in lines[:3]] == [
        "step start: ok",
        "step phone: ok",
        "step code: ok",
    ]
    assert lines[-2] == f"result: completed ({experience} widget, phone +1******0123)"
    assert RECOVERY_LINE.match(lines[-1]), lines[-1]
    # Piped: no ANSI escapes; and nowhere the full phone number, the code or the ticket.
    everything = proc.stdout + proc.stderr
    assert "\x1b" not in everything
    assert "4155550123" not in everything
    assert ticket["ticket_id"] not in everything
    assert fake.latest_code(PHONE) not in everything
    assert [e["phone_number"] for e in fake.enrollments(user_id)] == [PHONE]


def test_json_result_then_used_ticket_exits_3(fake: FakeTenantClient, env: dict[str, str]) -> None:
    ticket_url = fake.create_ticket()["ticket_url"]
    args = ["--ticket-url", ticket_url, "--phone", PHONE, "--code-from", "stdin", "--json"]
    done = run_with_code_on_stdin(args, env, fake)
    assert done.returncode == 0, done.stderr
    result = _json(done.stdout)
    assert (result["state"], result["exit_code"], result["flavour"]) == ("completed", 0, "classic")
    assert re.fullmatch(r"[A-Z0-9]{24}", result["recovery_code"])
    assert result["phone_number"] == "+1******0123"
    assert [s["name"] for s in result["steps"]] == ["start", "phone", "code"]

    again = run_cli(["enroll", *args], env)
    assert again.returncode == 3
    result = _json(again.stdout)
    assert (result["state"], result["last_error"]["code"], result["exit_code"]) == (
        "failed",
        "ticket_used",
        3,
    )


def test_invalid_phone_exits_6(fake: FakeTenantClient, env: dict[str, str]) -> None:
    ticket_url = fake.create_ticket()["ticket_url"]
    proc = run_cli(["enroll", "--ticket-url", ticket_url, "--phone", "+15555550100", "--json"], env)
    assert proc.returncode == 6, proc.stderr
    result = _json(proc.stdout)
    assert result["state"] == "awaiting_phone"  # the enrollment as it was: the widget allows another try
    assert (result["last_error"]["code"], result["exit_code"]) == ("invalid_phone_number", 6)


def test_no_code_on_stdin_exits_5(fake: FakeTenantClient, env: dict[str, str]) -> None:
    ticket_url = fake.create_ticket()["ticket_url"]
    proc = run_cli(["enroll", "--ticket-url", ticket_url, "--phone", PHONE], env, stdin="")
    assert proc.returncode == 5
    assert proc.stdout.splitlines()[-1] == "result: awaiting_code, no_code: No code was given. (exit 5)"


def test_user_id_gets_its_ticket_from_the_management_api(fake: FakeTenantClient, env: dict[str, str]) -> None:
    fake.set_experience("universal")
    user_id = fake.add_user()["user_id"]
    env |= {
        "BRIDGE_AUTH0_DOMAIN": fake.base_url,
        "BRIDGE_AUTH0_CLIENT_ID": "fake-client",
        "BRIDGE_AUTH0_CLIENT_SECRET": "fake-secret",
    }
    proc = run_with_code_on_stdin(["--user-id", user_id, "--phone", PHONE, "--json"], env, fake)
    assert proc.returncode == 0, proc.stderr
    assert _json(proc.stdout)["state"] == "completed"
    assert [e["phone_number"] for e in fake.enrollments(user_id)] == [PHONE]


def test_unknown_user_id_is_a_usage_error(fake: FakeTenantClient, env: dict[str, str]) -> None:
    env |= {
        "BRIDGE_AUTH0_DOMAIN": fake.base_url,
        "BRIDGE_AUTH0_CLIENT_ID": "fake-client",
        "BRIDGE_AUTH0_CLIENT_SECRET": "fake-secret",
    }
    proc = run_cli(["enroll", "--user-id", "auth0|nobody", "--phone", PHONE, "--json"], env)
    assert proc.returncode == ExitCode.USAGE
    assert _json(proc.stdout) == {
        "error": {"code": "invalid_request", "message": "the Auth0 tenant has no user with this user_id"},
        "exit_code": 2,
    }


@pytest.mark.parametrize("experience", ["classic", "universal"])
def test_inbox_code_enrolls_unattended(
    forwarding_fake: ForwardingFake, env: dict[str, str], experience: str
) -> None:
    tenant = forwarding_fake.client
    tenant.reset()
    tenant.set_experience(experience)  # type: ignore[arg-type]
    ticket_url = tenant.create_ticket()["ticket_url"]
    port = str(forwarding_fake.listen_port)
    args = ["enroll", "--ticket-url", ticket_url, "--phone", PHONE, "--code-from", "inbox"]
    args += ["--listen-port", port, "--inbox-secret", INBOX_SECRET, "--json"]
    proc = run_cli(args, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = _json(proc.stdout)
    assert (result["state"], result["code_source"], result["flavour"]) == ("completed", "inbox", experience)
    assert [s["name"] for s in result["steps"]] == ["start", "phone", "inbox", "code"]
    # Where to point the tenant's Action, on stderr so stdout stays one JSON object.
    assert f"http://127.0.0.1:{port}/v1/otp-inbox" in proc.stderr


def test_unreachable_bridge_exits_7(env: dict[str, str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    args = ["enroll", "--bridge", url, "--ticket-url", "https://example.auth0.com/x", "--phone", PHONE]
    proc = run_cli([*args, "--json"], env | {"BRIDGE_API_TOKEN": "t"})
    assert proc.returncode == 7
    assert _json(proc.stdout)["error"]["code"] == "connection_error"


@pytest.mark.parametrize(
    "args",
    [
        ["--phone", PHONE],  # neither target
        ["--phone", PHONE, "--ticket-url", "https://example.auth0.com/x", "--user-id", "auth0|x"],
        ["--phone", PHONE, "--ticket-url", "https://example.auth0.com/x", "--code-from", "inbox"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    # Refused before any bridge starts, so CliRunner (no subprocess, no browser) is enough.
    result = CliRunner().invoke(app, ["enroll", *args], env={"BRIDGE_OTP_INBOX_SECRET": None})
    assert result.exit_code == ExitCode.USAGE, result.output


def test_exit_codes_are_a_stable_interface() -> None:
    # Scripts branch on these numbers: changing one is a breaking change.
    assert {code.name: int(code) for code in ExitCode} == {
        "COMPLETED": 0,
        "OTHER": 1,
        "USAGE": 2,
        "TICKET": 3,
        "ALREADY_ENROLLED": 4,
        "CODE": 5,
        "PHONE": 6,
        "BRIDGE": 7,
    }


@pytest.mark.parametrize("command", ["enroll", "demo"])
def test_help_lists_the_exit_codes(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    assert "Exit codes" in result.output
    for code, text in EXIT_CODES.items():
        assert f"{int(code)}  {text}" in result.output
