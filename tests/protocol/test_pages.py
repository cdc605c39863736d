"""Reading Universal Login pages and Classic page options without a browser (no server needed)."""

from __future__ import annotations

from bridge.protocol.classic import page_config, service_url_for, ticket_of
from bridge.protocol.pages import read_page, submission
from bridge.protocol.state import FormControl, PageForm, ProtocolState

URL = "https://login.example.com/u/mfa-sms-enrollment?state=s1"


def _screen(body: str, url: str = URL) -> str:
    return f"<!doctype html><html><head><title>t</title></head><body>{body}</body></html>"


def test_a_field_error_is_read_by_its_code_before_its_text() -> None:
    html = _screen(
        "<form method=post><input type=hidden name=state value=s1>"
        "<input name=phone type=text><span id='error-element-phone' class='ulp-input-error-message' "
        "data-error-code='invalid-phone'>Numéro incorrect</span>"
        "<button name=action value=default>Weiter</button></form>"
    )
    page = read_page(URL, 400, html)
    assert page.screen == "phone"
    assert page.error() == ("invalid_phone_number", "Numéro incorrect")


def test_a_screen_error_without_a_code_is_read_by_its_documented_text() -> None:
    html = _screen(
        "<div id='prompt-alert'><p>The code you entered is invalid</p></div>"
        "<form method=post><input name=code></form>"
    )
    page = read_page("https://login.example.com/u/somewhere-else", 200, html)
    assert page.screen == "code"  # by the documented field name, whatever the route
    assert page.error() == ("invalid_otp", "The code you entered is invalid")


def test_the_result_screen_is_known_by_its_texts_as_well_as_its_route() -> None:
    done = read_page("https://login.example.com/u/finished", 200, _screen("<h1>You're All Set!</h1>"))
    assert (done.screen, done.result_code()) == ("result", None)
    used = read_page("https://login.example.com/u/x", 200, _screen("<p>This link has already been used.</p>"))
    assert (used.screen, used.result_code()) == ("result", "ticket_used")


def test_a_recovery_code_in_a_read_only_field_and_a_lone_checkbox() -> None:
    html = _screen(
        "<form method=post><input readonly value='ABCD1234EFGH5678IJKL9012'>"
        "<input type=checkbox id=k name=ok><label for=k>Got it</label><button>Continue</button></form>"
    )
    page = read_page("https://login.example.com/u/mfa-recovery-code-enrollment?state=s", 200, html)
    assert page.screen == "recovery"
    assert page.recovery_code() == "ABCD1234EFGH5678IJKL9012"


def test_a_form_is_posted_as_a_browser_posts_it() -> None:
    form = PageForm(
        action=URL,
        controls=[
            FormControl(tag="input", name="state", type="hidden", value="s1"),
            FormControl(tag="button", name="action", type="submit", value="pick-country-code"),
            FormControl(tag="input", name="phone"),
            FormControl(tag="input", name="saved", type="checkbox", value="on"),
            FormControl(tag="input", name="type", type="radio", value="sms", checked=True),
            FormControl(tag="input", name="type", type="radio", value="voice"),
            FormControl(tag="button", name="action", type="submit", value="default"),
        ],
    )
    default = form.buttons()[1]
    assert submission(form, {"phone": "4155550123", "type": "voice"}, {"saved"}, default) == [
        ("state", "s1"),
        ("phone", "4155550123"),
        ("saved", "on"),
        ("type", "voice"),
        ("action", "default"),
    ]
    assert submission(form) == [("state", "s1"), ("phone", ""), ("type", "sms")]


def test_classic_page_options_and_the_guardian_address_rules() -> None:
    page = (
        "<script src='w.js'></script><script>new Auth0MFAWidget({container: 'c', "
        "mfaServerUrl: 'https://acme.guardian.eu.auth0.com', ticket: 'tk1', "
        '"languageDictionary": {"errorMessages": {"invalidOtp": "Nope<br />again"}}});</script>'
    )
    config = page_config(page)
    assert config["mfaServerUrl"] == "https://acme.guardian.eu.auth0.com"
    assert ticket_of("https://acme.eu.auth0.com/guardian/enroll?ticket=x", config) == "tk1"
    assert config["dictionary"] == {"invalidOtp": "Nope again"}
    assert page_config("<script>var x = 1;</script>") == {}
    rule = service_url_for
    assert rule("https://acme.auth0.com/guardian/enroll?ticket=t", None) == "https://acme.guardian.auth0.com/"
    assert rule("https://acme.au.auth0.com/x", None) == "https://acme.guardian.au.auth0.com/"
    assert rule("https://login.acme.com/guardian/enroll", None) == "https://login.acme.com/guardian/"
    assert rule("https://acme.auth0.com/", "https://g.example/guardian") == "https://g.example/guardian/"
    assert rule("https://acme.auth0.com/", "https://g.example/", "https://o.example") == "https://o.example/"


def test_the_enrollment_state_is_a_small_json_value_with_secrets_out_of_its_repr() -> None:
    state = ProtocolState(
        flavour="classic",
        ticket_url="https://acme.auth0.com/guardian/enroll?ticket=tk1",
        service_url="https://acme.guardian.auth0.com/",
        transaction_token="eyJsecret",
        device_account_id="dev_1",
        recovery_code="ABCD1234EFGH5678IJKL9012",
        step="phone",
        cookies={"sid": "c00kie"},
    )
    data = state.to_json()
    assert ProtocolState.from_json(data) == state
    assert len(data) < 1024
    shown = repr(state)
    assert not any(s in shown for s in ("tk1", "eyJsecret", "ABCD1234", "c00kie"))
