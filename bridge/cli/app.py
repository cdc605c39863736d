"""The ``guardian-bridge`` commands: each only declares its options and calls the module that runs it."""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path
from typing import Annotated, Literal

import typer

from bridge import __version__
from bridge.cli.demo import DemoExperience
from bridge.cli.enroll import EXIT_CODES_HELP, CodeFrom
from bridge.cli.fake import require_fake
from bridge.models import EngineChoice

app = typer.Typer(
    name="guardian-bridge",
    help="Drive Auth0's Guardian SMS enrollment widget headlessly, one HTTP step at a time.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)


# Options that enroll and check share, declared once so their names and help stay the same.
TicketUrlOption = Annotated[
    str | None, typer.Option(help="Enrollment ticket URL (from the Management API or an email).")
]
UserIdOption = Annotated[
    str | None,
    typer.Option(help="Instead of --ticket-url: the bridge creates a ticket with BRIDGE_AUTH0_*."),
]
BridgeOption = Annotated[
    str | None, typer.Option(help="URL of a running bridge; without it one starts in this process.")
]
EngineOption = Annotated[
    EngineChoice | None,
    typer.Option(
        show_default=False,
        help="browser, protocol (the widget's protocol over plain HTTP) or auto; "
        "default: the bridge's BRIDGE_DEFAULT_ENGINE.",
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(envvar="BRIDGE_API_TOKEN", show_default=False, help="Bearer token for --bridge."),
]


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
    console: Annotated[
        bool, typer.Option("--console", help="Also serve the operator console at /console (BRIDGE_CONSOLE).")
    ] = False,
) -> None:
    """Serve the HTTP API (settings come from [bold]BRIDGE_*[/bold] environment variables).

    Without [bold]BRIDGE_REDIS_URL[/bold] the bridge keeps its enrollments in memory, as one process.
    With it, run several replicas behind any load balancer: each answers for every enrollment.
    """
    import uvicorn

    from bridge.api import create_app
    from bridge.cluster.drain import DrainingServer
    from bridge.edge import uvicorn_limits
    from bridge.logs import configure_logging
    from bridge.settings import BridgeSettings

    configure_logging(log_level)

    # Explicit values win over the environment.
    settings = BridgeSettings(console=True) if console else BridgeSettings()
    if not settings.api_tokens:
        if not _is_loopback(host):
            typer.echo("Refusing to listen on a non-loopback address without BRIDGE_API_TOKENS.", err=True)
            raise typer.Exit(2)
        token = secrets.token_urlsafe(24)
        settings = BridgeSettings(api_tokens=[token], console=settings.console)
        typer.echo(f"No BRIDGE_API_TOKENS set; this run accepts the bearer token: {token}", err=True)
    if settings.console:
        typer.echo(f"Operator console: http://{host}:{port}/console", err=True)
    # log_config=None keeps uvicorn on the structured handlers configured above.
    bridge_app = create_app(settings)
    # bridge.edge: header size and count, slow request heads, the connection cap, keep-alive.
    config = uvicorn.Config(
        bridge_app, host=host, port=port, log_level=log_level, log_config=None, **uvicorn_limits(settings)
    )
    # SIGTERM drains first (bridge.cluster.drain): /readyz fails, open enrollments get
    # BRIDGE_DRAIN_TIMEOUT_S to end, then the server stops.
    DrainingServer(config, lambda: getattr(bridge_app.state, "drain", None)).run()


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
    """Serve the fake Auth0 tenant (test and demo use only; needs the guardian-bridge-fake package)."""
    require_fake()
    from guardian_bridge_fake.__main__ import main as fake_main

    args = ["--host", host, "--port", str(port), "--experience", experience]
    args += ["--client-id", client_id, "--client-secret", client_secret]
    if sms_webhook:
        args += ["--sms-webhook", sms_webhook]
    if sms_webhook_secret:
        args += ["--sms-webhook-secret", sms_webhook_secret]
    fake_main(args)


@app.command(epilog=EXIT_CODES_HELP)
def enroll(
    phone: Annotated[str, typer.Option(help="Phone number to enroll, in E.164 form: +14155550123.")],
    ticket_url: TicketUrlOption = None,
    user_id: UserIdOption = None,
    code_from: Annotated[
        CodeFrom | None,
        typer.Option(
            case_sensitive=False,
            show_default=False,
            help="Where the code comes from: [bold]prompt[/bold] (default on a terminal), "
            "[bold]stdin[/bold] (one line per attempt; default when piped) or [bold]inbox[/bold].",
        ),
    ] = None,
    bridge: BridgeOption = None,
    token: TokenOption = None,
    inbox_secret: Annotated[
        str | None,
        typer.Option(
            envvar="BRIDGE_OTP_INBOX_SECRET",
            show_default=False,
            help="In-process bridge: the inbox's HMAC key, shared with the forwarding Action.",
        ),
    ] = None,
    listen_port: Annotated[
        int | None,
        typer.Option(help="In-process bridge: loopback port to listen on (random when unset)."),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON object (the enrollment and exit_code) only.")
    ] = False,
    engine: EngineOption = None,
) -> None:
    """Enroll one phone from start to finish, showing each step as it happens.

    Without --bridge, a bridge starts inside this command: BRIDGE_* settings
    as for [bold]serve[/bold], plus the ticket URL's host and port as allowed.
    The recovery code is printed last; phones are masked, codes never echoed.

    [bold]--code-from inbox[/bold]: the bridge's OTP inbox takes the code from the
    tenant's forwarding Action (examples/auth0-action-forward-otp.js).
    For the in-process bridge that inbox is the URL this command prints,
    on 127.0.0.1 and --listen-port: the tenant must reach it (a tunnel)
    and sign with the --inbox-secret key.
    """
    from bridge.cli.enroll import EnrollOptions, run_enroll

    options = EnrollOptions(
        phone=phone,
        ticket_url=ticket_url,
        user_id=user_id,
        code_from=code_from,
        bridge_url=bridge,
        token=token,
        inbox_secret=inbox_secret,
        listen_port=listen_port,
        json_output=json_output,
        engine=engine,
    )
    raise typer.Exit(run_enroll(options))


@app.command(epilog=EXIT_CODES_HELP)
def demo(
    experience: Annotated[
        DemoExperience, typer.Option(case_sensitive=False, help="Widget flavour(s) to enroll through.")
    ] = DemoExperience.BOTH,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON object (every run and exit_code) only.")
    ] = False,
    engine: EngineOption = None,
    console: Annotated[
        bool,
        typer.Option(
            "--console",
            help="Keep the fake and a bridge with its console running to enroll by hand (Ctrl-C).",
        ),
    ] = False,
) -> None:
    """Enroll through the embedded fake tenant: the whole bridge, no set-up.

    Starts the fake Auth0 tenant and a bridge on loopback ports. The bridge
    creates a ticket for a seeded user and enrolls a phone; the code comes
    from the fake's SMS hook through the bridge's OTP inbox. Prints each
    step, the widget's captured calls and the recovery code, per flavour.
    """
    if console:
        from bridge.cli.console_demo import run_console_demo

        universal = experience is DemoExperience.UNIVERSAL
        raise typer.Exit(run_console_demo(experience="universal" if universal else "classic"))
    from bridge.cli.demo import run_demo

    raise typer.Exit(run_demo(experience, json_output, engine))


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def check(
    phone: Annotated[str, typer.Option(help="Test phone number to enroll, in E.164 form.")],
    baseline: Annotated[Path, typer.Option(help="Contract JSON to compare with; written when missing.")],
    ticket_url: TicketUrlOption = None,
    user_id: UserIdOption = None,
    bridge: BridgeOption = None,
    token: TokenOption = None,
    update: Annotated[
        bool, typer.Option("--update", help="Write the baseline from this run; compare nothing.")
    ] = False,
    code_from: Annotated[
        Literal["prompt", "stdin", "inbox", "outbox"] | None,
        typer.Option(
            show_default=False,
            help="prompt (default on a terminal), stdin (default when piped), inbox (the bridge's OTP "
            "inbox; skips the wrong-code probe) or outbox (the fake tenant's test outbox).",
        ),
    ] = None,
    outbox_url: Annotated[
        str | None, typer.Option(help="--code-from outbox: the fake tenant's URL (default: the ticket's).")
    ] = None,
    report_format: Annotated[
        Literal["text", "markdown", "json"], typer.Option("--format", help="Report format.")
    ] = "text",
    report: Annotated[
        Path | None,
        typer.Option(help="Report file; screenshots go beside it. Default: <baseline stem>.report/."),
    ] = None,
    junit: Annotated[Path | None, typer.Option(help="Also write a JUnit XML report here.")] = None,
    engine: Annotated[
        Literal["browser", "protocol", "auto", "both"] | None,
        typer.Option(
            show_default=False,
            help="The enrollment's engine; [bold]both[/bold]: the browser, then the protocol engine on "
            "--second-ticket-url / --second-user-id, every difference between them breaking.",
        ),
    ] = None,
    second_ticket_url: Annotated[
        str | None, typer.Option(help="--engine both: a second ticket, for the protocol engine's run.")
    ] = None,
    second_user_id: Annotated[
        str | None, typer.Option(help="--engine both: instead, a second user to create a ticket for.")
    ] = None,
) -> None:
    """Record the widget's contract in one scripted enrollment and compare it with a baseline.

    Exit codes: 0 nothing breaking changed (or the baseline was written),
    1 breaking drift, 2 the check could not run.
    Screenshots show what the widget showed: keep them out of version control.
    With --code-from inbox, name a --bridge the tenant's forwarding Action reaches.
    """
    from bridge.cli.check import CheckOptions, run_check_command

    options = CheckOptions(
        ticket_url=ticket_url,
        user_id=user_id,
        phone=phone,
        baseline=baseline,
        bridge=bridge,
        token=token,
        update=update,
        code_from=code_from,
        outbox_url=outbox_url,
        fmt=report_format,
        report=report,
        junit=junit,
        engine=engine,
        second_ticket_url=second_ticket_url,
        second_user_id=second_user_id,
    )
    raise typer.Exit(run_check_command(options))


@app.command()
def doctor(
    bridge: Annotated[
        str | None, typer.Option(help="Also check this running bridge: reachable, ready, OTP inbox on.")
    ] = None,
    token: TokenOption = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON object (every check and exit_code) only.")
    ] = False,
) -> None:
    """Check a tenant's set-up (BRIDGE_AUTH0_*) for the bridge, with the fix for each failure.

    Checks the client-credentials token and its scopes, the SMS factor, the
    phone provider and message types, the send-phone-message Action (deployed,
    bound, like examples/auth0-action-forward-otp.js) and that the tenant's
    domain and custom domains pass BRIDGE_ALLOWED_HOSTS.

    Exit codes: 0 all good, 1 something to fix, 2 could not check.
    """
    from bridge.cli.doctor import run_doctor_command

    raise typer.Exit(run_doctor_command(bridge, token, json_output))


def main() -> None:
    app()
