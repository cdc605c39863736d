"""Runs the in-app example: against the embedded fake tenant and a bridge (``--fake``), or against a real
tenant and bridge configured by ``INAPP_*`` variables (see README.md).

    python examples/in-app/run.py --fake      # or: scripts/dev in-app
    python examples/in-app/run.py
"""

from __future__ import annotations

import argparse
import os
import secrets

import uvicorn
from server import ExampleConfig, create_app


def run_with_fake(port: int) -> None:
    """The embedded fake tenant and a bridge on loopback ports, then this app on ``port``."""
    from bridge.api import create_app as create_bridge
    from bridge.serving import ServerThread, free_port
    from bridge.settings import BridgeSettings
    from guardian_bridge_fake.app import create_app as create_fake

    token = secrets.token_urlsafe(24)
    fake = ServerThread(create_fake()).start()
    bridge = ServerThread(
        create_bridge(BridgeSettings(api_tokens=[token], allowed_hosts=[f"127.0.0.1:{fake.port}"])),
        port=free_port(),
    ).start(timeout=60.0)
    config = ExampleConfig(
        bridge_url=bridge.base_url,
        bridge_token=token,
        auth0_base_url=fake.base_url,
        auth0_client_id="fake-client",
        auth0_client_secret="fake-secret",  # noqa: S106 (the fake tenant's documented test credentials)
        user_id="auth0|test-user-1",
    )
    print(f"in-app example   http://127.0.0.1:{port}/")
    print(f"SMS outbox       {fake.base_url}/__test/sms (the fake tenant's texts: read the code here)")
    try:
        uvicorn.run(create_app(config), host="127.0.0.1", port=port, log_level="warning")
    finally:
        bridge.stop()
        fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fake", action="store_true", help="run against the embedded fake tenant")
    parser.add_argument("--port", type=int, default=int(os.environ.get("INAPP_PORT", "8000")))
    args = parser.parse_args()
    if args.fake:
        run_with_fake(args.port)
    else:
        uvicorn.run(create_app(ExampleConfig.from_env()), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
