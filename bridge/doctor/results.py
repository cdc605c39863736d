"""The doctor's verdicts: one result per check, the exit code they add up to, their text and JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"  # works, but worth knowing (not counted as a failure)
    FAIL = "fail"  # something to fix; the result says how
    SKIP = "skip"  # not checked because a check it depends on failed
    ERROR = "error"  # could not be checked (unreachable, refused a read, not configured)


class DoctorExit(IntEnum):
    ALL_GOOD = 0
    SOMETHING_TO_FIX = 1
    COULD_NOT_CHECK = 2


_MARKS = {
    Status.OK: "[ok]  ",
    Status.WARN: "[warn]",
    Status.FAIL: "[FAIL]",
    Status.SKIP: "[skip]",
    Status.ERROR: "[??]  ",
}


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    status: Status
    detail: str
    fix: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "detail": self.detail,
            "fix": self.fix,
        }


@dataclass
class DoctorReport:
    tenant: str | None
    bridge: str | None
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def exit_code(self) -> DoctorExit:
        """1 when anything needs fixing; otherwise 2 when something could not be checked; else 0."""
        statuses = {c.status for c in self.checks}
        if Status.FAIL in statuses:
            return DoctorExit.SOMETHING_TO_FIX
        if Status.ERROR in statuses:
            return DoctorExit.COULD_NOT_CHECK
        return DoctorExit.ALL_GOOD

    def result(self, check_id: str) -> CheckResult:
        return next(c for c in self.checks if c.id == check_id)

    def as_json(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "bridge": self.bridge,
            "checks": [c.as_json() for c in self.checks],
            "exit_code": int(self.exit_code),
        }

    def as_text(self) -> str:
        where = f"tenant {self.tenant or '(not configured)'}" + (
            f" · bridge {self.bridge}" if self.bridge else ""
        )
        lines = [f"guardian-bridge doctor · {where}"]
        for check in self.checks:
            lines.append(f"  {_MARKS[check.status]} {check.title}: {check.detail}")
            if check.fix and check.status in (Status.FAIL, Status.ERROR, Status.WARN):
                lines.append(f"         fix: {check.fix}")
        summary = {
            DoctorExit.ALL_GOOD: "everything checked is in order",
            DoctorExit.SOMETHING_TO_FIX: "something to fix (see fix: above)",
            DoctorExit.COULD_NOT_CHECK: "some checks could not run (see above)",
        }[self.exit_code]
        lines.append(summary)
        return "\n".join(lines)
