"""Command-line entry point `liqkeeper`: parses arguments and wires the keeper's stages."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from keeper import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="liqkeeper",
        description=(
            "Keeper for the liqengine lending pool: watches oracle updates, finds accounts whose "
            "health factor fell below 1, and liquidates them."
        ),
    )
    parser.add_argument("--version", action="version", version=f"liqkeeper {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    parser.parse_args(argv)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
