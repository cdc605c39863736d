"""Compares two contracts and classes every difference as breaking or notable.

The rule: a difference is **breaking** when the bridge relies on what changed, so it may no longer drive
the widget; everything else is **notable** (worth a look, never a failed check).

Breaking:
  - the scripted enrollment ends differently (final state or error code), or the flavour changed;
  - a screen is added, removed, moved to another path or reached in another order (an unknown screen
    is named as such); when the enrollment stops early, what it no longer reached is listed once;
  - a button, link, label, placeholder or text that one of the bridge's locators matches (the flavour
    tables in ``bridge/widgets/``, read by ``reliance.py``) is removed, or renamed so that the locator
    no longer matches it;
  - a form field is removed, renamed or changes type;
  - a call the widget made is no longer made, or its status, auth scheme or redirect target changed;
  - a key is removed from a call's JSON response, or its value changes type;
  - a probe (invalid phone, wrong code) is answered differently: accepted, or read as another error code.

Notable:
  - any other text change (a reworded description, a new button, a new error wording the bridge still
    reads the same way), a new form field, a new call;
  - a key added to a response, any change in a request body or a content type;
  - other step outcomes, a probe that was skipped (the inbox supplied the code), another code source;
  - a step that became very much slower (over ten times and over five seconds): timings are kept, never
    compared strictly, so ordinary jitter never shows up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel

from bridge.check.contract import TEXT_KINDS, Contract, ContractCall, ContractScreen, ErrorProbe
from bridge.check.reliance import KNOWN_SCREENS, locator_breaks
from bridge.check.shapes import shape_paths

Severity = Literal["breaking", "notable"]
SLOW_FACTOR, SLOW_MARGIN_MS = 10.0, 5000.0


class Difference(BaseModel):
    kind: str  # e.g. screen_added, text_changed, field_renamed, status_changed, response_key_removed
    where: str  # e.g. "screen 'code' (/guardian/enroll), placeholder"
    before: str | None = None
    after: str | None = None
    severity: Severity
    message: str  # one sentence a QA engineer can read without the code


class _Lost:
    """What the run no longer reached because the enrollment stopped earlier: reported once, together,
    instead of as one difference per screen, probe and call the stop made unreachable."""

    def __init__(self, before: Contract, after: Contract) -> None:
        ran_before, ran_after = _stages(before), _stages(after)
        regressed = before.outcome.state == "completed" and after.outcome.state != "completed"
        self.stages = [s for s in ran_before if s not in ran_after] if regressed else []
        self.items: dict[str, list[str]] = {}

    def add(self, what: str, item: str) -> None:
        self.items.setdefault(what, []).append(item)

    def difference(self) -> Difference | None:
        if not self.items:
            return None
        parts = [f"{what}: {', '.join(items)}" for what, items in self.items.items()]
        msg = "No longer reached, because the enrollment stopped earlier: " + "; ".join(parts) + "."
        return _d("not_reached", "enrollment", None, None, "breaking", msg)


def _stages(contract: Contract) -> list[str]:
    return [line.split(" -> ", 1)[0] for line in contract.outcome.steps]


def compare(before: Contract, after: Contract) -> list[Difference]:
    """Every difference from ``before`` (the baseline) to ``after``, in report order."""
    lost = _Lost(before, after)
    # A run whose code came from the bridge's inbox has no wrong-code step: compare only what both ran.
    skipped = {"wrong code"} if "skipped" in (_probe_outcome(before), _probe_outcome(after)) else set()
    out = _outcome(before, after, skipped) + _screens(before.screens, after.screens, lost, after.flavour)
    rest = _errors(before, after, lost)
    old_calls, new_calls = ([c for c in x.calls if c.stage not in skipped] for x in (before, after))
    rest += _calls(old_calls, new_calls, lost)
    rest += _timings(before.timings, after.timings)
    summary = lost.difference()  # after the new screens that are likely its cause, before the details
    return out + ([summary] if summary else []) + rest


def breaking(differences: Iterable[Difference]) -> bool:
    return any(d.severity == "breaking" for d in differences)


def _d(kind: str, where: str, before: object, after: object, severity: Severity, message: str) -> Difference:
    texts = {name: None if v is None else str(v) for name, v in (("before", before), ("after", after))}
    return Difference(kind=kind, where=where, severity=severity, message=message, **texts)


def _probe_outcome(contract: Contract) -> str | None:
    return contract.errors.wrong_code.outcome if contract.errors.wrong_code else None


def _outcome(before: Contract, after: Contract, skipped: set[str]) -> list[Difference]:
    out: list[Difference] = []
    if before.flavour != after.flavour:
        msg = f"The ticket now opens the {after.flavour} widget instead of the {before.flavour} one."
        out.append(_d("flavour_changed", "widget", before.flavour, after.flavour, "breaking", msg))
    b, a = before.outcome, after.outcome
    if (b.state, b.error_code) != (a.state, a.error_code):
        was, now = _ends(b.state, b.error_code), _ends(a.state, a.error_code)
        last = _stages(after)[-1:] or ["start"]
        msg = f"The scripted enrollment now ends {now} at the {last[0]} step; it used to end {was}."
        out.append(_d("outcome_changed", "enrollment", was, now, "breaking", msg))
    elif _comparable(b.steps, skipped) != _comparable(a.steps, skipped):
        # Error codes within the steps are compared (and explained) in the errors section.
        msg = "The steps went differently: " + "; ".join(a.steps) + "."
        out.append(_d("steps_changed", "enrollment", "; ".join(b.steps), "; ".join(a.steps), "notable", msg))
    if before.code_source != after.code_source:
        msg = f"This run took the code from {after.code_source}, the baseline from {before.code_source}."
        out.append(_d("code_source", "check", before.code_source, after.code_source, "notable", msg))
    return out


def _comparable(steps: list[str], skipped: set[str]) -> list[str]:
    """Step lines without their error codes (the errors section explains those) and skipped steps."""
    return [s.split(" (", 1)[0] for s in steps if s.split(" -> ", 1)[0] not in skipped]


def _ends(state: str, code: str | None) -> str:
    return f"'{state}'" + (f" ({code})" if code else "")


def _keyed(items: list[str]) -> list[str]:
    """``a, b, a`` -> ``a, b, a#2``: a stable key for each entry of a list with repeats."""
    seen: Counter[str] = Counter()
    keys = []
    for item in items:
        seen[item] += 1
        keys.append(item if seen[item] == 1 else f"{item}#{seen[item]}")
    return keys


