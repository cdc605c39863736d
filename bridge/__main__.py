"""``python -m bridge``: the same command line as ``guardian-bridge``."""

from bridge.cli import main

main()
