"""The HTTP layer: the only part of the bridge that knows FastAPI and status codes."""

from bridge.api.app import create_app

__all__ = ["create_app"]
