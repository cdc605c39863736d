"""Runs the doctor's checks in order: what needs the token is skipped when no token is issued."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.doctor import bridge_checks, tenant_checks
from bridge.doctor.management import ManagementReader, tenant_base
from bridge.doctor.results import CheckResult, DoctorReport, Status
from bridge.settings import BridgeSettings

_TENANT_CHECKS = (
    ("scopes", "token scopes"),
    ("phone_factor", "SMS (phone) factor"),
    ("phone_provider", "phone provider"),
    ("message_types", "phone message types"),
    ("phone_message_action", "send-phone-message Action"),
    ("allowed_hosts", "BRIDGE_ALLOWED_HOSTS"),
)


@dataclass(frozen=True)
class DoctorOptions:
    settings: BridgeSettings
    bridge_url: str | None = None
    token: str | None = None


def run_doctor(options: DoctorOptions) -> DoctorReport:
    settings = options.settings
    domain, client_id = settings.auth0_domain, settings.auth0_client_id
    secret = settings.auth0_client_secret.get_secret_value() if settings.auth0_client_secret else None
    report = DoctorReport(tenant=tenant_base(domain) if domain else None, bridge=options.bridge_url)
    if not (domain and client_id and secret):
        missing = [
            name
            for name, value in (
                ("BRIDGE_AUTH0_DOMAIN", domain),
                ("BRIDGE_AUTH0_CLIENT_ID", client_id),
                ("BRIDGE_AUTH0_CLIENT_SECRET", secret),
            )
            if not value
        ]
        fix = (
            "set them to the tenant domain and a Machine to Machine application authorised for the "
            "Management API"
        )
        report.checks.append(
            CheckResult("config", "tenant settings", Status.ERROR, f"{', '.join(missing)} not set", fix)
        )
    else:
        reader = ManagementReader(domain, client_id, secret)
        try:
            report.checks.extend(_tenant(reader, domain, list(settings.allowed_hosts)))
        finally:
            reader.close()
    if options.bridge_url:
        report.checks.extend(bridge_checks.check_bridge(options.bridge_url, options.token))
    return report


def _tenant(reader: ManagementReader, domain: str, allowed_hosts: list[str]) -> list[CheckResult]:
    token, scopes = tenant_checks.check_token(reader)
    if scopes is None:
        return [token, *(CheckResult(i, t, Status.SKIP, "no token") for i, t in _TENANT_CHECKS)]
    return [
        token,
        tenant_checks.check_scopes(scopes),
        tenant_checks.check_phone_factor(reader),
        tenant_checks.check_phone_provider(reader),
        tenant_checks.check_message_types(reader),
        tenant_checks.check_phone_message_action(reader),
        tenant_checks.check_allowed_hosts(reader, domain, allowed_hosts),
    ]