def _screen_where(screen: ContractScreen) -> str:
    return f"screen '{screen.name}' ({screen.path})"


def _screens(
    before: list[ContractScreen], after: list[ContractScreen], lost: _Lost, flavour: str | None
) -> list[Difference]:
    out: list[Difference] = []
    old = dict(zip(_keyed([s.name for s in before]), before, strict=True))
    new = dict(zip(_keyed([s.name for s in after]), after, strict=True))
    # Past the last screen both runs reached, a stopped run's missing screens are a consequence.
    last_common = max((i for i, key in enumerate(old) if key in new), default=-1)
    for index, (key, screen) in enumerate(old.items()):
        if key not in new and lost.stages and index > last_common:
            lost.add("screens", f"'{screen.name}'")
        elif key not in new:
            msg = f"The {_screen_where(screen)} is no longer reached."
            out.append(_d("screen_removed", _screen_where(screen), screen.name, None, "breaking", msg))
    for key, screen in new.items():
        if key not in old:
            unknown = " The bridge does not recognise it." if screen.name not in KNOWN_SCREENS else ""
            shown = ", ".join(screen.headings + screen.buttons) or "no text"
            msg = f"A new {_screen_where(screen)} is reached (showing: {shown}).{unknown}"
            out.append(_d("screen_added", _screen_where(screen), None, screen.name, "breaking", msg))
    common_old = [k for k in old if k in new]
    common_new = [k for k in new if k in old]
    if common_old != common_new:
        msg = f"Screens now come in another order: {' -> '.join(common_new)} (was {' -> '.join(common_old)})."
        out.append(_d("screen_order", "screens", common_old, common_new, "breaking", msg))
    for key in common_old:
        out += _screen(old[key], new[key], flavour)
    return out


