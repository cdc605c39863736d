"""The ``guardian-bridge`` command line: ``app`` declares the commands, the other modules run them.

``enroll``, ``check`` and ``demo`` talk to a bridge only through ``bridge.client``; ``host`` starts one in
this process when no ``--bridge`` is named; ``output`` shows the work; ``fake`` is the one way in to the
fake Auth0 tenant, which only ``demo`` and ``fake-guardian`` use and which is a separate distribution.
"""

from bridge.cli.app import main

__all__ = ["main"]
