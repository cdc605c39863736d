"""Whether Chromium runs inside its own sandbox (``BRIDGE_BROWSER_SANDBOX``: auto, on, off).

Chromium's sandbox needs user namespaces (or a setuid helper) and cannot run as root, which is why
browsers in containers are so often started with ``--no-sandbox``. ``auto`` turns it on whenever this
process is not root (the Docker image runs as an unprivileged user); ``on`` and ``off`` force it.
"""

from __future__ import annotations

import os
from typing import Literal

SandboxMode = Literal["auto", "on", "off"]


def sandbox_on(mode: SandboxMode, euid: int | None = None) -> bool:
    if mode != "auto":
        return mode == "on"
    uid = os.geteuid() if euid is None else euid
    return uid != 0
