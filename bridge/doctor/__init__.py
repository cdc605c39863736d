"""``guardian-bridge doctor``: checks a tenant's set-up (and optionally a running bridge), with fixes.

``run_doctor`` returns a ``DoctorReport``: one ``CheckResult`` per check, in order, each ``ok``, ``warn``,
``fail`` (something to fix, with the fix), ``skip`` (an earlier failure hides it) or ``error`` (could not
be checked). Layout: ``management`` reads the tenant's Management API, ``tenant_checks`` and
``bridge_checks`` judge what they read, ``results`` holds the verdicts and renders them.
"""

from bridge.doctor.results import CheckResult, DoctorReport, Status
from bridge.doctor.run import DoctorOptions, run_doctor

__all__ = ["CheckResult", "DoctorOptions", "DoctorReport", "Status", "run_doctor"]
