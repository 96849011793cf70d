"""Shared behaviour of subcommands whose issue has not landed yet."""

from __future__ import annotations

import argparse
import sys

EXIT_NOT_IMPLEMENTED = 2


def not_implemented(command: str) -> int:
    print(f"edite-pose {command}: not implemented yet", file=sys.stderr)
    return EXIT_NOT_IMPLEMENTED


def accept_anything(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
