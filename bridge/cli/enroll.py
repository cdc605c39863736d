"""``guardian-bridge enroll``: one enrollment from the command line, step by step, ending in an exit code.

The flow goes through ``BridgeClient`` to the bridge named by ``--bridge``, or to one started in this
process (a uvicorn thread on a loopback port, with a random token) when none is named. The synchronous
client on purpose: the code prompt blocks, and Ctrl-C must end it at once, which it does outside an event
loop (inside one, asyncio's SIGINT handler only cancels the task and the blocked read goes on waiting).
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import typer

from bridge.cli.host import in_process_settings, quiet_server_logs, start_in_process
from bridge.cli.output import Display, make_display, print_json
from bridge.client import BridgeClient, BridgeConnectionError
from bridge.client.flow import FlowHooks, FlowPlan, Send, WaitFor
from bridge.errors import (
    BridgeError,
    BrowserUnavailableError,
    InboxDisabledError,
    InvalidRequestError,
    RateLimitedError,
    SessionLimitError,
    TicketCreationError,
    TicketUrlRejectedError,
    UnauthorizedError,
    UpstreamError,
    WidgetTimeoutError,
    WidgetUnrecognizedError,
)
from bridge.models import EngineChoice, Enrollment, EnrollmentState
from bridge.outcomes import ExitClass, exit_class_of
from bridge.phone import mask
from bridge.target import EnrollmentTarget

S = EnrollmentState
MAX_CODE_ATTEMPTS = 3
INBOX_POLL_S = 0.25


class CodeFrom(StrEnum):
    PROMPT = "prompt"  # asked on the terminal
    STDIN = "stdin"  # one line per attempt read from standard input, nothing printed for it
    INBOX = "inbox"  # the bridge's OTP inbox, fed by the tenant's forwarding Action


# The exit classes live with the outcome codes (bridge.outcomes); these names stay for the CLI's callers.
ExitCode = ExitClass
EXIT_CODES: dict[ExitCode, str] = {code: code.description for code in ExitClass}

# Typer's rich help keeps single newlines: one exit code per line.
EXIT_CODES_HELP = "[bold]Exit codes[/bold]\n" + "\n".join(
    f"  {int(code)}  {text}" for code, text in EXIT_CODES.items()
)

# Raised failures, most specific first (isinstance order matters: TicketCreationError is an UpstreamError).
_ERROR_EXIT_CODES: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (TicketCreationError, ExitCode.TICKET),
    (InvalidRequestError, ExitCode.USAGE),
    (TicketUrlRejectedError, ExitCode.USAGE),
    (UnauthorizedError, ExitCode.USAGE),
    (InboxDisabledError, ExitCode.USAGE),
    (BridgeConnectionError, ExitCode.BRIDGE),
    (BrowserUnavailableError, ExitCode.BRIDGE),
    (WidgetTimeoutError, ExitCode.BRIDGE),
    (WidgetUnrecognizedError, ExitCode.BRIDGE),
    (SessionLimitError, ExitCode.BRIDGE),
    (RateLimitedError, ExitCode.BRIDGE),
    (UpstreamError, ExitCode.BRIDGE),
    (TimeoutError, ExitCode.BRIDGE),
)


def exit_code_for(enrollment: Enrollment) -> ExitCode:
    """The exit code for an enrollment the flow returned (a result, not a raised failure)."""
    if enrollment.state is S.COMPLETED:
        return ExitCode.COMPLETED
    if enrollment.last_error is not None:
        return exit_class_of(enrollment.last_error.code)
    if enrollment.state is S.AWAITING_CODE:
        return ExitCode.CODE  # left waiting without a refusal: no code was given
    return ExitCode.OTHER


def exit_code_for_error(exc: BaseException) -> ExitCode:
    for cls, code in _ERROR_EXIT_CODES:
        if isinstance(exc, cls):
            return code
    return ExitCode.OTHER


def _describe(exc: BridgeError | TimeoutError) -> tuple[str, str]:
    # Bridge messages are secret-free by contract (bridge.errors); a local timeout names only an id.
    if isinstance(exc, BridgeError):
        return exc.code, exc.message
    return "timeout", str(exc)


@dataclass(frozen=True)
class RunOutcome:
    """How one enrollment run ended: the enrollment as last seen, the failure raised (if any), the code."""

    enrollment: Enrollment | None
    error: tuple[str, str] | None
    exit_code: ExitCode

    def as_json(self) -> dict[str, Any]:
        payload: dict[str, Any] = self.enrollment.model_dump(mode="json") if self.enrollment else {}
        if self.error is not None:
            payload["error"] = {"code": self.error[0], "message": self.error[1]}
        payload["exit_code"] = int(self.exit_code)
        return payload

    def show(self, display: Display) -> None:
        display.result(self.enrollment, int(self.exit_code), self.error)


# Asks for the code of an enrollment awaiting one; the int is the attempt (1-based). None: no code.
AskCode = Callable[[Enrollment, int], str | None]


@dataclass(frozen=True)
class _AskedCodes:
    """``AskCode`` as the flow's code source."""

    ask: AskCode

    def prepare(self) -> None:
        return None

    def code(self, enrollment: Enrollment, attempt: int) -> str | None:
        return self.ask(enrollment, attempt)


