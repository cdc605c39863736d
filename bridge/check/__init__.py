"""The widget contract check: record what one scripted enrollment meets, compare it with a baseline.

``runner.record`` drives the script through a bridge and returns a ``Recording``; ``build_contract`` turns
it into a secret-free ``Contract``; ``compare`` lists every ``Difference`` from a baseline, each breaking or
notable (the rule is in ``diff.py``); ``report`` renders the result as text, markdown, JSON or JUnit XML.
``guardian-bridge check`` and ``POST /v1/checks`` are the two ways in.
"""

from bridge.check.contract import Contract, Recording, build_contract
from bridge.check.diff import Difference, breaking, compare
from bridge.check.report import Report, make_report, render
from bridge.check.runner import CheckError, Target, record

__all__ = [
    "CheckError",
    "Contract",
    "Difference",
    "Recording",
    "Report",
    "Target",
    "breaking",
    "build_contract",
    "compare",
    "make_report",
    "record",
    "render",
]
