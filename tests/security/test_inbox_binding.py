"""Issue 11 items 1, 7, 9 and 10: an OTP inbox code reaches the enrollment it was sent for or none."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from bridge.errors import InvalidRequestError, MessageReplayedError
from bridge.inbox import OtpInbox
from tests.security.conftest import OTHER_PHONE, PHONE, SECRET, Bed, message, sign, wait_until


def _awaiting_code(body: dict[str, object]) -> bool:
    return body["state"] == "awaiting_code"


def test_a_refused_phone_request_leaves_the_stored_phone_and_steals_no_code(bed: Bed) -> None:
    """The reported attack: X (token B) points its phone at V's number through a request the state
    machine refuses, resends, and waits for V's code. Now the refused request changes nothing, V gets its
    own code and completes, and X never sees a code."""
    bed.fake.settings(forward_sms=False)  # X's own codes never arrive: it stays waiting
    x = bed.start_inbox(bed.b, OTHER_PHONE)
    refused = bed.b.post(f"/v1/enrollments/{x['id']}/phone", json={"phone_number": PHONE})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "step_out_of_order")
    after = bed.b.get(f"/v1/enrollments/{x['id']}").json()
    assert after["phone_number"] == x["phone_number"] == "+1******0188"
    assert bed.b.post(f"/v1/enrollments/{x['id']}/resend").status_code == 200
    bed.fake.settings(forward_sms=True)
    v = bed.start_inbox(bed.a, PHONE)
    done = wait_until(bed.a, v["id"], lambda body: body["state"] == "completed")
    assert done["state"] == "completed", done
    x_now = bed.b.get(f"/v1/enrollments/{x['id']}").json()
    assert x_now["code_attempts"] == 0
    assert x_now["state"] == "awaiting_code"


def test_a_code_for_a_phone_several_wait_for_goes_to_none_of_them(bed: Bed) -> None:
    bed.fake.settings(forward_sms=False)
    ids = []
    for api in (bed.a, bed.b):
        ticket = bed.fake.create_ticket()["ticket_url"]
        started = api.post(
            "/v1/enrollments", json={"ticket_url": ticket, "phone_number": PHONE, "code_source": "inbox"}
        )
        assert started.json()["state"] == "awaiting_code", started.text
        ids.append((api, started.json()["id"]))
    receipt = bed.post_message(code=bed.fake.latest_code(PHONE))
    assert receipt.json() == {"accepted": True, "matched": False}
    for api, eid in ids:
        body = wait_until(api, eid, lambda b: b["last_error"] is not None)
        assert body["last_error"]["code"] == "inbox_ambiguous", body
        assert (body["state"], body["code_attempts"]) == ("awaiting_code", 0)
    # The code can still be typed by hand by whoever received it.
    api, eid = ids[1]
    done = api.post(f"/v1/enrollments/{eid}/code", json={"code": bed.fake.latest_code(PHONE)}).json()
    assert done["state"] == "completed"


def test_a_user_id_sends_each_code_to_its_own_users_enrollment(bed: Bed) -> None:
    bed.fake.settings(forward_sms=False)
    started = []
    for api in (bed.a, bed.b):
        user_id = bed.fake.add_user()["user_id"]
        body = api.post(
            "/v1/enrollments", json={"user_id": user_id, "phone_number": PHONE, "code_source": "inbox"}
        ).json()
        assert body["state"] == "awaiting_code", body
        started.append((api, body["id"], user_id, bed.fake.latest_code(PHONE)))
    # Newest first, each with its user: neither enrollment may take the other's code.
    for _, _, user_id, code in reversed(started):
        assert bed.post_message(code=code, user_id=user_id).json()["matched"] is True
    for api, eid, _, _ in started:
        done = wait_until(api, eid, lambda b: b["state"] == "completed")
        assert (done["state"], done["code_attempts"]) == ("completed", 1), done


def test_a_ticket_with_its_user_binds_the_fakes_forwarded_code(bed: Bed) -> None:
    user_id = bed.fake.add_user()["user_id"]
    ticket = bed.fake.create_ticket(user_id)["ticket_url"]
    body = bed.a.post(
        "/v1/enrollments",
        json={"ticket_url": ticket, "ticket_user_id": user_id, "phone_number": PHONE, "code_source": "inbox"},
    ).json()
    assert wait_until(bed.a, body["id"], lambda b: b["state"] == "completed")["state"] == "completed"
    sent = bed.fake.sms(PHONE)
    assert (sent[0]["user_id"], sent[0]["action"]) == (user_id, "enrollment")


def test_a_message_for_another_user_is_not_used(bed: Bed) -> None:
    bed.fake.settings(forward_sms=False)
    user_id = bed.fake.add_user()["user_id"]
    body = bed.a.post(
        "/v1/enrollments", json={"user_id": user_id, "phone_number": PHONE, "code_source": "inbox"}
    ).json()
    code = bed.fake.latest_code(PHONE)
    assert bed.post_message(code=code, user_id="auth0|someone-else").json()["matched"] is False
    assert bed.post_message(code=code, user_id=user_id).json()["matched"] is True
    assert wait_until(bed.a, body["id"], lambda b: b["state"] == "completed")["code_attempts"] == 1


def test_login_challenge_codes_are_not_enrollment_codes(bed: Bed) -> None:
    bed.fake.settings(forward_sms=False)
    body = bed.start_inbox(bed.a, PHONE)
    code = bed.fake.latest_code(PHONE)
    login = bed.post_message(code=code, action="second-factor-authentication")
    assert login.json() == {"accepted": True, "matched": False}
    assert bed.a.get(f"/v1/enrollments/{body['id']}").json()["code_attempts"] == 0
    assert bed.post_message(code=code).json()["matched"] is True


def test_after_a_resend_the_new_code_reaches_the_new_wait(bed: Bed) -> None:
    bed.fake.settings(forward_sms=False)
    body = bed.start_inbox(bed.a, PHONE)
    first = bed.fake.latest_code(PHONE)
    assert bed.a.post(f"/v1/enrollments/{body['id']}/resend").json()["state"] == "awaiting_code"
    latest = bed.fake.latest_code(PHONE)
    assert (
        latest != first or len(bed.fake.http.get("/__test/outbox", params={"recipient": PHONE}).json()) == 2
    )
    assert bed.post_message(code=latest).json()["matched"] is True
    done = wait_until(bed.a, body["id"], lambda b: b["state"] == "completed")
    assert (done["state"], done["code_attempts"]) == ("completed", 1), done


def test_forwarded_resend_is_not_lost(bed: Bed) -> None:
    """With the tenant forwarding, a resend's code arrives during the resend step itself."""
    bed.fake.settings(forward_sms=False)
    body = bed.start_inbox(bed.a, PHONE)
    bed.fake.settings(forward_sms=True)
    bed.a.post(f"/v1/enrollments/{body['id']}/resend")
    done = wait_until(bed.a, body["id"], lambda b: b["state"] == "completed")
    assert done["state"] == "completed", done


