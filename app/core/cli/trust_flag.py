"""``--trust-weights``, the same flag with the same help on every subcommand that may load detector weights.

Kept apart from ``detectors`` so that building the parser imports nothing heavy.
"""

from __future__ import annotations

import argparse

TRUST_FLAG_HELP = (
    "load detector .pt/.pth weights whose SHA-256 is not an official ultralytics release: such a file is a "
    "Python pickle and loading it runs any code it contains, so use this only for files you made or trust "
    "(ONNX exports and official releases never need it)"
)


def add_trust_weights(parser: argparse.ArgumentParser) -> None:
    """Add ``--trust-weights`` (``args.trust_weights``, default False) to ``parser``."""
    parser.add_argument("--trust-weights", action="store_true", help=TRUST_FLAG_HELP)
