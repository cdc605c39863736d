"""The OTP inbox and tickets from a user id: the fake tenant forwards each SMS, signed, to the bridge."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.serving import ServerThread, free_port
from guardian_bridge_fake.app import create_app as create_fake
from guardian_bridge_fake.harness import FakeTenantClient
from tests.api.conftest import TOKEN, bridge_settings
from tests.hosting import BridgeHost

SECRET = "inbox-secret-for-tests"
PHONE = "+14155550123"


class Pair:
    """A fake tenant whose SMS hook forwards to a bridge whose Auth0 credentials point at the fake."""

    def __init__(self, tmp: Path, host: BridgeHost) -> None:
        bridge_port, fake_port = free_port(), free_port()
        bridge_url, fake_url = f"http://127.0.0.1:{bridge_port}", f"http://127.0.0.1:{fake_port}"
        self.fake_server = ServerThread(
            create_fake(sms_webhook_url=f"{bridge_url}/v1/otp-inbox", sms_webhook_secret=SECRET),
            port=fake_port,
        )
        settings = bridge_settings(
            tmp,
            fake_port,
            otp_inbox_secret=SECRET,
            inbox_wait_s=20,
            auth0_domain=fake_url,
            auth0_client_id="fake-client",
            auth0_client_secret="fake-secret",
        )
        # The bridge runs on the session's shared bridge browser.
        self.bridge_server = host.serve(settings, port=bridge_port)
        self.fake = FakeTenantClient(fake_url)
        self.api = httpx.Client(
            base_url=bridge_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60.0
        )

    def __enter__(self) -> Pair:
        self.fake_server.start()
        self.bridge_server.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.api.close()
        self.fake.close()
        self.bridge_server.stop()
        self.fake_server.stop()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, bridge_host: BridgeHost) -> Iterator[Pair]:
    with Pair(tmp_path_factory.mktemp("inbox"), bridge_host) as p:
        yield p


@pytest.fixture
def clean(pair: Pair) -> Pair:
    pair.fake.reset()
    return pair


def _message(**overrides: Any) -> dict[str, Any]:
    return {
        "recipient": PHONE,
        "code": "123456",
        "text": "Your enrollment code is 123456",
        "action": "enrollment",
        "message_type": "sms",
        "id": f"msg_{uuid.uuid4().hex}",
        "created_at": datetime.now(UTC).isoformat(),
        **overrides,
    }


def _post(api: httpx.Client, body: bytes, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Signature"] = signature
    return api.post("/v1/otp-inbox", content=body, headers=headers)


def _sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _wait_final(api: httpx.Client, eid: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = api.get(f"/v1/enrollments/{eid}").json()
        if body["state"] in ("completed", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def test_good_message_is_accepted(clean: Pair) -> None:
    body = json.dumps(_message()).encode()
    response = _post(clean.api, body, _sign(body))
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": True, "matched": False}


def test_code_is_read_from_text_when_the_field_is_absent(clean: Pair) -> None:
    body = json.dumps(_message(code=None, text="Your code is 654321.")).encode()
    assert _post(clean.api, body, _sign(body)).status_code == 202


@pytest.mark.parametrize(
    ("signature", "code"),
    [
        (None, "invalid_signature"),
        ("sha256=" + "0" * 64, "invalid_signature"),
        ("md5=abc", "invalid_signature"),
    ],
)
def test_unsigned_or_badly_signed_messages_are_refused(clean: Pair, signature: str | None, code: str) -> None:
    response = _post(clean.api, json.dumps(_message()).encode(), signature)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code


def test_signature_with_another_key_is_refused(clean: Pair) -> None:
    body = json.dumps(_message()).encode()
    assert _post(clean.api, body, _sign(body, "other-secret")).status_code == 401


def test_replayed_message_is_refused(clean: Pair) -> None:
    body = json.dumps(_message()).encode()
    assert _post(clean.api, body, _sign(body)).status_code == 202
    again = _post(clean.api, body, _sign(body))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "message_replayed"


def test_stale_message_is_refused(clean: Pair) -> None:
    old = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    body = json.dumps(_message(created_at=old)).encode()
    response = _post(clean.api, body, _sign(body))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "message_stale"


def test_message_without_a_code_is_refused(clean: Pair) -> None:
    body = json.dumps(_message(code=None, text="hello")).encode()
    response = _post(clean.api, body, _sign(body))
    assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_request")


@pytest.mark.parametrize("experience", ["classic", "universal"])
def test_user_id_and_inbox_enroll_unattended(clean: Pair, experience: str) -> None:
    clean.fake.set_experience(experience)  # type: ignore[arg-type]
    user_id = clean.fake.add_user()["user_id"]
    # An older message for the same phone, with a wrong code: it must never be used.
    early = json.dumps(_message(code="999999", text="Your enrollment code is 999999")).encode()
    assert _post(clean.api, early, _sign(early)).status_code == 202
    response = clean.api.post(
        "/v1/enrollments", json={"user_id": user_id, "phone_number": PHONE, "code_source": "inbox"}
    )
    assert response.status_code == 201, response.text
    started = response.json()
    assert started["code_source"] == "inbox"
    final = _wait_final(clean.api, started["id"])
    assert final["state"] == "completed", final
    assert final["code_attempts"] == 1
    assert [s["name"] for s in final["steps"]] == ["start", "phone", "inbox", "code"]
    assert [e["phone_number"] for e in clean.fake.enrollments(user_id)] == [PHONE]


def test_only_the_matching_message_completes(clean: Pair) -> None:
    clean.fake.settings(forward_sms=False)  # the inbox hears only what this test sends
    ticket = clean.fake.create_ticket()
    started = clean.api.post(
        "/v1/enrollments",
        json={"ticket_url": ticket["ticket_url"], "phone_number": PHONE, "code_source": "inbox"},
    ).json()
    assert started["state"] == "awaiting_code", started
    code = clean.fake.latest_code(PHONE)
    other = json.dumps(_message(recipient="+14155550999", code=code)).encode()
    assert _post(clean.api, other, _sign(other)).json() == {"accepted": True, "matched": False}
    time.sleep(0.3)
    assert clean.api.get(f"/v1/enrollments/{started['id']}").json()["state"] == "awaiting_code"
    right = json.dumps(_message(code=code, text=f"Your enrollment code is {code}")).encode()
    assert _post(clean.api, right, _sign(right)).json() == {"accepted": True, "matched": True}
    assert _wait_final(clean.api, started["id"])["state"] == "completed"


def test_user_id_without_credentials_is_a_request_error(api: httpx.Client) -> None:
    response = api.post("/v1/enrollments", json={"user_id": "auth0|test-user-1"})
    assert response.status_code == 422
    assert "BRIDGE_AUTH0_DOMAIN" in response.json()["error"]["message"]


def test_inbox_mode_without_secret_is_refused(api: httpx.Client, fake: FakeTenantClient) -> None:
    ticket = fake.create_ticket()
    response = api.post(
        "/v1/enrollments",
        json={"ticket_url": ticket["ticket_url"], "phone_number": PHONE, "code_source": "inbox"},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (409, "inbox_disabled")


def test_both_ticket_url_and_user_id_is_invalid(api: httpx.Client) -> None:
    response = api.post(
        "/v1/enrollments", json={"ticket_url": "https://x.auth0.com/guardian/enroll", "user_id": "a"}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_request")