def _screen(before: ContractScreen, after: ContractScreen, flavour: str | None) -> list[Difference]:
    out: list[Difference] = []
    where = _screen_where(before)
    if before.path != after.path:
        msg = f"The {where} moved to {after.path}."
        out.append(_d("screen_moved", where, before.path, after.path, "breaking", msg))
    for kind in TEXT_KINDS:
        out += _texts(where, kind, getattr(before, kind), getattr(after, kind), flavour)
    out += _fields(where, before, after)
    return out


def _texts(
    where: str, kind: str, before: list[str], after: list[str], flavour: str | None
) -> list[Difference]:
    removed = list((Counter(before) - Counter(after)).elements())
    added = list((Counter(after) - Counter(before)).elements())
    noun = kind.rstrip("s")
    at = f"{where}, {noun}"
    out: list[Difference] = []
    for old, new in zip(removed, added, strict=False):
        severity: Severity = "breaking" if locator_breaks(kind, old, new, flavour) else "notable"
        why = " The bridge's locator for it no longer matches." if severity == "breaking" else ""
        msg = f'On the {where}, the {noun} "{old}" now reads "{new}".{why}'
        out.append(_d("text_changed", at, old, new, severity, msg))
    for old in removed[len(added) :]:
        severity = "breaking" if locator_breaks(kind, old, None, flavour) else "notable"
        why = " The bridge's locators rely on it." if severity == "breaking" else ""
        out.append(
            _d(
                "text_removed",
                at,
                old,
                None,
                severity,
                f'The {where} no longer shows the {noun} "{old}".{why}',
            )
        )
    for new in added[len(removed) :]:
        out.append(
            _d("text_added", at, None, new, "notable", f'The {where} now also shows the {noun} "{new}".')
        )
    return out


def _fields(where: str, before: ContractScreen, after: ContractScreen) -> list[Difference]:
    out: list[Difference] = []
    old = {f.name: f.type for f in before.fields}
    new = {f.name: f.type for f in after.fields}
    removed = [n for n in old if n not in new]
    added = [n for n in new if n not in old]
    at = f"{where}, form fields"
    for name in old.keys() & new.keys():
        if old[name] != new[name]:
            msg = f"On the {where}, the field '{name}' changed type from {old[name]} to {new[name]}."
            out.append(_d("field_type_changed", at, old[name], new[name], "breaking", msg))
    for gone, came in zip(removed, added, strict=False):
        msg = f"On the {where}, the form field '{gone}' ({old[gone]}) is now named '{came}' ({new[came]})."
        out.append(_d("field_renamed", at, gone, came, "breaking", msg))
    for gone in removed[len(added) :]:
        msg = f"The {where} no longer has the form field '{gone}' ({old[gone]})."
        out.append(_d("field_removed", at, gone, None, "breaking", msg))
    for came in added[len(removed) :]:
        msg = f"The {where} has a new form field '{came}' ({new[came]})."
        out.append(_d("field_added", at, None, came, "notable", msg))
    return out


_PROBES = {"invalid_phone": "an invalid phone number", "wrong_code": "a wrong code"}


def _errors(before: Contract, after: Contract, lost: _Lost) -> list[Difference]:
    out: list[Difference] = []
    for name, what in _PROBES.items():
        old: ErrorProbe | None = getattr(before.errors, name)
        new: ErrorProbe | None = getattr(after.errors, name)
        where = f"errors, {what}"
        if new is not None and new.outcome == "not_reached" and (old is None or old.outcome != "not_reached"):
            lost.add("probes", what)
            continue
        if old is None or old.outcome == "skipped" or new is None or new.outcome == "skipped":
            if (old is None or old.outcome == "skipped") != (new is None or new.outcome == "skipped"):
                note = (new.note if new is not None else None) or "the probe did not run"
                msg = f"The answer to {what} was not compared: {note}."
                out.append(_d("probe_skipped", where, None, None, "notable", msg))
            continue
        if old.outcome != new.outcome or old.error_code != new.error_code:
            was, now = _probe_text(old), _probe_text(new)
            msg = f"The widget's answer to {what} changed: the bridge now reads {now} (was {was})."
            out.append(_d("error_changed", where, was, now, "breaking", msg))
        if old.widget_message != new.widget_message:
            msg = f'The widget\'s message for {what} now reads "{new.widget_message}"'
            msg += f' (was "{old.widget_message}").'
            out.append(
                _d("error_text_changed", where, old.widget_message, new.widget_message, "notable", msg)
            )
    return out


