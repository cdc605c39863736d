"""``python -m bench.bridge_app``: the bridge as the benchmark runs it, with its settings spelled out.

Only the listed settings differ from the defaults, so the figures describe the bridge as shipped.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

from bench.servers import HOST, TOKEN_ENV
from bridge.api import create_app
from bridge.settings import BridgeSettings

# Above the largest concurrency level (32), so the curve measures the bridge, not its admission limit.
MAX_ENROLLMENTS = 64


def settings(chromium: str, artifacts: Path, token: str, tenant_port: int) -> BridgeSettings:
    return BridgeSettings(
        api_tokens=[token],
        allowed_hosts=[f"{HOST}:{tenant_port}"],  # the fake tenant's port: a portless entry is https:443
        max_enrollments=MAX_ENROLLMENTS,
        # The same binary the hand-written baseline launches, so the comparison is browser-neutral.
        browser_executable=chromium,
        artifacts_dir=artifacts,
        # One load generator with one token starts hundreds of enrollments a minute: the per-token
        # creation limit protects a shared deployment and is not what this suite measures.
        create_rate_per_minute=1_000_000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.bridge_app")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--chromium", required=True)
    parser.add_argument("--artifacts", type=Path, required=True)
    parser.add_argument("--tenant-port", type=int, required=True)
    args = parser.parse_args()
    app = create_app(settings(args.chromium, args.artifacts, os.environ[TOKEN_ENV], args.tenant_port))
    uvicorn.run(app, host=HOST, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