class EnrollmentRunner(FlowHooks):
    """Runs the enrollment flow (``bridge.client.flow``) through a bridge, showing each step as it
    finishes and what is happening while each one runs.

    The phone goes as a step of its own (unless the inbox needs it with the start), so the display can
    say "opening the ticket" and then "sending a code".
    """

    def __init__(
        self,
        client: BridgeClient,
        display: Display,
        *,
        max_code_attempts: int = MAX_CODE_ATTEMPTS,
        inbox_timeout_s: float = 300.0,
        engine: EngineChoice | None = None,
    ) -> None:
        self.client = client
        self.display = display
        self.max_code_attempts = max_code_attempts
        self.inbox_timeout_s = inbox_timeout_s
        self.engine = engine
        self.current: Enrollment | None = None
        self._shown = 0
        self._phone = ""

    def attempt(
        self, *, ticket_url: str | None, user_id: str | None, phone: str, ask: AskCode | None
    ) -> RunOutcome:
        """Runs the flow and classifies how it ended; leaves no enrollment open on the bridge."""
        try:
            enrollment = self.run(ticket_url=ticket_url, user_id=user_id, phone=phone, ask=ask)
            return RunOutcome(enrollment, None, exit_code_for(enrollment))
        except (BridgeError, TimeoutError) as exc:
            known = exc.enrollment_id if isinstance(exc, BridgeError) else None
            return RunOutcome(self._refresh(known), _describe(exc), exit_code_for_error(exc))
        finally:
            self.cancel_if_open()

    def run(
        self, *, ticket_url: str | None, user_id: str | None, phone: str, ask: AskCode | None
    ) -> Enrollment:
        """The final enrollment; ``ask`` None means the bridge's OTP inbox supplies the code."""
        self._phone = phone
        plan = FlowPlan(
            EnrollmentTarget.of(ticket_url, user_id),
            phone,
            inbox=ask is None,
            max_code_attempts=self.max_code_attempts,
            timeout=self.inbox_timeout_s,
            phone_step=True,
            engine=self.engine,
        )
        codes = _AskedCodes(ask) if ask is not None else None
        return self.client.run_flow(plan, codes, self, poll_interval=INBOX_POLL_S)

    # --- FlowHooks ---

    def running(self, action: Send | WaitFor) -> AbstractContextManager[None]:
        if isinstance(action, WaitFor):
            return self.display.running("waiting for the code from the OTP inbox, then checking it")
        labels = {
            "open": "opening the enrollment ticket",
            "open_and_send": f"opening the ticket and sending a code to {mask(self._phone)}",
            "send_code": f"sending a code to {mask(self._phone)}",
            "check_code": "checking the code",
        }
        return self.display.running(labels[action.doing])

    def seen(self, enrollment: Enrollment) -> None:
        """Records the enrollment as last seen and shows the steps not shown yet."""
        self.current = enrollment
        for step in enrollment.steps[self._shown :]:
            self.display.step(step)
        self._shown = len(enrollment.steps)

    # --- after a failure ---

    def _refresh(self, enrollment_id: str | None) -> Enrollment | None:
        """After a raised failure: the enrollment as the bridge now has it, when it can still tell.

        ``enrollment_id`` is the failed call's: a start that fails has no answer to take it from.
        """
        enrollment_id = enrollment_id or (self.current.id if self.current else None)
        if enrollment_id is None:
            return None
        try:
            enrollment = self.client.get(enrollment_id)
        except BridgeError:
            return self.current
        self.seen(enrollment)
        return enrollment

    def cancel_if_open(self) -> None:
        """Frees the bridge's browser context of an enrollment that stopped short of an end."""
        if self.current is None or self.current.state.terminal:
            return
        # Best effort: the bridge's idle TTL closes it anyway.
        with suppress(BridgeError):
            self.client.cancel(self.current.id)


