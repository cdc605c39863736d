"""BridgeSettings: every knob of the bridge, read from ``BRIDGE_*`` environment variables.

Built once in the entry point and passed in (``create_app(settings)``); tests construct it directly.
The names of ``BRIDGE_API_TOKENS``, ``BRIDGE_ALLOWED_HOSTS``, ``BRIDGE_BROWSER_EXECUTABLE``,
``BRIDGE_BROWSER_WS_ENDPOINT`` and ``BRIDGE_MAX_ENROLLMENTS`` are a documented interface: keep them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bridge.access import MIN_TOKEN_LENGTH


def _split_csv(value: Any) -> Any:
    """Comma-separated environment values become lists; lists pass through."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class BridgeSettings(BaseSettings):
    # hide_input_in_errors: a refused setting may be a token or secret; its error must not quote it.
    model_config = SettingsConfigDict(
        env_prefix="BRIDGE_", extra="ignore", frozen=True, hide_input_in_errors=True
    )

    # --- access ---
    api_tokens: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Bearer tokens accepted by the API (comma-separated; several allow rotation).",
    )
    admin_tokens: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Bearer tokens that see every token's enrollments (operators; comma-separated).",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["*.auth0.com"],
        description="Ticket URL host patterns, each may end in :port (without one: https on 443); http, "
        "IP literals and localhost need an exact entry with the port, e.g. 127.0.0.1:8080.",
    )
    ticket_paths: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["/guardian/enroll"],
        description="URL paths a ticket URL may have (Auth0's ticket route; comma-separated).",
    )
    browser_extra_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["cdn.auth0.com"],
        description="Hosts the widget's page may load assets from besides the ticket hosts.",
    )
    browser_blackhole_proxy: str = Field(
        default="http://127.0.0.1:9",
        description="A proxy address where nothing listens: traffic to hosts not allowed is sent there.",
    )
    default_engine: Literal["browser", "protocol", "auto"] = Field(
        default="browser",
        description="Engine of an enrollment that names none: browser, protocol (plain HTTP) or auto.",
    )
    # --- browser ---
    browser_executable: str | None = Field(
        default=None, description="Chromium to launch; found automatically when unset."
    )
    browser_ws_endpoint: str | None = Field(
        default=None,
        description="Connect to a remote Playwright server instead of launching; several (comma-separated): "
        "each new context goes to the live one with the fewest open contexts.",
    )
    headless: bool = Field(default=True, description="Run Chromium headless (false only for debugging).")
    metrics_public: bool = Field(default=False, description="Serve /metrics without a bearer token.")
    console: bool = Field(
        default=False,
        description="Serve the operator console at /console (a page; the API token is typed in it).",
    )
    create_rate_per_minute: int = Field(
        default=120, ge=1, description="Enrollments one API token may start per minute."
    )
    create_rate_per_minute_total: int = Field(
        default=600, ge=1, description="Enrollments all tokens together may start per minute."
    )
    max_enrollments_per_token: int | None = Field(
        default=None,
        ge=1,
        description="Concurrent enrollments of one token, over all replicas in cluster mode (unset: "
        "BRIDGE_MAX_ENROLLMENTS of each replica).",
    )
    max_streams_per_enrollment: int = Field(
        default=4, ge=1, description="Open event streams of one enrollment."
    )
    max_streams_per_token: int = Field(default=32, ge=1, description="Open event streams of one token.")
    api_docs: Literal["off", "token", "public"] = Field(
        default="token",
        description="/docs, /redoc and /openapi.json: off, behind the bearer token, or public.",
    )
    # --- HTTP edge (what a reverse proxy would also bound) ---
    max_header_bytes: int = Field(
        default=16_384, ge=1024, description="Largest request head (request line and headers); else 431."
    )
    max_header_count: int = Field(default=100, ge=8, description="Most request headers; else 431.")
    header_timeout_s: float = Field(
        default=10.0, gt=0, description="A connection that has not sent its headers in this time is closed."
    )
    max_connections: int = Field(
        default=1000, ge=1, description="Concurrent connections and requests; more answer 503."
    )
    keepalive_timeout_s: float = Field(
        default=5.0, gt=0, description="Idle keep-alive connections close after this."
    )
    browser_sandbox: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="Chromium's sandbox: auto (on unless running as root), on, or off.",
    )
    max_body_bytes: int = Field(default=65_536, ge=1024, description="Largest request body accepted.")
    # --- limits and lifecycle ---
    max_enrollments: int = Field(
        default=16, ge=1, le=1000, description="Concurrent enrollments (browser contexts)."
    )
    queue_timeout_s: float = Field(
        default=0.0, ge=0, le=300, description="How long a start may wait for a free session before 429."
    )
    max_queue: int = Field(default=32, ge=0, description="Starts allowed to wait for a session at once.")
    step_timeout_s: float = Field(
        default=20.0, gt=0, le=300, description="Longest a step may wait for the widget (then 504)."
    )
    idle_ttl_s: float = Field(default=600.0, gt=0, description="An enrollment idle this long expires.")
    max_age_s: float = Field(default=1800.0, gt=0, description="An enrollment this old expires.")
    retention_s: float = Field(
        default=900.0, ge=0, description="How long a finished enrollment stays readable."
    )
    reap_interval_s: float = Field(default=2.0, gt=0, description="How often expiry is checked.")
    # --- capture ---
    capture_unredacted: bool = Field(
        default=False, description="Record captured calls without redacting secrets (debug only)."
    )
    capture_max_calls: int = Field(default=200, ge=1, description="Captured calls kept per enrollment.")
    capture_max_body_bytes: int = Field(
        default=16_384, ge=256, description="Larger captured bodies are replaced by their size."
    )
    # --- OTP inbox (codes forwarded by the tenant's send-phone-message Action) ---
    otp_inbox_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key of the inbox's X-Signature header; inbox off when unset."
    )
    otp_inbox_max_age_s: float = Field(
        default=300.0, gt=0, description="Messages older than this (by created_at) are refused."
    )
    inbox_wait_s: float = Field(
        default=120.0, gt=0, description="How long an inbox enrollment waits for its code."
    )
    # --- Auth0 Management API (tickets from a user id) ---
    auth0_domain: str | None = Field(
        default=None, description="Tenant domain, or a full base URL such as http://127.0.0.1:8790."
    )
    auth0_client_id: str | None = Field(default=None, description="Management API client (M2M) id.")
    auth0_client_secret: SecretStr | None = Field(default=None, description="Management API client secret.")
    # --- artifacts ---
    save_screenshots: bool = Field(
        default=False,
        description="Save a screenshot of a page the bridge does not recognise (0600, deleted with the "
        "enrollment); without it the screenshot is only served by the API.",
    )
    trace: bool = Field(
        default=False,
        description="Record a Playwright trace per enrollment (0600, deleted with the enrollment). "
        "Traces hold phone numbers and codes: debug only.",
    )
    artifacts_dir: Path = Field(
        default=Path("artifacts"), description="Where saved screenshots and traces are kept."
    )
    classic_texts: dict[str, str] = Field(
        default_factory=dict,
        description="JSON object: a Classic tenant's own texts, by control (phone_input, code_input, "
        "sms_choice, resend, recovery_checkbox, congrats) or outcome code, as regular expressions.",
    )

    # --- cluster mode and drain (bridge.cluster) ---
    redis_url: SecretStr | None = Field(
        default=None,
        description="Redis for cluster mode (redis://host:6379/0); unset: one process, state in memory.",
    )
    replica_id: str | None = Field(
        default=None, description="This replica's name in Redis (default: host name and process id)."
    )
    advertise_url: str | None = Field(
        default=None,
        description="Base URL other replicas reach this one at (forwarded steps); needed with Redis.",
    )
    heartbeat_ttl_s: float = Field(
        default=5.0, ge=1, le=120, description="A replica silent this long is dead (replica_lost)."
    )
    drain_timeout_s: float = Field(
        default=30.0, ge=0, le=3600, description="On SIGTERM, how long open browser enrollments may finish."
    )

    @field_validator("classic_texts")
    @classmethod
    def _known_classic_texts(cls, value: dict[str, str]) -> dict[str, str]:
        # Imported here: the widget tables are not needed to read settings, only to check these.
        from bridge.widgets.classic_table import customised

        try:
            customised(value)  # raises ValueError on an unknown name
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        return value

    @field_validator(
        "api_tokens", "admin_tokens", "allowed_hosts", "browser_extra_hosts", "ticket_paths", mode="before"
    )
    @classmethod
    def _csv(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("api_tokens", "admin_tokens")
    @classmethod
    def _long_tokens(cls, value: list[SecretStr]) -> list[SecretStr]:
        # The message never quotes a token.
        if any(len(token.get_secret_value()) < MIN_TOKEN_LENGTH for token in value):
            raise ValueError(f"API tokens must be at least {MIN_TOKEN_LENGTH} characters long")
        return value

    @field_validator("ticket_paths")
    @classmethod
    def _absolute_paths(cls, value: list[str]) -> list[str]:
        if any(not path.startswith("/") for path in value):
            raise ValueError("ticket paths start with /")
        return value

    @field_validator("allowed_hosts", "browser_extra_hosts")
    @classmethod
    def _lower_hosts(cls, value: list[str]) -> list[str]:
        return [host.lower() for host in value]

    def token_values(self) -> list[str]:
        return [token.get_secret_value() for token in self.api_tokens]

    def admin_token_values(self) -> list[str]:
        return [token.get_secret_value() for token in self.admin_tokens]
