"""The secret-leak scan: full enrollments (and their failure paths) through a real bridge, then every
byte it let out is searched for every secret it handled.

What is scanned: every API response body (enrollments, steps, errors, calls, screens, the event
streams, /metrics, /healthz, /readyz), every log line the bridge's process emitted at DEBUG through the
production formatter (``configure_logging(json_output=True)``), the process's stdout and stderr, and
every file under the bridge's artifacts directory. What is searched for: each phone number used (E.164,
digits only, national significant number, national and international formats), each one-time code the
fake tenant sent, each recovery code, each ticket id (and anything shaped like one), the API token,
anything shaped like a JWT (the widget's transaction tokens) and any Universal Login ``state`` handle.
The one place a secret may appear is the completed enrollment's ``recovery_code`` field, which is
removed before scanning.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import phonenumbers
import pytest
import structlog

from bridge.api import create_app
from bridge.logs import configure_logging
from bridge.serving import ServerThread
from guardian_bridge_fake.harness import FakeTenantClient
from tests.api.conftest import TOKEN, bridge_settings

PHONE = "+14155550187"  # not the +14155550123 the API's own messages use as an example
GB_PHONE = "+447911123456"
INVALID_PHONE = "+15555550100"  # the fake tenant rejects it as not a valid number
JWT = re.compile(r"eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*")
TICKET_ID = re.compile(r"gten_[0-9a-f]{12,}")
# A Universal Login ``state`` handle in a URL, unless redacted (``[redacted]``, possibly URL-encoded).
STATE_HANDLE = re.compile(r"[?&]state=(?!\[redacted\]|%5Bredacted%5D)[\w.~-]{8,}")
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


@dataclass
class Corpus:
    """Everything the bridge let out, by where it was found."""

    texts: list[tuple[str, str]] = field(default_factory=list)

    def add(self, where: str, text: str) -> None:
        self.texts.append((where, text))

    def response(self, where: str, response: httpx.Response) -> httpx.Response:
        self.add(f"{where} -> {response.status_code} body", _without_recovery_code(response.text))
        self.add(f"{where} -> {response.status_code} headers", json.dumps(dict(response.headers)))
        return response


def _without_recovery_code(text: str) -> str:
    """Drops ``recovery_code`` from completed enrollments, the one place it belongs."""
    try:
        data = json.loads(text)
    except ValueError:
        return text

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            if value.get("state") == "completed" and str(value.get("id", "")).startswith("enr_"):
                value = {k: v for k, v in value.items() if k != "recovery_code"}
            return {k: strip(v) for k, v in value.items()}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return json.dumps(strip(data))


def _phone_forms(e164: str) -> dict[str, str]:
    parsed = phonenumbers.parse(e164, None)
    fmt = phonenumbers.PhoneNumberFormat
    return {
        f"phone number {e164[:3]}… (E.164)": e164,
        f"phone number {e164[:3]}… (digits only)": e164.lstrip("+"),
        f"phone number {e164[:3]}… (national significant number)": phonenumbers.national_significant_number(
            parsed
        ),
        f"phone number {e164[:3]}… (national format)": phonenumbers.format_number(parsed, fmt.NATIONAL),
        f"phone number {e164[:3]}… (international format)": phonenumbers.format_number(
            parsed, fmt.INTERNATIONAL
        ),
    }


def _exact(value: str) -> re.Pattern[str]:
    """``value`` anywhere; a digits-only one (a code, a bare number) only as a whole digit run, and not
    right after a dot, where digit runs are fractions and timestamps."""
    if value.isdigit():
        return re.compile(r"(?<![\d.])" + value + r"(?!\d)")
    return re.compile(re.escape(value))


def _scan(corpus: Corpus, secrets: dict[str, str]) -> list[str]:
    patterns = {kind: _exact(value) for kind, value in secrets.items()}
    patterns["a JWT (transaction token)"] = JWT
    patterns["a ticket id"] = TICKET_ID
    patterns["a Universal Login state handle"] = STATE_HANDLE
    hits = []
    for where, text in corpus.texts:
        hits += [f"{kind} in {where}" for kind, pattern in patterns.items() if pattern.search(text)]
    return hits


class _NotFrom(logging.Filter):
    """Keeps the harness out of the bridge's logs: the fake tenant's server thread and the test's own."""

    def __init__(self, thread_names: set[str]) -> None:
        super().__init__()
        self.thread_names = thread_names

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName not in self.thread_names


