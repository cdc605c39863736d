"""``python -m bench``: parse options, run the suite, print tables or JSON, optionally save and plot."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from bench.report import judge, print_tables, to_json
from bench.runner import run
from bench.sizes import BY_MODE, Mode


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="every measurement, small (under 2 minutes)")
    size.add_argument("--tiny", action="store_true", help="every code path once (the smoke test)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--out", type=Path, help="also write the JSON result to this file")
    parser.add_argument("--plot", type=Path, help="draw the concurrency curve to this PNG")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode: Mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    # Progress goes to stderr so that stdout carries only the result (the JSON, with --json).
    progress = Console(stderr=True, log_path=False)
    result = run(BY_MODE[mode], lambda message: progress.log(message))
    result["targets"] = judge(result)
    text = to_json(result)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    if args.plot:
        from bench.plot import concurrency_png  # matplotlib is a dev extra and slow to import

        concurrency_png(result, args.plot)
    if args.json:
        sys.stdout.write(text + "\n")
    else:
        print_tables(result, Console())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
