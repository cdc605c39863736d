"""Universal Login over plain HTTP: each ``/u/`` screen is a server-rendered form, each step one POST.

A step reads the current screen (``pages.read_page``), posts its form the way a browser would (hidden
``state``, the screen's fields, the pressed button's ``action``), follows the redirects to the next screen
with the session's cookies, and reads that screen's name and error. Screens are placed by their documented
routes, field names and actions, errors by ``data-error-code`` before texts, so customised texts do not
break it. A screen it cannot place ends the step with ``widget_unrecognized`` and a redacted HTML snapshot.
"""

from __future__ import annotations

import re

from bridge.artifacts import Artifacts
from bridge.errors import UpstreamError, WidgetTimeoutError
from bridge.models import Channel, Flavour
from bridge.outcomes import Outcome
from bridge.phone import PhoneNumber
from bridge.protocol.driver import ProtocolDriver
from bridge.protocol.http import ProtocolHttp
from bridge.protocol.pages import Page, read_page, submission
from bridge.protocol.state import FormControl, PageForm, ProtocolState
from bridge.widgets import texts as t
from bridge.widgets import universal_table as ul

# Screens that only lead on (a redeem page, a script-submitted capabilities check) are submitted as they
# are, at most this many in a row before the page counts as unrecognised.
MAX_PASS_THROUGH = 4
# What ACUL's mfa-detect-browser-capabilities screen submits by script. A client without a browser
# reports no WebAuthn, so the tenant does not offer security keys it could not use anyway.
CAPABILITIES = {
    "js-available": "true",
    "webauthn-available": "false",
    "webauthn-platform-available": "false",
    "is-brave": "false",
}
_SMS_FACTOR_VALUES = ("sms", "phone")


