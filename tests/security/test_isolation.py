"""Issue 11 items 2 and 6: every enrollment belongs to the token that started it, limits are per token
as well as global, and the rate limit cannot be dodged by spelling the Authorization header another way."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bridge.access import fingerprint
from bridge.settings import BridgeSettings
from tests.hosting import BridgeHost
from tests.security.conftest import ADMIN, PHONE, TOKEN_A, TOKEN_B, Bed, client, settings_for


def test_another_tokens_enrollment_is_not_found_for_any_verb(bed: Bed) -> None:
    mine = bed.a.post("/v1/enrollments", json={"ticket_url": bed.fake.create_ticket()["ticket_url"]})
    assert mine.status_code == 201, mine.text
    eid = mine.json()["id"]
    path = f"/v1/enrollments/{eid}"
    attempts = {
        "read": bed.b.get(path),
        "calls": bed.b.get(f"{path}/calls"),
        "screens": bed.b.get(f"{path}/screens"),
        "screenshot": bed.b.get(f"{path}/screenshot"),
        "events": bed.b.get(f"{path}/events"),
        "phone": bed.b.post(f"{path}/phone", json={"phone_number": PHONE}),
        "code": bed.b.post(f"{path}/code", json={"code": "123456"}),
        "resend": bed.b.post(f"{path}/resend"),
        "cancel": bed.b.delete(path),
    }
    for verb, response in attempts.items():
        assert (verb, response.status_code) == (verb, 404), response.text
        assert response.json()["error"]["code"] == "enrollment_not_found"
    listed = [e["id"] for e in bed.b.get("/v1/enrollments").json()["enrollments"]]
    assert eid not in listed
    # Nothing the other token sent reached the enrollment; its owner still drives it.
    assert bed.a.get(path).json()["state"] == "awaiting_phone"
    assert bed.a.post(f"{path}/phone", json={"phone_number": PHONE}).json()["state"] == "awaiting_code"
    done = bed.a.post(f"{path}/code", json={"code": bed.fake.latest_code(PHONE)}).json()
    assert done["state"] == "completed"
    assert done["recovery_code"]
    assert bed.b.get(path).status_code == 404  # the recovery code too


def test_an_admin_token_sees_every_enrollment_but_not_its_pictures(bed: Bed) -> None:
    ids = []
    for api in (bed.a, bed.b):
        started = api.post("/v1/enrollments", json={"ticket_url": bed.fake.create_ticket()["ticket_url"]})
        ids.append(started.json()["id"])
    listed = {e["id"] for e in bed.admin.get("/v1/enrollments").json()["enrollments"]}
    assert set(ids) <= listed
    assert {e["id"] for e in bed.a.get("/v1/enrollments").json()["enrollments"]} & set(ids) == {ids[0]}
    assert bed.admin.get(f"/v1/enrollments/{ids[1]}").status_code == 200
    assert bed.admin.get(f"/v1/enrollments/{ids[1]}/screenshot").status_code == 404
    assert bed.b.get(f"/v1/enrollments/{ids[1]}/screenshot").content.startswith(b"\x89PNG")
    assert bed.admin.delete(f"/v1/enrollments/{ids[1]}").status_code == 204


def test_the_owner_is_a_fingerprint_never_the_token() -> None:
    owner = fingerprint(TOKEN_A)
    assert len(owner) == 16
    assert owner == fingerprint(TOKEN_A)
    assert fingerprint(TOKEN_B) != owner


@pytest.mark.parametrize("field", ["api_tokens", "admin_tokens"])
def test_short_tokens_are_refused_at_start_up_without_quoting_them(field: str) -> None:
    with pytest.raises(ValidationError) as info:
        BridgeSettings.model_validate({field: ["fifteen-chars-x"]})
    assert "fifteen-chars-x" not in str(info.value)
    assert "16 characters" in str(info.value)


def test_one_token_cannot_take_every_session(bridge_host: BridgeHost, tmp_path: Path, bed: Bed) -> None:
    settings = settings_for(tmp_path, bed.fake_port, max_enrollments=3, max_enrollments_per_token=1)
    with (
        bridge_host.serve(settings) as server,
        client(server.base_url, TOKEN_A) as a,
        client(server.base_url, TOKEN_B) as b,
    ):
        first = a.post("/v1/enrollments", json={"ticket_url": bed.fake.create_ticket()["ticket_url"]})
        assert first.status_code == 201, first.text
        second = a.post("/v1/enrollments", json={"ticket_url": bed.fake.create_ticket()["ticket_url"]})
        assert (second.status_code, second.json()["error"]["code"]) == (429, "session_limit")
        assert int(second.headers["Retry-After"]) >= 1
        other = b.post("/v1/enrollments", json={"ticket_url": bed.fake.create_ticket()["ticket_url"]})
        assert other.status_code == 201, other.text
        for api, response in ((a, first), (b, other)):
            api.delete(f"/v1/enrollments/{response.json()['id']}")


def test_the_rate_limit_is_keyed_on_the_matched_token(bridge_host: BridgeHost, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, create_rate_per_minute=2)
    refused = {"ticket_url": "https://evil.example.com/guardian/enroll"}  # 422: spends a token, opens nothing
    with bridge_host.serve(settings) as server, client(server.base_url, None) as raw:
        codes = [
            raw.post("/v1/enrollments", json=refused, headers={"Authorization": header}).status_code
            for header in (f"bearer {TOKEN_A}", f"BEARER   {TOKEN_A}", f"Bearer  {TOKEN_A}")
        ]
        assert codes == [422, 422, 429]
        # Another token has a bucket of its own.
        other = raw.post("/v1/enrollments", json=refused, headers={"Authorization": f"Bearer {TOKEN_B}"})
        assert other.status_code == 422


def test_all_tokens_together_have_a_rate_limit_too(bridge_host: BridgeHost, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, create_rate_per_minute=5, create_rate_per_minute_total=2)
    refused = {"ticket_url": "https://evil.example.com/guardian/enroll"}
    with (
        bridge_host.serve(settings) as server,
        client(server.base_url, TOKEN_A) as a,
        client(server.base_url, TOKEN_B) as b,
    ):
        assert [a.post("/v1/enrollments", json=refused).status_code for _ in range(2)] == [422, 422]
        limited = b.post("/v1/enrollments", json=refused)
        assert (limited.status_code, limited.json()["error"]["code"]) == (429, "rate_limited")


def test_an_admin_token_is_a_token(bed: Bed) -> None:
    assert bed.admin.get("/v1/enrollments").status_code == 200
    with client(bed.bridge_url, ADMIN[:-1] + "x") as forged:
        assert forged.get("/v1/enrollments").status_code == 401
