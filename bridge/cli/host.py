"""A bridge hosted inside a command's own process (``enroll`` and ``check`` without ``--bridge``, and
``demo``): its settings, its start, and quieting its logs."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import typer
from pydantic import ValidationError

from bridge.client import BridgeConnectionError
from bridge.settings import BridgeSettings
from bridge.urls import origin_entry

if TYPE_CHECKING:
    from bridge.serving import ServerThread


def settings_from_env(**values: Any) -> BridgeSettings:
    """``BridgeSettings`` from ``BRIDGE_*`` with ``values`` on top; invalid ones are a usage error."""
    try:
        return BridgeSettings(**values)
    except ValidationError as exc:
        # Field names only: pydantic's own message quotes the input, which may be a secret.
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise typer.BadParameter(", ".join(fields), param_hint="BRIDGE_* settings") from None


def in_process_settings(ticket_url: str | None, token: str, **overrides: Any) -> BridgeSettings:
    """``BRIDGE_*`` settings from the environment, plus what an in-process bridge needs: ``token`` as its
    only API token, and the origins (host and port) of the ticket URL and of ``BRIDGE_AUTH0_DOMAIN``
    allowed exactly."""
    env = settings_from_env()
    hosts = list(env.allowed_hosts)
    for entry in (origin_entry(ticket_url or ""), origin_entry(env.auth0_domain or "")):
        if entry and entry not in hosts:
            hosts.append(entry)
    return settings_from_env(api_tokens=[token], allowed_hosts=hosts, **overrides)


def quiet_server_logs() -> None:
    """For a bridge hosted by a command: the command reports each failure itself, so the server's
    own warnings ("request failed") would only repeat them on stderr without context."""
    logging.getLogger("bridge").setLevel(logging.ERROR)


def start_in_process(settings: BridgeSettings, port: int | None = None) -> ServerThread:
    """A bridge on a loopback port in a thread of this process; started (browser launched) on return."""
    # Imported here: FastAPI and Playwright are needed only when this process hosts the bridge.
    from bridge.api import create_app
    from bridge.serving import ServerThread

    server = ServerThread(create_app(settings), port=port)
    try:
        return server.start(timeout=60.0)
    except RuntimeError:
        raise BridgeConnectionError(f"the in-process bridge did not start on port {server.port}") from None
