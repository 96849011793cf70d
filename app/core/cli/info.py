"""info: not implemented yet."""

from __future__ import annotations

import argparse

from app.core.cli._pending import accept_anything, not_implemented


def add_arguments(parser: argparse.ArgumentParser) -> None:
    accept_anything(parser)


def run(args: argparse.Namespace) -> int:
    return not_implemented("info")
