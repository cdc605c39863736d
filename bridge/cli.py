"""Command line entry point (placeholder until the CLI lands)."""


def main() -> None:
    raise SystemExit("guardian-bridge: CLI not built yet")
