"""A running bridge's checks (``doctor --bridge``): reachable, ready for an enrollment, the token accepted,
and its OTP inbox on.

The inbox is probed with an unsigned, empty message: a bridge with the inbox on refuses it as
``invalid_signature`` before reading it, one with the inbox off answers ``inbox_disabled``; nothing is
stored either way.
"""

from __future__ import annotations

import httpx

from bridge.doctor.results import CheckResult, Status


def _code(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"


def check_bridge(base_url: str, token: str | None, timeout: float = 10.0) -> list[CheckResult]:
    base = base_url.rstrip("/")
    with httpx.Client(base_url=base, timeout=timeout) as http:
        try:
            health = http.get("/healthz")
        except httpx.HTTPError as exc:
            fix = "start it (guardian-bridge serve) or correct --bridge"
            failed = CheckResult(
                "bridge_reachable", "bridge", Status.FAIL, f"not reachable ({type(exc).__name__})", fix
            )
            skipped = [CheckResult(i, t, Status.SKIP, "bridge not reachable") for i, t in _LATER]
            return [failed, *skipped]
        results = [_reachable(health)]
        results.append(_ready(http.get("/readyz")))
        results.append(_token(http, token))
        results.append(
            _inbox(
                http.post("/v1/otp-inbox", content=b"{}", headers={"Content-Type": "application/json"}), base
            )
        )
    return results


_LATER = (
    ("bridge_ready", "bridge ready"),
    ("bridge_token", "bridge token"),
    ("bridge_inbox", "bridge OTP inbox"),
)


def _reachable(health: httpx.Response) -> CheckResult:
    if health.status_code != 200:
        return CheckResult(
            "bridge_reachable",
            "bridge",
            Status.FAIL,
            f"/healthz answered {health.status_code}",
            "see the bridge's logs",
        )
    body = health.json()
    detail = f"answers (sessions {body.get('sessions_in_use', '?')}/{body.get('session_limit', '?')})"
    return CheckResult("bridge_reachable", "bridge", Status.OK, detail)


def _ready(ready: httpx.Response) -> CheckResult:
    if ready.status_code == 204:
        return CheckResult("bridge_ready", "bridge ready", Status.OK, "ready for another enrollment")
    fix = "wait for running enrollments, raise BRIDGE_MAX_ENROLLMENTS, or check its browser (GET /healthz)"
    return CheckResult("bridge_ready", "bridge ready", Status.FAIL, f"not ready ({_code(ready)})", fix)


def _token(http: httpx.Client, token: str | None) -> CheckResult:
    if not token:
        return CheckResult("bridge_token", "bridge token", Status.SKIP, "no --token given")
    answer = http.get("/v1/enrollments", headers={"Authorization": f"Bearer {token}"})
    if answer.status_code == 200:
        return CheckResult("bridge_token", "bridge token", Status.OK, "accepted")
    fix = "use one of the bridge's BRIDGE_API_TOKENS (--token or BRIDGE_API_TOKEN)"
    return CheckResult("bridge_token", "bridge token", Status.FAIL, f"refused ({_code(answer)})", fix)


def _inbox(answer: httpx.Response, base: str) -> CheckResult:
    code = _code(answer)
    if code == "invalid_signature":
        detail = f"on: the Action's BRIDGE_INBOX_URL is {base}/v1/otp-inbox (it must be reachable from Auth0)"
        return CheckResult("bridge_inbox", "bridge OTP inbox", Status.OK, detail)
    if code == "inbox_disabled":
        fix = "set BRIDGE_OTP_INBOX_SECRET on the bridge to the Action's BRIDGE_OTP_INBOX_SECRET secret"
        return CheckResult("bridge_inbox", "bridge OTP inbox", Status.FAIL, "off", fix)
    return CheckResult("bridge_inbox", "bridge OTP inbox", Status.ERROR, f"unexpected answer ({code})")
