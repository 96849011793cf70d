"""CPU latency of TopDownEstimator for 1, 3 and 6 people, flip on and off: median over repeats, after warm-up.

The frame is tests/data/coco_tiny/sports2d_demo_frame060.jpg resized to 1280x720; the boxes are people-sized
(3:4) boxes spread over it, some cut by the border. "model ms" is the bare forward pass on the same batch
(N crops, 2N with flip); "own ms" is the estimator with a stand-in model that returns ready heatmaps, i.e.
its own cropping, normalisation, flip-averaging, decoding and mapping back. The weights do not change the
cost; untrained weights are used unless --weights is given. On a busy machine use --threads 1: torch's
thread pool stalls when its cores are taken. Not collected by pytest.

    python tests/benchmarks/estimator_latency.py [--model edite_hrnet_s] [--threads 2] [--repeats 20]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from pose.estimator import TopDownEstimator  # noqa: E402  (needs the repository root on sys.path)
from pose.models.registry import create_model  # noqa: E402
from pose.models.spec import ModelSpec  # noqa: E402

FRAME = REPO_ROOT / "tests" / "data" / "coco_tiny" / "sports2d_demo_frame060.jpg"
BOXES_720P = np.array([
    [380, 20, 530, 330], [910, 390, 1090, 690], [40, 200, 190, 520],
    [600, 300, 760, 640], [1150, 250, 1330, 600], [250, 420, 400, 760],
], dtype=np.float64)
"""(x1, y1, x2, y2): the two people of the frame first, then made-up ones (the last two cut by the border)."""


class ReadyHeatmaps(torch.nn.Module):
    """Stand-in model: returns the same zero heatmaps for any batch, at no cost."""

    def __init__(self, spec: ModelSpec, max_batch: int) -> None:
        super().__init__()
        self.spec = spec
        self.heatmaps = torch.zeros(max_batch, spec.num_keypoints, *spec.heatmap_size)

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        return self.heatmaps[: len(batch)]


def median_ms(call: Callable[[], object], warmup: int, repeats: int) -> tuple[float, float]:
    """Median and fastest milliseconds of ``call`` over ``repeats`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        call()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds) * 1e3, min(seconds) * 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="edite_hrnet_s")
    parser.add_argument("--weights", default=None)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own choice)")
    parser.add_argument("--people", type=int, nargs="+", default=[1, 3, 6])
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    frame = cv2.resize(cv2.imread(str(FRAME)), (1280, 720), interpolation=cv2.INTER_LINEAR)
    model = create_model(args.model, weights=args.weights)
    estimator = TopDownEstimator(model, device="cpu")  # keeps (and prepares) this very module
    height, width = estimator.spec.input_size
    own = TopDownEstimator(ReadyHeatmaps(estimator.spec, 2 * max(args.people)), device="cpu")
    print(f"{args.model}, input {height}x{width}, frame 1280x720, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print(f"{platform.machine()}, {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f} at start")
    header = ("people", 6), ("flip", 5), ("total ms", 9), ("min ms", 8), ("model ms", 9), ("own ms", 7)
    print(" ".join(f"{name:>{width}}" for name, width in header), f"{'ms/person':>10}")
    for people in args.people:
        boxes = BOXES_720P[:people]
        for flip in (False, True):
            estimator.flip = own.flip = flip
            total, fastest = median_ms(lambda boxes=boxes: estimator(frame, boxes), args.warmup, args.repeats)
            overhead, _ = median_ms(lambda boxes=boxes: own(frame, boxes), args.warmup, args.repeats)
            batch = torch.randn(people * (2 if flip else 1), 3, height, width)
            with torch.inference_mode():
                forward, _ = median_ms(lambda batch=batch: model(batch), args.warmup, args.repeats)
            print(f"{people:>6} {'on' if flip else 'off':>5} {total:>9.1f} {fastest:>8.1f} {forward:>9.1f} "
                  f"{overhead:>7.1f} {total / people:>10.1f}")
    print(f"load average {os.getloadavg()[0]:.1f} at end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
