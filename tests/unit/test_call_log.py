"""The call log a protocol enrollment carries from replica to replica: calls captured elsewhere come first,
the ones recorded here are numbered on from them, and a reader's cursor keeps working."""

from __future__ import annotations

from datetime import UTC, datetime

from bridge.call_log import CallLog
from bridge.models import CapturedCall
from bridge.redact import Redactor


def _call(seq: int, endpoint: str, kind: str = "api") -> CapturedCall:
    return CapturedCall.model_validate(
        {
            "seq": seq,
            "kind": kind,
            "method": "POST",
            "url": f"https://tenant.example/{endpoint}",
            "path": f"/{endpoint}",
            "endpoint": endpoint,
            "started_at": datetime.now(UTC),
        }
    )


def test_calls_from_the_previous_replica_come_first_and_the_numbering_goes_on() -> None:
    log = CallLog(Redactor(enabled=True))
    log.record(_call(0, "resumed-here"))
    log.restore([_call(1, "start-flow"), _call(2, "sms-enroll"), _call(3, "page", kind="blocked")])
    log.record(_call(0, "verify-otp"))
    assert [(c.seq, c.endpoint) for c in log.after(0)] == [
        (1, "start-flow"),
        (2, "sms-enroll"),
        (3, "page"),
        (4, "resumed-here"),
        (5, "verify-otp"),
    ]
    assert [c.endpoint for c in log.after(3)] == ["resumed-here", "verify-otp"]
    assert (log.total, log.blocked, log.last_seq) == (5, 1, 5)


def test_nothing_to_restore_changes_nothing() -> None:
    log = CallLog(Redactor(enabled=True))
    log.record(_call(0, "start-flow"))
    log.restore([])
    assert [(c.seq, c.endpoint) for c in log.after(0)] == [(1, "start-flow")]