@contextmanager
def production_logs(excluded_threads: set[str]) -> Iterator[io.StringIO]:
    """The bridge's own log configuration at DEBUG, written to a buffer; everything restored after."""
    root = logging.getLogger()
    saved_root = (root.handlers[:], root.level)
    saved = {name: logging.getLogger(name) for name in _UVICORN_LOGGERS}
    saved_state = {name: (lg.handlers[:], lg.propagate, lg.level) for name, lg in saved.items()}
    saved_structlog = structlog.get_config()
    buffer = io.StringIO()
    try:
        configure_logging("debug", json_output=True)
        for logger in saved.values():  # ServerThread asked uvicorn for warnings only; we want it all
            logger.setLevel(logging.DEBUG)
        handler = root.handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(buffer)
        handler.addFilter(_NotFrom(excluded_threads))
        yield buffer
    finally:
        root.handlers[:] = saved_root[0]
        root.setLevel(saved_root[1])
        for name, (handlers, propagate, level) in saved_state.items():
            logger = saved[name]
            logger.handlers[:] = handlers
            logger.propagate = propagate
            logger.setLevel(level)
        structlog.configure(**saved_structlog)


def _events(client: httpx.Client, enrollment_id: str) -> str:
    with client.stream("GET", f"/v1/enrollments/{enrollment_id}/events", timeout=15) as stream:
        return "".join(stream.iter_text())


def _calls(client: httpx.Client, enrollment_id: str) -> list[httpx.Response]:
    pages, after = [], 0
    for _ in range(50):  # a bounded walk; the recorder keeps at most capture_max_calls
        page = client.get(f"/v1/enrollments/{enrollment_id}/calls", params={"after": after, "limit": 50})
        pages.append(page)
        body = page.json()
        if not body["calls"]:
            break
        after = body["next_after"]
    return pages


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def _run_everything(api: httpx.Client, fake: FakeTenantClient, corpus: Corpus) -> dict[str, str]:
    """The flows whose traffic is scanned; returns the secrets they used, by kind."""
    secrets: dict[str, str] = {"the API token": TOKEN}
    v1 = "/v1/enrollments"

    # 1. Phone step refused (not E.164, then a number the widget rejects), a wrong code, then success.
    first = fake.create_ticket()
    secrets["ticket id (first)"] = first["ticket_id"]
    created = corpus.response(
        "POST /v1/enrollments", api.post(v1, json={"ticket_url": first["ticket_url"], "record_screens": True})
    )
    assert created.status_code == 201, created.text
    eid = created.json()["id"]
    national = phonenumbers.national_significant_number(phonenumbers.parse(PHONE, None))
    corpus.response(
        "POST phone (national, not E.164)", api.post(f"{v1}/{eid}/phone", json={"phone_number": national})
    )
    rejected = corpus.response(
        "POST phone (invalid number)", api.post(f"{v1}/{eid}/phone", json={"phone_number": INVALID_PHONE})
    )
    assert rejected.json()["last_error"]["code"] == "invalid_phone_number", rejected.text
    accepted = corpus.response("POST phone", api.post(f"{v1}/{eid}/phone", json={"phone_number": PHONE}))
    assert accepted.json()["state"] == "awaiting_code", accepted.text
    code = fake.latest_code(PHONE)
    corpus.response("POST code (unknown enrollment)", api.post(f"{v1}/enr_nope/code", json={"code": code}))
    wrong = corpus.response("POST code (wrong)", api.post(f"{v1}/{eid}/code", json={"code": _wrong(code)}))
    assert wrong.json()["last_error"]["code"] == "invalid_otp", wrong.text
    done = corpus.response("POST code", api.post(f"{v1}/{eid}/code", json={"code": code}))
    assert done.json()["state"] == "completed", done.text
    secrets["recovery code (first)"] = done.json()["recovery_code"]
    corpus.response("POST code (after completion)", api.post(f"{v1}/{eid}/code", json={"code": code}))

    # 2. Phone given at the start, another country.
    second = fake.create_ticket()
    secrets["ticket id (second)"] = second["ticket_id"]
    started = corpus.response(
        "POST /v1/enrollments (with phone)",
        api.post(v1, json={"ticket_url": second["ticket_url"], "phone_number": GB_PHONE}),
    )
    assert started.json()["state"] == "awaiting_code", started.text
    finished = corpus.response(
        "POST code (second)",
        api.post(f"{v1}/{started.json()['id']}/code", json={"code": fake.latest_code(GB_PHONE)}),
    )
    assert finished.json()["state"] == "completed", finished.text
    secrets["recovery code (second)"] = finished.json()["recovery_code"]

    # 3. A used ticket, and the same ticket on a host outside the allowlist.
    used = corpus.response(
        "POST /v1/enrollments (used ticket)", api.post(v1, json={"ticket_url": first["ticket_url"]})
    )
    assert used.json()["last_error"]["code"] == "ticket_used", used.text
    evil = re.sub(r"^https?://[^/]+", "https://evil.example.com", first["ticket_url"])
    refused = corpus.response(
        "POST /v1/enrollments (host not allowed)", api.post(v1, json={"ticket_url": evil})
    )
    assert refused.status_code == 422, refused.text
    corpus.response(
        "POST /v1/enrollments (unknown field)",
        api.post(v1, json={"ticket_url": second["ticket_url"], "phone": PHONE}),
    )

    # Everything readable afterwards.
    listing = corpus.response("GET /v1/enrollments", api.get(v1))
    for enrollment in listing.json()["enrollments"]:
        if enrollment["state"] in ("starting", "awaiting_phone", "awaiting_code"):
            corpus.response("DELETE enrollment", api.delete(f"{v1}/{enrollment['id']}"))
    for enrollment in api.get(v1).json()["enrollments"]:
        one = enrollment["id"]
        corpus.response(f"GET {v1}/{one}", api.get(f"{v1}/{one}"))
        corpus.response(f"GET {v1}/{one}/screens", api.get(f"{v1}/{one}/screens"))
        for page in _calls(api, one):
            corpus.response(f"GET {v1}/{one}/calls?after={page.request.url.params['after']}", page)
        corpus.add(f"GET {v1}/{one}/events (stream)", _events(api, one))
    for path in ("/metrics", "/healthz", "/readyz"):
        corpus.response(f"GET {path}", api.get(path))

    for message in fake.sms():
        secrets[f"one-time code sent to {str(message.get('recipient', ''))[:3]}…"] = str(message["code"])
    for e164 in (PHONE, GB_PHONE, INVALID_PHONE):
        secrets.update(_phone_forms(e164))
    return secrets


