"""``guardian-bridge doctor`` against the fake tenant: each check passing, then failing in the broken state
the fake's ``/__test/tenant-setup`` switch puts the tenant in, with its fix and the exit code."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from bridge.cli.app import app
from bridge.serving import ServerThread, free_port
from bridge.settings import BridgeSettings
from guardian_bridge_fake.harness import FakeTenantClient

ALL_SCOPES = [
    "create:guardian_enrollment_tickets",
    "read:guardian_enrollments",
    "delete:guardian_enrollments",
    "read:users",
    "create:users",
    "delete:users",
    "read:guardian_factors",
    "read:actions",
    "read:custom_domains",
]


def _env(fake_server: ServerThread, **extra: str) -> dict[str, str]:
    return {
        "BRIDGE_AUTH0_DOMAIN": fake_server.base_url,
        "BRIDGE_AUTH0_CLIENT_ID": "fake-client",
        "BRIDGE_AUTH0_CLIENT_SECRET": "fake-secret",
        "BRIDGE_ALLOWED_HOSTS": f"127.0.0.1:{fake_server.port}",
        **extra,
    }


def doctor(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, ["doctor", "--json", *args], env=env)
    report = json.loads(result.stdout)
    assert report["exit_code"] == result.exit_code
    return result.exit_code, {c["id"]: c for c in report["checks"]}


def test_a_working_tenant_passes_every_check(fake: FakeTenantClient, fake_server: ServerThread) -> None:
    code, checks = doctor(_env(fake_server))
    assert code == 0
    assert {c["status"] for c in checks.values()} == {"ok"}
    assert list(checks) == [
        "token",
        "scopes",
        "phone_factor",
        "phone_provider",
        "message_types",
        "phone_message_action",
        "allowed_hosts",
    ]
    assert "phone-message-hook" in checks["phone_provider"]["detail"]
    assert "like the example" in checks["phone_message_action"]["detail"]


def test_text_output_is_a_checklist_with_fixes(fake: FakeTenantClient, fake_server: ServerThread) -> None:
    fake.tenant_setup(phone_provider="twilio")
    result = CliRunner().invoke(app, ["doctor"], env=_env(fake_server))
    assert result.exit_code == 1
    assert "[FAIL] phone provider: twilio" in result.stdout
    assert "fix: Phone Message > Delivery Provider: Custom" in result.stdout
    assert "[ok]   SMS (phone) factor" in result.stdout
    assert "fake-secret" not in result.stdout


BROKEN = [
    pytest.param({"granted_scopes": []}, "token", "fail", 1, 'create a "client-grant"', id="no-client-grant"),
    pytest.param(
        {"granted_scopes": [s for s in ALL_SCOPES if s != "create:guardian_enrollment_tickets"]},
        "scopes",
        "fail",
        1,
        "missing create:guardian_enrollment_tickets",
        id="no-ticket-scope",
    ),
    pytest.param(
        {"granted_scopes": [s for s in ALL_SCOPES if s != "delete:users"]},
        "scopes",
        "warn",
        0,
        "missing delete:users",
        id="no-plugin-scope",
    ),
    pytest.param(
        {"granted_scopes": [s for s in ALL_SCOPES if s != "read:guardian_factors"]},
        "phone_factor",
        "error",
        2,
        "lacks read:guardian_factors",
        id="doctor-cannot-read-factors",
    ),
    pytest.param({"enabled_factors": ["otp"]}, "phone_factor", "fail", 1, "not enabled", id="sms-off"),
    pytest.param({"phone_provider": "auth0"}, "phone_provider", "fail", 1, "auth0:", id="provider-auth0"),
    pytest.param({"message_types": ["voice"]}, "message_types", "fail", 1, "SMS is off", id="voice-only"),
    pytest.param({"actions": []}, "phone_message_action", "fail", 1, "none exists", id="no-action"),
    pytest.param(
        {"actions": [{"deployed": False}]},
        "phone_message_action",
        "fail",
        1,
        "not deployed",
        id="not-deployed",
    ),
    pytest.param(
        {"actions": [{"bound": False}]}, "phone_message_action", "fail", 1, "not bound", id="not-bound"
    ),
    pytest.param(
        {"actions": [{"kind": "other", "name": "gateway"}]},
        "phone_message_action",
        "warn",
        0,
        "not like the forwarding example",
        id="other-action",
    ),
    pytest.param(
        {"custom_domains": [{"domain": "login.example.com"}]},
        "allowed_hosts",
        "fail",
        1,
        "not covered: login.example.com",
        id="custom-domain-not-allowed",
    ),
]


@pytest.mark.parametrize(("setup", "check", "status", "exit_code", "detail"), BROKEN)
def test_each_broken_state_is_reported_with_its_fix(
    fake: FakeTenantClient,
    fake_server: ServerThread,
    setup: dict[str, Any],
    check: str,
    status: str,
    exit_code: int,
    detail: str,
) -> None:
    fake.tenant_setup(**setup)
    code, checks = doctor(_env(fake_server))
    assert (checks[check]["status"], code) == (status, exit_code)
    assert detail in checks[check]["detail"]
    assert checks[check]["fix"]
    others = [c["status"] for i, c in checks.items() if i != check and not i.startswith(("scopes", "token"))]
    # A scope the doctor lacks hides every check that reads with it (factors, provider, message types).
    allowed = {"ok", "skip", "error"} if status == "error" else {"ok", "skip"}
    assert set(others) <= allowed


def test_covered_and_pending_custom_domains(fake: FakeTenantClient, fake_server: ServerThread) -> None:
    fake.tenant_setup(
        custom_domains=[
            {"domain": "login.example.com"},
            {"domain": "id.example.org", "status": "pending_verification"},
        ]
    )
    env = _env(fake_server, BRIDGE_ALLOWED_HOSTS=f"127.0.0.1:{fake_server.port},login.example.com")
    code, checks = doctor(env)
    assert code == 0
    assert f"covers 127.0.0.1:{fake_server.port}, login.example.com" in checks["allowed_hosts"]["detail"]
    assert "id.example.org is pending_verification" in checks["allowed_hosts"]["detail"]


def test_the_tenant_domain_itself_must_be_allowed(fake: FakeTenantClient, fake_server: ServerThread) -> None:
    code, checks = doctor(_env(fake_server, BRIDGE_ALLOWED_HOSTS="*.auth0.com"))
    assert code == 1
    assert checks["allowed_hosts"]["detail"].startswith(f"not covered: 127.0.0.1:{fake_server.port}")
    # A loopback entry without the tenant's port is https on 443 only: it does not cover the tenant.
    code, checks = doctor(_env(fake_server, BRIDGE_ALLOWED_HOSTS="127.0.0.1"))
    assert code == 1
    assert f"add 127.0.0.1:{fake_server.port} to BRIDGE_ALLOWED_HOSTS" in checks["allowed_hosts"]["fix"]


def test_wrong_credentials_fail_the_token_and_skip_the_rest(
    fake: FakeTenantClient, fake_server: ServerThread
) -> None:
    code, checks = doctor(_env(fake_server, BRIDGE_AUTH0_CLIENT_SECRET="not-the-secret"))
    assert code == 1
    assert checks["token"]["status"] == "fail"
    assert "BRIDGE_AUTH0_CLIENT_SECRET" in checks["token"]["fix"]
    assert {c["status"] for i, c in checks.items() if i != "token"} == {"skip"}


def test_a_tenant_error_means_could_not_check(fake: FakeTenantClient, fake_server: ServerThread) -> None:
    fake.add_fault("guardian-factors", error="http_500")
    code, checks = doctor(_env(fake_server))
    assert (code, checks["phone_factor"]["status"]) == (2, "error")


def test_unconfigured_and_unreachable_tenants_cannot_be_checked() -> None:
    result = CliRunner().invoke(app, ["doctor", "--json"], env={"BRIDGE_AUTH0_DOMAIN": ""})
    assert result.exit_code == 2
    assert json.loads(result.stdout)["checks"][0]["id"] == "config"
    unreachable = {
        "BRIDGE_AUTH0_DOMAIN": f"http://127.0.0.1:{free_port()}",
        "BRIDGE_AUTH0_CLIENT_ID": "x",
        "BRIDGE_AUTH0_CLIENT_SECRET": "y",
    }
    code, checks = doctor(unreachable)
    assert (code, checks["token"]["status"]) == (2, "error")


# --- --bridge ------------------------------------------------------------------------------------


def _bridge_settings(fake_server: ServerThread, **values: Any) -> BridgeSettings:
    return BridgeSettings(
        allowed_hosts=[f"127.0.0.1:{fake_server.port}"], api_tokens=["good-token-for-doctor-tests"], **values
    )


def test_a_working_bridge(fake: FakeTenantClient, fake_server: ServerThread, bridge_host: Any) -> None:
    with bridge_host.serve(_bridge_settings(fake_server, otp_inbox_secret="s" * 32)) as bridge:
        code, checks = doctor(
            _env(fake_server), "--bridge", bridge.base_url, "--token", "good-token-for-doctor-tests"
        )
    assert code == 0
    assert [
        checks[i]["status"] for i in ("bridge_reachable", "bridge_ready", "bridge_token", "bridge_inbox")
    ] == ["ok"] * 4
    assert f"{bridge.base_url}/v1/otp-inbox" in checks["bridge_inbox"]["detail"]


def test_a_busy_bridge_without_inbox_refusing_the_token(
    fake: FakeTenantClient, fake_server: ServerThread, bridge_host: Any
) -> None:
    with bridge_host.serve(_bridge_settings(fake_server, max_enrollments=1, max_queue=0)) as bridge:
        ticket = fake.create_ticket()["ticket_url"]
        headers = {"Authorization": "Bearer good-token-for-doctor-tests"}
        # One open enrollment takes the only session, so the bridge is not ready for another.
        opened = httpx.post(
            f"{bridge.base_url}/v1/enrollments", json={"ticket_url": ticket}, headers=headers, timeout=60
        )
        assert opened.status_code == 201, opened.text
        code, checks = doctor(_env(fake_server), "--bridge", bridge.base_url, "--token", "wrong")
    assert code == 1
    assert checks["bridge_reachable"]["status"] == "ok"
    assert [checks[i]["status"] for i in ("bridge_ready", "bridge_token", "bridge_inbox")] == ["fail"] * 3
    assert "BRIDGE_OTP_INBOX_SECRET" in checks["bridge_inbox"]["fix"]


def test_an_unreachable_bridge(fake: FakeTenantClient, fake_server: ServerThread) -> None:
    code, checks = doctor(_env(fake_server), "--bridge", f"http://127.0.0.1:{free_port()}")
    assert code == 1
    assert checks["bridge_reachable"]["status"] == "fail"
    assert checks["bridge_inbox"]["status"] == "skip"
