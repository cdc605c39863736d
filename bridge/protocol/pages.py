"""Reads a server-rendered Universal Login page with an HTML parser: its screen, form, errors and texts.

What is read, in the order it is trusted: the documented route and screen name (``/u/<screen>``, the
``ulp-outer`` class, ``universal_login_context`` on ACUL pages), the documented form field names and
actions, ``data-error-code`` on error elements, and only then Auth0's default texts. So a tenant that
customises its texts still has its screens and errors recognised.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from bridge.outcomes import OutcomeCode
from bridge.protocol.state import FormControl, PageForm
from bridge.widgets import texts as t
from bridge.widgets import universal_table as ul

# Universal Login's documented error codes, result statuses and pass-through screens are shared with
# the browser engine (bridge/widgets/universal_table.py), so both engines read a page the same way.
UL_ERROR_CODES = ul.ERROR_CODES
RESULT_STATUS = ul.RESULT_STATUS
# Screens that submit themselves by script before the enrollment screens (ACUL documents this one).
INTERSTITIALS = frozenset(route for route, screen in ul.ROUTES.items() if screen == "interstitial")
_CONTEXT = re.compile(r"universal_login_context\s*=\s*(\{.*\})\s*;?\s*$", re.DOTALL)
_SELF_SUBMIT = re.compile(r"\.submit\(\s*\)|requestSubmit\(")
_UNSHOWN = ["script", "style", "noscript", "template", "head"]


@dataclass(frozen=True)
class PageError:
    code: str | None  # the page's own error code (data-error-code), when it gives one
    text: str


@dataclass
class Page:
    url: str
    status: int
    route: str
    screen_key: str | None  # Auth0's screen name when the page states it (context, ulp-outer class)
    title: str
    text: str
    form: PageForm | None
    errors: list[PageError] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # screen.data of an ACUL context
    self_submits: bool = False
    field_values: list[str] = field(default_factory=list)

    # --- what the bridge calls this screen ---
    @cached_property  # a page does not change once read; steps ask for its screen several times
    def screen(self) -> str:
        """``redeem``, ``chooser``, ``phone``, ``country``, ``code``, ``recovery``, ``result``,
        ``interstitial`` or ``unknown``: by the stated screen, the route, the form's fields, then texts."""
        for key in (self.screen_key, self.route):
            if key and key in ul.ROUTES:
                return ul.ROUTES[key]
            if key in INTERSTITIALS:
                return "interstitial"
        by_form = self._screen_by_form()
        if by_form is not None:
            return by_form
        if ul.ALL_SET.search(self.text) or self.result_code() not in (None, OutcomeCode.WIDGET_FAILED):
            return "result"
        return "unknown"

    def _screen_by_form(self) -> str | None:
        form = self.form
        if form is None:
            return None
        names = {c.name for c in form.inputs()}
        if any(c.type == "checkbox" for c in form.inputs()) and (
            "saved" in names or self.recovery_code() is not None
        ):
            return "recovery"
        if "code" in names or any(c.placeholder == ul.CODE_PLACEHOLDER for c in form.inputs()):
            return "code"
        if "phone" in names or any(c.placeholder == ul.PHONE_PLACEHOLDER for c in form.inputs()):
            return "phone"
        if any(b.value.startswith("selection-action::") for b in form.buttons()):
            return "country"
        if not form.inputs() and (self.self_submits or len(form.buttons()) == 1):
            # Only hidden fields and one way on: a redeem page or a self-submitting interstitial.
            return "interstitial"
        return None

    # --- what it says ---
    def error(self) -> tuple[OutcomeCode | None, str | None]:
        """The error the page shows as (outcome code, widget text); (None, None) when there is none."""
        for error in self.errors:
            if error.code:
                mapped = UL_ERROR_CODES.get(error.code)
                if mapped is None:
                    entry = t.classify_text(error.text)
                    mapped = entry.code if entry else OutcomeCode.WIDGET_ERROR
                return mapped, error.text or None
        for error in self.errors:
            entry = t.classify_text(error.text)
            return (entry.code if entry else OutcomeCode.WIDGET_ERROR), error.text
        for entry in t.ERROR_TEXTS:
            if entry.pattern.search(self.text):
                line = next((ln.strip() for ln in self.text.splitlines() if entry.pattern.search(ln)), None)
                return entry.code, line
        return None, None

    def result_code(self) -> OutcomeCode | None:
        """On a result screen: None for success, else the outcome code of the problem it shows."""
        status = self.data.get("status")
        if isinstance(status, str) and status in RESULT_STATUS:
            return RESULT_STATUS[status]
        if ul.ALL_SET.search(self.text):
            return None
        for entry in t.ERROR_TEXTS:
            if entry.terminal and entry.pattern.search(self.text):
                return entry.code
        return OutcomeCode.WIDGET_FAILED

    def result_message(self) -> str | None:
        for entry in t.ERROR_TEXTS:
            if entry.terminal:
                line = next((ln.strip() for ln in self.text.splitlines() if entry.pattern.search(ln)), None)
                if line:
                    return line
        return self.text.strip()[:200] or None

    def recovery_code(self) -> str | None:
        stated = self.data.get("text_code")
        if isinstance(stated, str) and stated:
            return stated
        return t.find_recovery_code(self.text) or t.find_recovery_code(" ".join(self.field_values))


