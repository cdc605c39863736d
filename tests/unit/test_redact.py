"""Redaction keeps shapes and scrubs every secret an enrollment has seen."""

from __future__ import annotations

from bridge.redact import REDACTED, Redactor


def test_keys_and_values_are_redacted_keeping_types() -> None:
    r = Redactor()
    r.add_phone("+14155550123", "4155550123")
    r.add_secret("123456")
    body = {
        "transaction_token": "eyJhbGciOiJIUzI1NiJ9.eyJ0eGlkIjoiMSJ9.sig",
        "device_account": {"id": "dev_1", "recovery_code": "ABCDEFGHIJKLMNOPQRSTUVWX", "status": "ok"},
        "phone_number": "14155550123",
        "note": "sent 123456 to +14155550123",
        "count": 3,
        "country_code": "US",
    }
    out = r.value(body)
    assert out["transaction_token"] == REDACTED
    assert out["device_account"] == {"id": "dev_1", "recovery_code": REDACTED, "status": "ok"}
    assert out["phone_number"] == "+1******0123"
    assert out["note"] == f"sent {REDACTED} to +1******0123"
    assert out["count"] == 3
    assert out["country_code"] == "US"


def test_headers_keep_the_auth_scheme_only() -> None:
    r = Redactor()
    out = r.headers({"Authorization": 'Ticket id="gten_abc"', "Cookie": "a=b", "Content-Type": "x"})
    assert out == {"authorization": f"Ticket {REDACTED}", "cookie": REDACTED, "content-type": "x"}


def test_urls_lose_ticket_and_state() -> None:
    r = Redactor()
    url = r.url("https://t.auth0.com/guardian/enroll?ticket=gten_abc&ui=1")
    assert "gten_abc" not in url
    assert "ui=1" in url
    assert "state=" in r.url("https://t/u/mfa-sms-enrollment?state=abcdef")
    assert "abcdef" not in r.url("https://t/u/mfa-sms-enrollment?state=abcdef")


def test_disabled_redactor_passes_everything() -> None:
    r = Redactor(enabled=False)
    assert r.value({"code": "123456"}) == {"code": "123456"}
