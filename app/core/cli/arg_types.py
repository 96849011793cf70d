"""argparse ``type=`` checkers: a bad value is refused at parse time, naming the flag and its allowed range.

argparse turns the ``ArgumentTypeError`` into ``edite-pose run: error: argument --fps: ...`` and exit code 2.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable


def _number(text: str, kind: type[int] | type[float]) -> int | float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, "
                                         f"got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0 (a frame rate: ``inf``, ``nan``, 0 and negatives are refused)."""
    value = _number(text, float)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
    return value


def int_in_range(low: int, high: int | None = None) -> Callable[[str], int]:
    """An integer checker for ``low <= value`` (``<= high`` when given)."""
    def check(text: str) -> int:
        value = _number(text, int)
        if value < low or (high is not None and value > high):
            allowed = f">= {low}" if high is None else f"in {low}..{high}"
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {text!r}")
        return value

    return check


def multiple_in_range(step: int, low: int, high: int) -> Callable[[str], int]:
    """An integer checker for a multiple of ``step`` in ``low..high`` (a network input size)."""
    in_range = int_in_range(low, high)

    def check(text: str) -> int:
        value = in_range(text)
        if value % step:
            raise argparse.ArgumentTypeError(f"must be a multiple of {step}, got {text!r}")
        return value

    return check


def float_in_range(low: float, high: float) -> Callable[[str], float]:
    """A number checker for ``low <= value <= high``."""
    def check(text: str) -> float:
        value = _number(text, float)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be in [{low:g}, {high:g}], got {text!r}")
        return value

    return check


def max_threads() -> int:
    """The most ``--threads`` accepted: 4 per CPU core (more only thrash)."""
    return (os.cpu_count() or 1) * 4