@pytest.mark.parametrize(
    "signature", ["sha256=\u00e9" + "0" * 63, "sha256=\u00ff\u00fe", "sha256=" + "\u0660" * 64]
)
def test_a_non_ascii_signature_is_a_bad_signature_not_a_crash(bed: Bed, signature: str) -> None:
    body = json.dumps(message()).encode()
    response = bed.anonymous.post(
        "/v1/otp-inbox",
        content=body,
        headers={b"Content-Type": b"application/json", b"X-Signature": signature.encode()},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (401, "invalid_signature")


def test_inbox_results_are_counted(bed: Bed) -> None:
    def count(result: str) -> float:
        for line in bed.admin.get("/metrics").text.splitlines():
            if line.startswith(f'bridge_inbox_messages_total{{result="{result}"}}'):
                return float(line.split()[-1])
        return 0.0

    before = count("invalid_signature"), count("unmatched")
    body = json.dumps(message()).encode()
    bed.anonymous.post("/v1/otp-inbox", content=body, headers={"X-Signature": sign(body, "wrong-key")})
    assert bed.post_message().status_code == 202
    assert (count("invalid_signature"), count("unmatched")) == (before[0] + 1, before[1] + 1)


def test_replays_are_refused_for_the_whole_max_age_window() -> None:
    async def run() -> None:
        inbox = OtpInbox(SECRET, max_age_s=300)
        first = json.dumps(message(recipient=OTHER_PHONE)).encode()
        await inbox.accept(first, sign(first))
        for _ in range(2500):  # more than the 2,000 the inbox used to remember
            other = json.dumps(message(recipient=OTHER_PHONE)).encode()
            await inbox.accept(other, sign(other))
        with pytest.raises(MessageReplayedError):
            await inbox.accept(first, sign(first))

    asyncio.run(run())


@pytest.mark.parametrize(
    "phone", ["+1\u0664\u0661\u06655550123", "+\uff114155550123", "+1\u096a\u0967\u096b5550123"]
)
def test_non_ascii_digits_are_refused_in_phone_numbers(bed: Bed, phone: str) -> None:
    response = bed.a.post(
        "/v1/enrollments", json={"ticket_url": bed.fake.create_ticket()["ticket_url"], "phone_number": phone}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_request")
    assert phone not in response.text


def test_non_ascii_digits_are_refused_in_codes(bed: Bed) -> None:
    body = bed.a.post(
        "/v1/enrollments",
        json={
            "ticket_url": bed.fake.create_ticket()["ticket_url"],
            "phone_number": PHONE,
            "engine": "protocol",
        },
    ).json()
    refused = bed.a.post(
        f"/v1/enrollments/{body['id']}/code", json={"code": "\u0661\u0662\u0663\u0664\u0665\u0666"}
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "invalid_request")
    assert bed.a.get(f"/v1/enrollments/{body['id']}").json()["code_attempts"] == 0
    done = bed.a.post(f"/v1/enrollments/{body['id']}/code", json={"code": bed.fake.latest_code(PHONE)})
    assert done.json()["state"] == "completed"


def test_non_ascii_digits_in_an_inbox_message_are_no_code() -> None:
    async def run() -> None:
        inbox = OtpInbox(SECRET)
        raw = json.dumps(
            message(
                code="\u0661\u0662\u0663\u0664\u0665\u0666",
                text="Your code is \u0661\u0662\u0663\u0664\u0665\u0666",
            )
        ).encode()
        with pytest.raises(InvalidRequestError):
            await inbox.accept(raw, sign(raw), now=datetime.now(UTC))

    asyncio.run(run())
