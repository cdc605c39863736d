"""The protocol engine: enrolls without a browser by speaking the widget's own protocol over HTTP.

Classic tenants are driven through the Guardian API the widget's script calls (``classic.py``); Universal
Login tenants through the server-rendered ``/u/`` form posts (``universal.py``). Both drivers implement the
same ``WidgetDriver`` protocol as the browser's page objects, so one state machine runs either engine.
"""

from bridge.protocol.auto import AutoChoice, choose_engine
from bridge.protocol.open import open_protocol
from bridge.protocol.state import ProtocolState

__all__ = ["AutoChoice", "ProtocolState", "choose_engine", "open_protocol"]