# --- the command ---


@dataclass(frozen=True)
class EnrollOptions:
    phone: str
    ticket_url: str | None = None
    user_id: str | None = None
    code_from: CodeFrom | None = None  # None: prompt on a terminal, stdin otherwise
    bridge_url: str | None = None
    token: str | None = None
    inbox_secret: str | None = None
    listen_port: int | None = None
    json_output: bool = False
    engine: EngineChoice | None = None  # None: the bridge's BRIDGE_DEFAULT_ENGINE


def _stdin_code(_: Enrollment, __: int) -> str | None:
    line = sys.stdin.readline()
    return line.strip() or None


def _prompt_code(display: Display, phone: str) -> AskCode:
    def ask(_: Enrollment, attempt: int) -> str | None:
        again = f" (attempt {attempt} of {MAX_CODE_ATTEMPTS})" if attempt > 1 else ""
        return display.ask_code(f"Code sent to {mask(phone)}{again}")

    return ask


@contextmanager
def _bridge(options: EnrollOptions, code_from: CodeFrom, display: Display) -> Iterator[BridgeClient]:
    if options.bridge_url:
        try:
            external = BridgeClient(options.bridge_url.rstrip("/"), options.token)
        except ValueError as exc:  # a malformed token; the message never quotes it
            raise typer.BadParameter(str(exc), param_hint="--token") from None
        with external as client:
            yield client
        return
    token = secrets.token_urlsafe(24)
    overrides: dict[str, Any] = {}
    if options.inbox_secret:
        overrides["otp_inbox_secret"] = options.inbox_secret
    settings = in_process_settings(options.ticket_url, token, **overrides)
    quiet_server_logs()
    if code_from is CodeFrom.INBOX and settings.otp_inbox_secret is None:
        raise typer.BadParameter(
            "inbox needs --inbox-secret (or BRIDGE_OTP_INBOX_SECRET)", param_hint="--code-from"
        )
    with display.running("starting the in-process bridge and its browser"):
        server = start_in_process(settings, options.listen_port)
    try:
        if code_from is CodeFrom.INBOX:
            display.note(f"OTP inbox: {server.base_url}/v1/otp-inbox (the forwarding Action must reach it)")
        with BridgeClient(server.base_url, token) as client:
            yield client
    finally:
        server.stop()


def run_enroll(options: EnrollOptions) -> int:
    """The whole ``enroll`` command; returns its exit code. Usage problems raise ``typer.BadParameter``."""
    try:
        EnrollmentTarget.of(options.ticket_url, options.user_id)
    except ValueError:
        raise typer.BadParameter("give exactly one of them", param_hint="--ticket-url / --user-id") from None
    display = make_display(options.json_output)
    code_from = options.code_from or (CodeFrom.PROMPT if sys.stdin.isatty() else CodeFrom.STDIN)
    ask: AskCode | None = {
        CodeFrom.PROMPT: _prompt_code(display, options.phone),
        CodeFrom.STDIN: _stdin_code,
        CodeFrom.INBOX: None,
    }[code_from]
    try:
        with _bridge(options, code_from, display) as client:
            runner = EnrollmentRunner(client, display, engine=options.engine)
            outcome = runner.attempt(
                ticket_url=options.ticket_url, user_id=options.user_id, phone=options.phone, ask=ask
            )
    except BridgeError as exc:  # the in-process bridge did not start
        outcome = RunOutcome(None, _describe(exc), exit_code_for_error(exc))
    if options.json_output:
        print_json(outcome.as_json())
    else:
        outcome.show(display)
    return int(outcome.exit_code)