def _text(node: LexborNode | None) -> str:
    if node is None:
        return ""
    return re.sub(r"[ \t\r\f\v]+", " ", node.text(separator=" ", strip=False)).strip()


def _labels(tree: LexborHTMLParser) -> dict[str, str]:
    return {
        str(label.attributes.get("for")): _text(label)
        for label in tree.css("label[for]")
        if label.attributes.get("for")
    }


def _control(node: LexborNode, labels: dict[str, str]) -> FormControl | None:
    attrs = {k: (v or "") for k, v in node.attributes.items()}
    name = attrs.get("name", "")
    tag = node.tag
    if tag not in ("input", "button", "select", "textarea"):
        return None
    kind = attrs.get("type", "submit" if tag == "button" else "text").lower()
    if tag == "select":
        kind = "select"
        chosen = node.css_first("option[selected]") or node.css_first("option")
        value = (chosen.attributes.get("value") or _text(chosen)) if chosen is not None else ""
    elif tag == "textarea":
        value = _text(node)
    else:
        value = attrs.get("value", "on" if kind in ("checkbox", "radio") else "")
    label = labels.get(attrs.get("id", ""), "")
    if not label:
        parent = node.parent
        while parent is not None and parent.tag not in ("label", "form", "body"):
            parent = parent.parent
        if parent is not None and parent.tag == "label":
            label = _text(parent)
    return FormControl(
        tag=tag,
        name=name,
        type=kind,
        value=value,
        checked="checked" in attrs,
        placeholder=attrs.get("placeholder", ""),
        label=label or attrs.get("aria-label", ""),
        text=_text(node) if tag == "button" else attrs.get("value", ""),
    )


def _form(tree: LexborHTMLParser, url: str) -> PageForm | None:
    forms = tree.css("form")
    if not forms:
        return None
    # The screen's form: the first that posts (a page may also have a language or logout form).
    node = next((f for f in forms if (f.attributes.get("method") or "").lower() == "post"), forms[0])
    labels = _labels(tree)
    controls = [c for c in (_control(n, labels) for n in node.css("input, button, select, textarea")) if c]
    action = node.attributes.get("action") or ""
    method = (node.attributes.get("method") or "GET").upper()
    return PageForm(action=urljoin(url, action) if action else url, method=method, controls=controls)


def _context(tree: LexborHTMLParser) -> dict[str, Any]:
    for script in tree.css("script"):
        match = _CONTEXT.search(script.text() or "")
        if match:
            try:
                value = json.loads(match.group(1))
            except ValueError:
                return {}
            return value if isinstance(value, dict) else {}
    return {}


def _errors(tree: LexborHTMLParser) -> list[PageError]:
    found: list[PageError] = []
    seen: set[int] = set()
    # Real pages: span#error-element-<field>[data-error-code], #prompt-alert[data-error-code] > p.
    for node in tree.css("[data-error-code]"):
        text = _text(node)
        if text or node.attributes.get("data-error-code"):
            found.append(PageError(node.attributes.get("data-error-code") or None, text))
            seen.add(node.mem_id)
    for node in tree.css("[role=alert], ._alert, .ulp-input-error-message, #prompt-alert"):
        text = _text(node)
        if node.mem_id not in seen and text:
            found.append(PageError(None, text))
    return found


