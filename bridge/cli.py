"""The ``guardian-bridge`` command line. Commands only parse options and call into the library."""

from __future__ import annotations

import ipaddress
import secrets
from typing import Annotated

import typer

from bridge import __version__

app = typer.Typer(
    name="guardian-bridge",
    help="Drive Auth0's Guardian SMS enrollment widget headlessly, one HTTP step at a time.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8780,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the HTTP API (settings come from [bold]BRIDGE_*[/bold] environment variables).

    The bridge keeps its enrollments in memory, so it runs as one process; scale out with more
    instances behind a router that keeps each enrollment on the instance that started it.
    """
    import uvicorn

    from bridge.api import create_app
    from bridge.settings import BridgeSettings

    settings = BridgeSettings()
    if not settings.api_tokens:
        if not _is_loopback(host):
            typer.echo("Refusing to listen on a non-loopback address without BRIDGE_API_TOKENS.", err=True)
            raise typer.Exit(2)
        token = secrets.token_urlsafe(24)
        settings = BridgeSettings(api_tokens=[token])  # explicit values win over the environment
        typer.echo(f"No BRIDGE_API_TOKENS set; this run accepts the bearer token: {token}", err=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level)


@app.command("fake-guardian")
def fake_guardian(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8790,
    experience: Annotated[
        str, typer.Option(help="Which widget flavour the tenant serves: classic or universal.")
    ] = "classic",
    client_id: Annotated[str, typer.Option(help="Management API client id.")] = "fake-client",
    client_secret: Annotated[  # the fake tenant's documented test credential, not a real secret
        str, typer.Option(help="Management API client secret.")
    ] = "fake-secret",  # noqa: S107
    sms_webhook: Annotated[str | None, typer.Option(help="POST every SMS here as JSON.")] = None,
    sms_webhook_secret: Annotated[
        str | None, typer.Option(help="HMAC-SHA256 key for the X-Signature header.")
    ] = None,
) -> None:
    """Serve the embedded fake Auth0 tenant (test and demo use only)."""
    from fake_auth0.__main__ import main as fake_main

    args = ["--host", host, "--port", str(port), "--experience", experience]
    args += ["--client-id", client_id, "--client-secret", client_secret]
    if sms_webhook:
        args += ["--sms-webhook", sms_webhook]
    if sms_webhook_secret:
        args += ["--sms-webhook-secret", sms_webhook_secret]
    fake_main(args)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:
    app()
