"""Typed Python clients for the bridge's HTTP API: ``AsyncBridgeClient`` and ``BridgeClient`` over httpx.

Answers are the models the server itself returns (``bridge.models``). Error answers raise the server's
own exception classes (``bridge.errors``), rebuilt from their stable ``code`` with the ``enrollment_id``
and ``Retry-After`` they carried; a bridge that cannot be reached raises ``BridgeConnectionError``.
Outcomes such as a refused code are results, never exceptions. The token, phone numbers and codes never
appear in a message or a repr.

    async with AsyncBridgeClient("http://127.0.0.1:8780", token) as bridge:
        done = await bridge.enroll(ticket_url, phone="+14155550123", code_source=ask_the_user)

Layout: ``_core`` describes every call once (sans I/O), ``_async`` and ``_sync`` only perform it,
``_sse`` decodes the event stream; ``flow`` plans the whole enrollment once (``enroll``, the command line
and the contract check run it through ``run_flow``).
"""

from bridge.client._async import AsyncBridgeClient
from bridge.client._core import TERMINAL_STATES, BridgeConnectionError
from bridge.client._sync import BridgeClient

__all__ = ["TERMINAL_STATES", "AsyncBridgeClient", "BridgeClient", "BridgeConnectionError"]
