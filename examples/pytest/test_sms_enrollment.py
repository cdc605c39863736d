"""A QA suite's SMS enrollment tests with the guardian-bridge pytest plugin.

Hermetic (the embedded fake tenant and an in-process bridge):  pytest --guardian-fake examples/pytest
Against a QA tenant and a deployed bridge whose OTP inbox its forwarding Action feeds:
    BRIDGE_AUTH0_DOMAIN=... BRIDGE_AUTH0_CLIENT_ID=... BRIDGE_AUTH0_CLIENT_SECRET=... \\
    pytest --guardian-bridge-url https://bridge.qa.example.com --guardian-bridge-token "$TOKEN" \\
        examples/pytest
"""

import pytest

from bridge import EnrollmentFailedError


def test_a_new_user_enrolls_a_phone(enroll_sms, guardian_phone, guardian_tenant):
    # No user_id or ticket_url: the plugin creates a fresh user and deletes it (and the enrollment) after.
    enrollment = enroll_sms(guardian_phone)

    assert enrollment.state == "completed"
    assert enrollment.recovery_code
    assert enrollment.phone_number.endswith(guardian_phone[-4:])  # the bridge only shows the last digits


def test_an_existing_user_is_enrolled_once(enroll_sms, guardian_phone, guardian_tenant):
    user_id = guardian_tenant.create_user()
    enroll_sms(guardian_phone, user_id=user_id)

    [enrolled] = guardian_tenant.enrollments(user_id)
    assert enrolled["status"] == "confirmed"

    # A second ticket for an enrolled user is refused by the widget: a failure, raised with its outcome.
    with pytest.raises(EnrollmentFailedError) as failed:
        enroll_sms(guardian_phone, ticket_url=guardian_tenant.create_ticket(user_id))
    assert failed.value.outcome == "already_enrolled"


@pytest.mark.parametrize("engine", ["browser", "protocol"])
def test_both_engines_enroll(enroll_sms, guardian_phone, engine):
    assert enroll_sms(guardian_phone, engine=engine).engine == engine
