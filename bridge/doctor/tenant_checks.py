"""The tenant's checks: token and scopes, the phone factor, its provider and message types, the
send-phone-message Action, and whether the tenant's hosts pass ``BRIDGE_ALLOWED_HOSTS``.

Each function reads what it needs through a ``ManagementReader`` and returns one ``CheckResult``; a read the
tenant refuses becomes ``error`` (could not check) with the scope to grant, never an exception.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from bridge.doctor.management import ManagementError, ManagementReader
from bridge.doctor.results import CheckResult, Status
from bridge.urls import HostPolicy, origin_entry

# The scope the bridge itself needs: it creates enrollment tickets for user_id starts.
BRIDGE_SCOPES = ("create:guardian_enrollment_tickets",)
# What the pytest plugin's guardian_tenant and its cleanup use.
PLUGIN_SCOPES = ("create:users", "read:users", "delete:users", "delete:guardian_enrollments")
# What this doctor reads.
DOCTOR_SCOPES = ("read:guardian_factors", "read:actions", "read:custom_domains")
SEND_PHONE_MESSAGE = "send-phone-message"
CUSTOM_PROVIDER = "phone-message-hook"
# What makes an Action look like examples/auth0-action-forward-otp.js: its handler, its two secrets and
# the signature header the bridge's inbox checks.
FORWARDING_MARKERS = (
    "onExecuteSendPhoneMessage",
    "BRIDGE_OTP_INBOX_SECRET",
    "BRIDGE_INBOX_URL",
    "X-Signature",
)
_GRANT_FIX = (
    "Dashboard > Applications > APIs > Auth0 Management API > Machine to Machine Applications: "
    "authorise this client and tick {scopes}"
)


def _refused(check_id: str, title: str, exc: ManagementError, scope: str) -> CheckResult:
    if exc.missing_scope:
        fix = _GRANT_FIX.format(scopes=scope) + " (the doctor needs it to check this)"
        return CheckResult(check_id, title, Status.ERROR, f"the token lacks {scope}", fix)
    return CheckResult(check_id, title, Status.ERROR, f"could not read it: {exc.describe()}")


def check_token(reader: ManagementReader) -> tuple[CheckResult, list[str] | None]:
    title = "client-credentials token"
    try:
        scopes, lifetime = reader.issue_token()
    except ManagementError as exc:
        if exc.status == 0 or exc.status >= 500:
            return CheckResult("token", title, Status.ERROR, f"the tenant is {exc.describe()}"), None
        if exc.status == 401 or (exc.code == "access_denied" and exc.status != 403):
            fix = (
                "check BRIDGE_AUTH0_CLIENT_ID and BRIDGE_AUTH0_CLIENT_SECRET "
                "(a Machine to Machine application)"
            )
        elif exc.status == 403 and exc.code == "unauthorized_client":
            fix = (
                "enable the Client Credentials grant: Applications > (the client) > Advanced Settings "
                "> Grant Types"
            )
        else:
            fix = _GRANT_FIX.format(scopes=", ".join(BRIDGE_SCOPES))
        return CheckResult("token", title, Status.FAIL, f"not issued: {exc.describe()}", fix), None
    expires = f", valid {lifetime} s" if lifetime else ""
    return CheckResult("token", title, Status.OK, f"issued for {reader.base}/api/v2/{expires}"), scopes


def check_scopes(scopes: list[str]) -> CheckResult:
    title = "token scopes"
    granted = set(scopes)
    missing_bridge = [s for s in BRIDGE_SCOPES if s not in granted]
    missing_plugin = [s for s in PLUGIN_SCOPES if s not in granted]
    missing_doctor = [s for s in DOCTOR_SCOPES if s not in granted]
    if missing_bridge:
        detail = f"missing {', '.join(missing_bridge)} (the bridge creates tickets with it)"
        return CheckResult(
            "scopes", title, Status.FAIL, detail, _GRANT_FIX.format(scopes=", ".join(missing_bridge))
        )
    if missing_plugin or missing_doctor:
        missing = missing_plugin + missing_doctor
        detail = f"the bridge's are granted; missing {', '.join(missing)} (pytest plugin and doctor only)"
        return CheckResult("scopes", title, Status.WARN, detail, _GRANT_FIX.format(scopes=", ".join(missing)))
    return CheckResult("scopes", title, Status.OK, f"granted: {', '.join(BRIDGE_SCOPES + PLUGIN_SCOPES)}")


def check_phone_factor(reader: ManagementReader) -> CheckResult:
    title = "SMS (phone) factor"
    try:
        factors: list[dict[str, Any]] = reader.get("/api/v2/guardian/factors")
    except ManagementError as exc:
        return _refused("phone_factor", title, exc, "read:guardian_factors")
    enabled = sorted(str(f.get("name")) for f in factors if f.get("enabled"))
    if "sms" not in enabled:
        fix = (
            "Dashboard > Security > Multi-factor Auth > Phone Message: turn it on "
            '(or PUT /api/v2/guardian/factors/sms {"enabled": true})'
        )
        return CheckResult(
            "phone_factor", title, Status.FAIL, f"not enabled (enabled: {', '.join(enabled) or 'none'})", fix
        )
    return CheckResult(
        "phone_factor", title, Status.OK, f"enabled (all enabled factors: {', '.join(enabled)})"
    )


def check_phone_provider(reader: ManagementReader) -> CheckResult:
    title = "phone provider"
    try:
        provider = str(reader.get("/api/v2/guardian/factors/phone/selected-provider").get("provider"))
    except ManagementError as exc:
        return _refused("phone_provider", title, exc, "read:guardian_factors")
    if provider != CUSTOM_PROVIDER:
        detail = f"{provider}: codes go to real phones, so the send-phone-message Action never sees them"
        fix = "Phone Message > Delivery Provider: Custom (phone-message-hook), so the forwarding Action runs"
        return CheckResult("phone_provider", title, Status.FAIL, detail, fix)
    return CheckResult(
        "phone_provider",
        title,
        Status.OK,
        "Custom (phone-message-hook): the send-phone-message Action sends codes",
    )


def check_message_types(reader: ManagementReader) -> CheckResult:
    title = "phone message types"
    try:
        types = [
            str(t)
            for t in reader.get("/api/v2/guardian/factors/phone/message-types").get("message_types") or []
        ]
    except ManagementError as exc:
        return _refused("message_types", title, exc, "read:guardian_factors")
    if "sms" not in types:
        fix = "Phone Message > Message Delivery Method: SMS (or SMS and voice)"
        return CheckResult(
            "message_types", title, Status.FAIL, f"{', '.join(types) or 'none'}: SMS is off", fix
        )
    return CheckResult("message_types", title, Status.OK, ", ".join(types))


def _looks_like_forwarding(action: dict[str, Any]) -> bool:
    code = str(action.get("code") or (action.get("deployed_version") or {}).get("code") or "")
    secrets = {str(s.get("name")) for s in action.get("secrets") or [] if isinstance(s, dict)}
    return (
        all(marker in code for marker in FORWARDING_MARKERS)
        and {"BRIDGE_INBOX_URL", "BRIDGE_OTP_INBOX_SECRET"} <= secrets
    )


def check_phone_message_action(reader: ManagementReader) -> CheckResult:
    check_id, title = "phone_message_action", "send-phone-message Action"
    try:
        # One page of the largest size: a tenant has a handful of Actions on one trigger.
        listed = reader.get("/api/v2/actions/actions", {"triggerId": SEND_PHONE_MESSAGE, "per_page": "100"})
        bound_page = reader.get(
            f"/api/v2/actions/triggers/{SEND_PHONE_MESSAGE}/bindings", {"per_page": "100"}
        )
    except ManagementError as exc:
        return _refused(check_id, title, exc, "read:actions")
    actions: list[dict[str, Any]] = listed.get("actions") or []
    bound_ids = {str((b.get("action") or {}).get("id")) for b in bound_page.get("bindings") or []}
    deployed = [a for a in actions if a.get("deployed_version")]
    if not actions:
        fix = (
            "create one from examples/auth0-action-forward-otp.js (Actions > Library > Build Custom, "
            "trigger Send Phone Message), deploy it and add it to the flow"
        )
        return CheckResult(check_id, title, Status.FAIL, "none exists (the OTP inbox gets no codes)", fix)
    if not deployed:
        names = ", ".join(str(a.get("name")) for a in actions)
        return CheckResult(
            check_id,
            title,
            Status.FAIL,
            f"{names}: not deployed",
            "deploy it (Actions > Library > the Action > Deploy)",
        )
    live = [a for a in deployed if str(a.get("id")) in bound_ids]
    if not live:
        names = ", ".join(str(a.get("name")) for a in deployed)
        fix = "Actions > Flows > Send Phone Message: drag the Action into the flow and Apply"
        return CheckResult(
            check_id, title, Status.FAIL, f"{names}: deployed but not bound to the trigger", fix
        )
    forwarding = [a for a in live if _looks_like_forwarding(a)]
    if not forwarding:
        names = ", ".join(str(a.get("name")) for a in live)
        detail = (
            f"{names}: deployed and bound, but not like the forwarding example "
            "(no signed POST to BRIDGE_INBOX_URL)"
        )
        fix = (
            "use examples/auth0-action-forward-otp.js with secrets BRIDGE_INBOX_URL and "
            "BRIDGE_OTP_INBOX_SECRET"
        )
        return CheckResult(check_id, title, Status.WARN, detail, fix)
    return CheckResult(
        check_id,
        title,
        Status.OK,
        f"{forwarding[0].get('name')}: deployed, bound, forwards codes like the example",
    )


def check_allowed_hosts(reader: ManagementReader, domain: str, allowed_hosts: list[str]) -> CheckResult:
    check_id, title = "allowed_hosts", "BRIDGE_ALLOWED_HOSTS"
    policy = HostPolicy.of(allowed_hosts)
    parts = urlsplit(domain if "://" in domain else f"https://{domain}")
    # (the entry that would cover it, scheme, host, port): the tenant's port counts, as it does for a ticket.
    tenant_host = (parts.hostname or "").lower()
    hosts = [(origin_entry(domain) or tenant_host, parts.scheme, tenant_host, parts.port)]
    notes: list[str] = []
    try:
        domains: list[dict[str, Any]] = reader.get("/api/v2/custom-domains")
    except ManagementError as exc:
        if exc.missing_scope:
            return _refused(check_id, title, exc, "read:custom_domains")
        # Tenants without the custom-domains feature refuse the read; they have no custom domain then.
        domains = []
        notes.append(f"custom domains not readable ({exc.code})")
    for custom in domains:
        name = str(custom.get("domain", "")).lower()
        if custom.get("status") == "ready":
            hosts.append((name, "https", name, None))
        else:
            notes.append(f"{name} is {custom.get('status')} (not checked)")
    refused = [entry for entry, sch, host, port in hosts if not policy.allows(sch, host, port)]
    covered = ", ".join(entry for entry, *_ in hosts if entry not in refused)
    tail = f"; {'; '.join(notes)}" if notes else ""
    if refused:
        fix = (
            f"add {', '.join(refused)} to BRIDGE_ALLOWED_HOSTS "
            "(comma-separated; IPs, localhost and http need exact entries with their port)"
        )
        detail = f"not covered: {', '.join(refused)}" + (f" (covered: {covered})" if covered else "") + tail
        return CheckResult(check_id, title, Status.FAIL, detail, fix)
    return CheckResult(check_id, title, Status.OK, f"covers {covered}{tail}")