def _probe_text(probe: ErrorProbe) -> str:
    return probe.error_code if probe.outcome == "rejected" and probe.error_code else probe.outcome


def _calls(before: list[ContractCall], after: list[ContractCall], lost: _Lost) -> list[Difference]:
    out: list[Difference] = []

    def keys(calls: list[ContractCall]) -> list[str]:
        return _keyed([f"{c.stage}: {c.kind} {c.label}" for c in calls])

    old = dict(zip(keys(before), before, strict=True))
    new = dict(zip(keys(after), after, strict=True))
    for key, call in old.items():
        if key not in new and call.stage in lost.stages:
            lost.add("calls", f"{call.label} ({call.stage})")
        elif key not in new:
            msg = f"The widget no longer makes the call {call.label} during the {call.stage} step."
            out.append(_d("call_removed", f"call {key}", call.label, None, "breaking", msg))
    for key, call in new.items():
        if key not in old:
            msg = f"The widget makes a new call {call.label} during the {call.stage} step"
            msg += f" (status {call.status})."
            out.append(_d("call_added", f"call {key}", None, call.label, "notable", msg))
    for key in (k for k in old if k in new):
        out += _call(f"call {key}", old[key], new[key])
    return out


_CALL_ATTRIBUTES: tuple[tuple[str, str, str, Severity], ...] = (
    ("status", "status_changed", "answers with status", "breaking"),
    ("auth", "auth_changed", "uses the auth scheme", "breaking"),
    ("redirect_to", "redirect_changed", "redirects to", "breaking"),
    ("request_type", "content_type_changed", "sends a body of type", "notable"),
    ("response_type", "content_type_changed", "answers with a body of type", "notable"),
)


def _call(where: str, old: ContractCall, new: ContractCall) -> list[Difference]:
    out: list[Difference] = []
    said = f"{old.label} (during the {old.stage} step)"
    for attr, kind, noun, level in _CALL_ATTRIBUTES:
        was, now = getattr(old, attr), getattr(new, attr)
        if was != now:
            out.append(_d(kind, where, was, now, level, f"{said} now {noun} {now} (was {was})."))
    for side in ("response", "request"):
        # The bridge reads the widget's responses (the Classic outcomes live there); requests are the
        # widget's own business, so a change in them is worth knowing but breaks nothing by itself.
        severity: Severity = "breaking" if side == "response" else "notable"
        was_keys, now_keys = shape_paths(getattr(old, side)), shape_paths(getattr(new, side))
        for path in sorted(was_keys.keys() - now_keys.keys()):
            msg = f"The {side} of {said} no longer has the key '{path}'."
            out.append(_d(f"{side}_key_removed", where, path, None, severity, msg))
        for path in sorted(now_keys.keys() - was_keys.keys()):
            msg = f"The {side} of {said} has a new key '{path}' ({now_keys[path]})."
            out.append(_d(f"{side}_key_added", where, None, path, "notable", msg))
        for path in sorted(was_keys.keys() & now_keys.keys()):
            if was_keys[path] != now_keys[path]:
                msg = f"In the {side} of {said}, '{path}' is now {now_keys[path]} (was {was_keys[path]})."
                out.append(_d(f"{side}_type_changed", where, was_keys[path], now_keys[path], severity, msg))
    return out


def _timings(before: dict[str, float], after: dict[str, float]) -> list[Difference]:
    out: list[Difference] = []
    for stage in sorted(before.keys() & after.keys()):
        if stage == "total":
            continue
        was, now = before[stage], after[stage]
        if now > max(was * SLOW_FACTOR, was + SLOW_MARGIN_MS):
            msg = f"The {stage} step took {now:.0f} ms (was {was:.0f} ms)."
            out.append(_d("slower", f"timing, {stage}", f"{was:.0f} ms", f"{now:.0f} ms", "notable", msg))
    return out
