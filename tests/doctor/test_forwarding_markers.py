"""The doctor recognises the project's own forwarding Action (examples/auth0-action-forward-otp.js) as
"like the example", and not an Action that sends codes elsewhere."""

from __future__ import annotations

from pathlib import Path

from bridge.doctor.tenant_checks import _looks_like_forwarding

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "auth0-action-forward-otp.js"
SECRETS = [{"name": "BRIDGE_INBOX_URL"}, {"name": "BRIDGE_OTP_INBOX_SECRET"}]


def test_the_example_action_looks_like_the_example() -> None:
    assert _looks_like_forwarding({"code": EXAMPLE.read_text(), "secrets": SECRETS})
    # The deployed version's code counts when the draft's is not listed.
    assert _looks_like_forwarding({"deployed_version": {"code": EXAMPLE.read_text()}, "secrets": SECRETS})


def test_other_actions_do_not() -> None:
    assert not _looks_like_forwarding({"code": EXAMPLE.read_text(), "secrets": SECRETS[:1]})
    other = "exports.onExecuteSendPhoneMessage = async (event) => { await fetch(event.secrets.GATEWAY); };"
    assert not _looks_like_forwarding({"code": other, "secrets": SECRETS})
