"""How ``enroll`` and ``demo`` show their work: a live display on a terminal, plain lines when piped.

Nothing shown here can leak a secret: steps, errors and captured calls arrive from the bridge already
redacted, phone numbers reach this module masked, and codes typed by the user are never echoed back. The
recovery code is the result, so it is printed once and last.

Three displays share one interface: ``RichDisplay`` (stdout is a terminal: spinners with elapsed time,
coloured marks, a table), ``PlainDisplay`` (stdout is a pipe or a file: one line per event, no ANSI),
and ``QuietDisplay`` (``--json``: stdout carries the one JSON object, so only notes and prompts are
written, to stderr).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.prompt import Prompt
from rich.table import Table
from rich.text import Text

from bridge.models import CapturedCall, Enrollment, EnrollmentState, Step


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def _failure(enrollment: Enrollment | None, code: str | None, message: str | None) -> str:
    """``ticket_used: The enrollment ticket was already used.`` from an enrollment or an error."""
    if enrollment is not None and enrollment.last_error is not None:
        code, message = enrollment.last_error.code, enrollment.last_error.message
    if code is None and enrollment is not None and enrollment.state is EnrollmentState.AWAITING_CODE:
        # Left waiting for a code without a refusal: no code was ever given (end of input, empty line).
        code, message = "no_code", "No code was given."
    return f"{code}: {message}" if code else "no error was reported"


class Display:
    """The ``--json`` display, and the interface of the others: stdout stays empty, notes go to stderr."""

    def note(self, text: str) -> None:
        """Something the user needs to know or act on (where the in-process inbox listens)."""
        typer.echo(text, err=True)

    def heading(self, text: str) -> None:
        """Names what follows (the widget flavour a demo run is about to use)."""

    @contextmanager
    def running(self, label: str) -> Iterator[None]:
        """Around a call that takes a while: ``label`` says what the user is waiting for."""
        yield

    def step(self, step: Step) -> None:
        """One finished step of the enrollment, as the bridge recorded it."""

    def calls(self, calls: Sequence[CapturedCall]) -> None:
        """The widget's captured network calls (demo)."""

    def result(self, enrollment: Enrollment | None, exit_code: int, error: tuple[str, str] | None) -> None:
        """The outcome, last: the recovery code when completed, otherwise what went wrong."""

    def ask_code(self, label: str) -> str | None:
        """Asks a person for the code; None when they gave none (end of input)."""
        # On stderr, so stdout keeps only the command's output even while prompting; a plain
        # readline, so end of input means "no code" while Ctrl-C still interrupts.
        typer.echo(f"{label}: ", err=True, nl=False)
        return sys.stdin.readline().strip() or None


class PlainDisplay(Display):
    """One line per event on stdout, for pipes, files and CI logs: ``step phone: ok (123 ms)``."""

    def note(self, text: str) -> None:
        typer.echo(text)

    def heading(self, text: str) -> None:
        typer.echo(f"== {text} ==")

    def step(self, step: Step) -> None:
        outcome = step.outcome if step.error_code is None else f"{step.outcome} {step.error_code}"
        typer.echo(f"step {step.name}: {outcome} ({_ms(step.duration_ms)})")

    def calls(self, calls: Sequence[CapturedCall]) -> None:
        typer.echo(f"calls: {len(calls)}")
        for call in calls:
            status = str(call.status) if call.status is not None else (call.failure or "-")
            auth = call.auth_scheme or "-"
            typer.echo(f"call {call.method} {call.endpoint} {status} {auth} ({_ms(call.duration_ms)})")

    def result(self, enrollment: Enrollment | None, exit_code: int, error: tuple[str, str] | None) -> None:
        if enrollment is not None and enrollment.state is EnrollmentState.COMPLETED:
            flavour = enrollment.flavour.value if enrollment.flavour else "unknown"
            typer.echo(f"result: completed ({flavour} widget, phone {enrollment.phone_number})")
            typer.echo(f"recovery code: {enrollment.recovery_code}")
            return
        state = enrollment.state.value if enrollment is not None else "not started"
        code, message = error if error else (None, None)
        # A raised failure is an error report (stderr); an enrollment the widget refused is a result.
        line = f"result: {state}, {_failure(enrollment, code, message)} (exit {exit_code})"
        typer.echo(line, err=error is not None)


class RichDisplay(Display):
    """Spinners with elapsed time while the widget works, a coloured line per step, a table of calls."""

    _MARKS: ClassVar[dict[str, str]] = {"ok": "[green]✓[/]", "rejected": "[yellow]✗[/]"}

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)
        self.errors = Console(stderr=True, highlight=False)

    def note(self, text: str) -> None:
        self.console.print(text, style="dim", markup=False)

    def heading(self, text: str) -> None:
        self.console.rule(f"[bold]{escape(text)}[/]")

    @contextmanager
    def running(self, label: str) -> Iterator[None]:
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        # Transient: the spinner disappears and the finished step's own line takes its place.
        with Progress(*columns, console=self.console, transient=True) as progress:
            progress.add_task(escape(label), total=None)
            yield

    def step(self, step: Step) -> None:
        mark = self._MARKS.get(step.outcome, "[red]✗[/]")
        detail = f" [yellow]{escape(step.error_code)}[/]" if step.error_code else ""
        self.console.print(f"{mark} {step.name:<9} {step.outcome}{detail}  [dim]{_ms(step.duration_ms)}[/]")

    def calls(self, calls: Sequence[CapturedCall]) -> None:
        table = Table(title=f"Captured calls ({len(calls)})", title_justify="left")
        table.add_column("#", justify="right")
        table.add_column("method")
        table.add_column("endpoint")
        table.add_column("status", justify="right")
        table.add_column("auth")
        table.add_column("duration", justify="right")
        for call in calls:
            status = str(call.status) if call.status is not None else (call.failure or "-")
            # Cells are text from the widget's traffic, never markup.
            cells = (call.method, call.endpoint, status, call.auth_scheme or "-", _ms(call.duration_ms))
            table.add_row(str(call.seq), *(Text(cell) for cell in cells))
        self.console.print(table)

    def result(self, enrollment: Enrollment | None, exit_code: int, error: tuple[str, str] | None) -> None:
        if enrollment is not None and enrollment.state is EnrollmentState.COMPLETED:
            flavour = enrollment.flavour.value if enrollment.flavour else "unknown"
            phone = escape(enrollment.phone_number or "")
            self.console.print(f"[bold green]Enrolled[/] ({flavour} widget, phone {phone})")
            self.console.print(f"Recovery code: [bold]{escape(enrollment.recovery_code or '')}[/]")
            return
        state = enrollment.state.value if enrollment is not None else "not started"
        code, message = error if error else (None, None)
        text = escape(_failure(enrollment, code, message))
        console = self.errors if error is not None else self.console
        console.print(f"[bold red]Not enrolled[/] ({state}): {text} [dim](exit {exit_code})[/]")

    def ask_code(self, label: str) -> str | None:
        try:
            answer = Prompt.ask(escape(label), console=self.console, default="", show_default=False)
        except EOFError:
            return None
        return answer.strip() or None


def make_display(json_output: bool) -> Display:
    """The display for this run: by ``--json`` first, then by whether stdout is a terminal."""
    if json_output:
        return Display()
    # isatty itself rather than rich's detection, which FORCE_COLOR can override: a pipe gets no ANSI.
    if sys.stdout.isatty():
        return RichDisplay()
    return PlainDisplay()


def print_json(payload: dict[str, Any]) -> None:
    """The one JSON object ``--json`` promises on stdout."""
    typer.echo(json.dumps(payload, indent=2))
