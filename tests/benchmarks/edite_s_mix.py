"""EDite-S mix conv: three summed depthwise convs (what the model runs) vs interleave + grouped conv.

Both compute the same function with the same ``[c, 3, 3, 3]`` weight (checked here before timing). Shapes
are the four branches of a 256x192 input. Median microseconds per call over ``--repeats`` calls:

    python tests/benchmarks/edite_s_mix.py [--threads 1] [--repeats 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pose.models.edite_hrnet import InterleavedMix
from pose.models.layers import concat_shuffle

BRANCHES = ((20, 64, 48), (40, 32, 24), (80, 16, 12), (160, 8, 6))


def _median_us(call: Callable[[], torch.Tensor], repeats: int) -> float:
    for _ in range(max(10, repeats // 10)):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    print(f"{'branch (c, h, w)':>18} {'summed dw us':>13} {'grouped us':>11}")
    with torch.inference_mode():
        for channels, height, width in BRANCHES:
            mix = InterleavedMix(channels)
            parts = [torch.randn(1, channels, height, width, generator=generator) for _ in range(3)]

            def grouped(mix=mix, parts=parts) -> torch.Tensor:
                return F.conv2d(concat_shuffle(parts), mix.weight, padding=1, groups=mix.groups)

            torch.testing.assert_close(mix(parts), grouped())
            summed_us = _median_us(lambda mix=mix, parts=parts: mix(parts), args.repeats)
            grouped_us = _median_us(grouped, args.repeats)
            print(f"{(channels, height, width)!s:>18} {summed_us:>13.1f} {grouped_us:>11.1f}")


if __name__ == "__main__":
    main()