def read_page(url: str, status: int, html: str) -> Page:
    tree = LexborHTMLParser(html)
    context = _context(tree)
    screen = context.get("screen") if isinstance(context.get("screen"), dict) else {}
    assert isinstance(screen, dict)
    screen_key = screen.get("name") if isinstance(screen.get("name"), str) else None
    if screen_key is None:
        outer = tree.css_first(".ulp-outer")
        classes = (outer.attributes.get("class") or "").split() if outer is not None else []
        screen_key = next((c for c in classes if c in ul.ROUTES), None)
    self_submits = any(_SELF_SUBMIT.search(s.text() or "") for s in tree.css("script"))
    form = _form(tree, url)
    errors = _errors(tree)
    field_values = [
        str(n.attributes.get("value") or "") for n in tree.css("input[readonly], textarea[readonly]")
    ]
    title_node = tree.css_first("title")
    title = _text(title_node)
    tree.strip_tags(_UNSHOWN)
    body = tree.body
    text = body.text(separator="\n", strip=True) if body is not None else ""
    data = screen.get("data") if isinstance(screen.get("data"), dict) else {}
    assert isinstance(data, dict)
    return Page(
        url=url,
        status=status,
        route=urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1],
        screen_key=screen_key,
        title=title,
        text=text,
        form=form,
        errors=errors,
        data=data,
        self_submits=self_submits,
        field_values=field_values,
    )


def submission(
    form: PageForm,
    fill: dict[str, str] | None = None,
    check: set[str] | None = None,
    submitter: FormControl | None = None,
) -> list[tuple[str, str]]:
    """The fields a browser would post for ``form``: hidden and filled controls in document order,
    ticked boxes, and the pressed button's name and value when it has a name."""
    fill, check = fill or {}, check or set()
    fields: list[tuple[str, str]] = []
    for control in form.controls:
        if not control.name:
            continue
        if control is submitter:
            fields.append((control.name, control.value))
        elif control.tag == "button" or control.type in ("submit", "image", "button", "reset", "file"):
            continue
        elif control.type == "radio":
            wanted = fill.get(control.name)
            if (wanted is None and control.checked) or wanted == control.value:
                fields.append((control.name, control.value))
        elif control.type == "checkbox":
            if control.name in check or control.checked:
                fields.append((control.name, control.value))
        else:
            fields.append((control.name, fill.get(control.name, control.value)))
    return fields


def screen_parts(html: str) -> dict[str, list[str]]:
    """What a page offers a person, by the same element kinds the browser's screen reader collects
    (headings, labels, buttons, links, placeholders, alerts, paragraphs), for contract recording."""
    tree = LexborHTMLParser(html)
    tree.strip_tags(["script", "style", "noscript", "template"])

    def hidden(node: LexborNode | None) -> bool:
        while node is not None:
            attrs = node.attributes
            if "hidden" in attrs or attrs.get("aria-hidden") == "true" or attrs.get("type") == "hidden":
                return True
            node = node.parent
        return False

    def texts(selector: str) -> list[str]:
        out = []
        for node in tree.css(selector):
            if hidden(node):
                continue
            # textContent as a browser gives it: no separator added between elements.
            content = re.sub(r"\s+", " ", node.text(separator="", strip=False)).strip()
            shown = content or str(node.attributes.get("value") or node.attributes.get("aria-label") or "")
            if shown:
                out.append(shown)
        return out

    return {
        "headings": texts("h1, h2, h3, [role=heading]"),
        "labels": texts("label"),
        "buttons": texts("button, [role=button], input[type=submit], input[type=button]"),
        "links": texts("a[href], [role=link]"),
        "placeholders": [
            str(n.attributes.get("placeholder"))
            for n in tree.css("input[placeholder], textarea[placeholder]")
        ],
        "alerts": texts("[role=alert]"),
        "texts": texts("p, legend, [role=status]"),
    }