def _leaks(
    tmp_path: Path,
    fake: FakeTenantClient,
    fake_server: ServerThread,
    capfd: pytest.CaptureFixture[str],
    **overrides: Any,
) -> list[str]:
    """Runs every flow through a fresh bridge and returns where each secret was found, by kind."""
    corpus = Corpus()
    artifacts = tmp_path / "artifacts"
    server = ServerThread(
        create_app(bridge_settings(tmp_path, fake_server.port, artifacts_dir=artifacts, **overrides))
    )
    harness_threads = {"MainThread", f"uvicorn:{fake_server.port}"}  # ServerThread's thread names
    with (
        production_logs(harness_threads) as logs,
        server,
        httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
        ) as api,
    ):
        secrets = _run_everything(api, fake, corpus)
    # Read after the server stopped, so the shutdown's log lines are in too.
    lines = logs.getvalue().splitlines()
    assert lines, "the bridge logged nothing: the capture is not wired"
    for number, line in enumerate(lines, 1):
        corpus.add(f"log line {number} ({json.loads(line).get('logger', '?')})", line)
    out, err = capfd.readouterr()
    corpus.add("process stdout", out)
    corpus.add("process stderr", err)
    for path in sorted(artifacts.rglob("*")) if artifacts.exists() else []:
        corpus.add(f"artifact file name {path.name}", str(path.relative_to(artifacts)))
        if path.is_file():
            corpus.add(f"artifact file {path.name}", path.read_bytes().decode("latin-1"))
    assert len(secrets) >= 20, "the scan lost its secrets"
    return _scan(corpus, secrets)


def test_no_secret_leaves_the_bridge(
    flavour: str,
    tmp_path: Path,
    fake: FakeTenantClient,
    fake_server: ServerThread,
    capfd: pytest.CaptureFixture[str],
) -> None:
    hits = _leaks(tmp_path, fake, fake_server, capfd)
    assert not hits, "secrets left the bridge:\n" + "\n".join(sorted(set(hits)))


def test_the_scan_finds_what_an_unredacted_capture_lets_out(
    tmp_path: Path,
    fake: FakeTenantClient,
    fake_server: ServerThread,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The control: with redaction switched off (a debug setting) the same scan must light up."""
    fake.set_experience("classic")
    hits = _leaks(tmp_path, fake, fake_server, capfd, capture_unredacted=True)
    in_calls = {hit.split(" in ")[0] for hit in hits if "/calls?" in hit}
    expected = {
        "phone number +14… (E.164)",
        "one-time code sent to +14…",
        "recovery code (first)",
        "ticket id (first)",
        "a JWT (transaction token)",
    }
    assert expected <= in_calls, f"the scan missed: {sorted(expected - in_calls)}"