class UniversalProtocolDriver(ProtocolDriver):
    flavour = Flavour.UNIVERSAL

    def __init__(
        self,
        http: ProtocolHttp,
        state: ProtocolState,
        page: Page,
        html: str,
        artifacts: Artifacts | None = None,
    ) -> None:
        super().__init__(http, state, artifacts)
        self.page = page
        self.html = html  # the current page's markup, for snapshots and contract recording
        self._remember(page, html)

    def upstream_outcome(self, exc: UpstreamError | WidgetTimeoutError) -> Outcome:
        if isinstance(exc, WidgetTimeoutError):
            return Outcome.error("widget_timeout", None)
        # A form POST that never got an answer: the flow's page is gone, and with it the flow.
        return Outcome("terminal", "upstream_error", None)

    async def screen_name(self) -> str:
        return self.page.screen

    # --- steps ---
    async def ready(self) -> Outcome:
        self.http.begin_step()
        try:
            return await self._ready()
        except (UpstreamError, WidgetTimeoutError) as exc:
            return self.upstream_outcome(exc)

    async def _ready(self) -> Outcome:
        passed = 0
        while True:
            screen = self.page.screen
            if screen == "phone":
                return Outcome("ok")
            if screen in ("redeem", "interstitial") and passed < MAX_PASS_THROUGH:
                passed += 1
                await self._pass_through()
                continue
            if screen == "chooser" and passed < MAX_PASS_THROUGH:
                passed += 1
                await self._observe()
                factor = self._sms_factor()
                if factor is None:
                    return self._unrecognized()
                await self._post(submitter=factor)
                continue
            return await self._unexpected()

    async def submit_phone(self, phone: PhoneNumber, channel: Channel) -> Outcome:
        self.http.begin_step()
        try:
            return await self._submit_phone(phone, channel)
        except (UpstreamError, WidgetTimeoutError) as exc:
            return self.upstream_outcome(exc)

    async def _submit_phone(self, phone: PhoneNumber, channel: Channel) -> Outcome:
        if self.page.screen != "phone":
            return await self._unexpected()
        outcome = await self._choose_country(phone)
        if outcome is not None:
            return outcome
        form = self._form()
        field = self._field(form, ul.FIELDS.phone, ul.PHONE_PLACEHOLDER)
        if field is None:
            return self._unrecognized()
        if any(c.name == ul.CAPTCHA_FIELD for c in form.inputs()):
            # Bot detection wants a person (same outcome as the browser engine's).
            return Outcome("terminal", "captcha_required", None)
        fill = {field.name: phone.national}
        submitter = self._default_button(form)
        # The unified phone screen offers the channel as radios or as submit buttons named ``type``.
        typed = [c for c in form.controls if c.name == "type"]
        if typed or channel == "voice":
            choice = next((c for c in typed if c.value == channel), None)
            if choice is None:
                if channel == "voice":
                    return Outcome("rejected", "channel_unsupported", "This tenant offers no voice option")
            elif choice.tag == "button" or choice.type == "submit":
                submitter = choice
            else:
                fill["type"] = channel
        await self._post(fill=fill, submitter=submitter)
        error = self._error()
        if error is not None:
            return error
        return Outcome("ok") if self.page.screen == "code" else await self._unexpected()

    async def submit_code(self, code: str) -> Outcome:
        self.http.begin_step()
        try:
            return await self._submit_code(code)
        except (UpstreamError, WidgetTimeoutError) as exc:
            return self.upstream_outcome(exc)

    async def _submit_code(self, code: str) -> Outcome:
        if self.page.screen != "code":
            return await self._unexpected()
        form = self._form()
        field = self._field(form, ul.FIELDS.code, ul.CODE_PLACEHOLDER)
        if field is None:
            return self._unrecognized()
        await self._post(fill={field.name: code}, submitter=self._default_button(form))
        error = self._error()
        if error is not None:
            return error
        if self.page.screen == "recovery":
            return await self._acknowledge_recovery()
        return await self._unexpected()

    async def resend(self) -> Outcome:
        self.http.begin_step()
        try:
            if self.page.screen != "code":
                return await self._unexpected()
            form = self._form()
            button = next((b for b in form.buttons() if b.value == "resend-code"), None)
            button = button or next((b for b in form.buttons() if ul.RESEND.search(b.text)), None)
            if button is None:
                return self._unrecognized()
            await self._post(submitter=button)
            error = self._error()
            if error is not None:
                return error
            return Outcome("ok") if self.page.screen == "code" else await self._unexpected()
        except (UpstreamError, WidgetTimeoutError) as exc:
            return self.upstream_outcome(exc)

    # --- screens ---
    async def _pass_through(self) -> None:
        """Submits a screen that only leads on, as its script (or a person pressing Continue) would."""
        form = self._form()
        fill = {c.name: CAPABILITIES[c.name] for c in form.controls if c.name in CAPABILITIES}
        await self._post(fill=fill, submitter=self._default_button(form))

    async def _choose_country(self, phone: PhoneNumber) -> Outcome | None:
        """Picks the number's country through the picker action unless it is already the one shown."""
        form = self._form()
        picker = next((b for b in form.buttons() if b.value == ul.ACTIONS.pick_country), None)
        if picker is None:
            picker = next((b for b in form.buttons() if ul.COUNTRY_PICKER.search(b.text)), None)
        if picker is None:
            return None  # no picker: the national number alone is what the screen wants
        if self._country_shown(picker, phone):
            return None
        await self._post(submitter=picker)
        error = self._error()
        if error is not None:
            return error
        if self.page.screen != "country":
            return await self._unexpected()
        await self._observe()
        choice = self._country_button(phone)
        if choice is None:
            return Outcome("rejected", "invalid_phone_number", "The widget offers no such country")
        await self._post(submitter=choice)
        error = self._error()
        if error is not None:
            return error
        return None if self.page.screen == "phone" else await self._unexpected()

    def _country_shown(self, picker: FormControl, phone: PhoneNumber) -> bool:
        stated = self.page.data.get("country_code")
        context_country = None
        if isinstance(stated, dict):
            context_country = (stated.get("code"), str(stated.get("prefix")))
        if context_country is not None and context_country[0] is not None:
            return context_country[0] in phone.regions and context_country[1] == str(phone.country_code)
        label = f"{picker.text} {picker.label}"
        shown = re.search(rf"\+{phone.country_code}(?!\d)", label)
        return bool(shown) and any(re.search(rf"\b{r}\b", label) for r in phone.regions)

    def _country_button(self, phone: PhoneNumber) -> FormControl | None:
        buttons = self._form().buttons()
        cc = phone.country_code
        for region in phone.regions:
            wanted = ul.ACTIONS.select_country.format(region=region, dial=cc)
            found = next((b for b in buttons if b.value == wanted), None)
            pattern = re.compile(rf"\b{region}\b.*\+{cc}(?!\d)")
            found = found or next((b for b in buttons if pattern.search(f"{b.text} {b.label}")), None)
            if found is not None:
                return found
        return None

    async def _acknowledge_recovery(self) -> Outcome:
        recovery = self.page.recovery_code()
        form = self._form()
        boxes = [c for c in form.inputs() if c.type == "checkbox"]
        box = next((b for b in boxes if b.name == ul.FIELDS.saved), None)
        box = box or next((b for b in boxes if ul.RECOVERY_CHECKBOX.lower() in b.label.lower()), None)
        box = box or (boxes[0] if len(boxes) == 1 else None)
        if box is None:
            return self._unrecognized()
        await self._observe()
        await self._post(check={box.name}, submitter=self._default_button(form))
        error = self._error()
        if error is not None:
            return error
        if self.page.screen != "result":
            return await self._unexpected()
        result = self._result()
        result.recovery_code = recovery
        if result.kind == "ok":
            self.state.step = "done"
        return result

    def _result(self) -> Outcome:
        code = self.page.result_code()
        if code is None:
            return Outcome("ok")
        return Outcome("terminal", code, self.page.result_message())

    async def _unexpected(self) -> Outcome:
        if self.page.screen == "result":
            return self._result()
        code, message = self.page.error()
        if code:
            return Outcome.error(code, message)
        return self._unrecognized()

    def _unrecognized(self) -> Outcome:
        self.keep_snapshot(self.html)
        return Outcome.error("widget_unrecognized", None)

    def _error(self) -> Outcome | None:
        code, message = self.page.error()
        if code is None:
            return None
        return Outcome.error(code, message)

    # --- forms ---
    def _form(self) -> PageForm:
        return self.page.form or PageForm(action=self.page.url, controls=[])

    @staticmethod
    def _field(form: PageForm, name: str, placeholder: str) -> FormControl | None:
        inputs = form.inputs()
        return next((c for c in inputs if c.name == name), None) or next(
            (c for c in inputs if c.name and placeholder.lower() in (c.placeholder + c.label).lower()), None
        )

    @staticmethod
    def _default_button(form: PageForm) -> FormControl | None:
        """The button that moves the screen on: the documented ``action=default``, else by its text."""
        buttons = form.buttons()
        return (
            next((b for b in buttons if b.name == ul.FIELDS.action and b.value == ul.ACTIONS.default), None)
            or next((b for b in buttons if t.SUBMIT.search(b.text)), None)
            or next((b for b in buttons if not b.value.startswith(("pick-", "resend-", "back-"))), None)
        )

    def _sms_factor(self) -> FormControl | None:
        buttons = self._form().buttons()
        return next((b for b in buttons if b.value in _SMS_FACTOR_VALUES), None) or next(
            (b for b in buttons if ul.SMS_FACTOR.search(b.text)), None
        )

    async def _post(
        self,
        fill: dict[str, str] | None = None,
        check: set[str] | None = None,
        submitter: FormControl | None = None,
    ) -> None:
        form = self._form()
        fields = submission(form, fill, check, submitter)
        if form.method == "GET":
            response = await self.http.navigate("GET", form.action)
        else:
            response = await self.http.navigate("POST", form.action, fields)
        self._remember(read_page(str(response.url), response.status_code, response.text), response.text)

    def _remember(self, page: Page, html: str) -> None:
        self.page, self.html = page, html
        self.state.page_url = page.url
        self.state.screen = page.screen
        self.state.form = page.form
        self.state.cookies = self.http.cookies()

    async def _observe(self) -> None:
        if self.observer is not None:
            await self.observer(self.page.screen)
