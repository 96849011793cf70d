"""Milliseconds per frame of the Kalman smoother (``app.core.tracking.smoother``) for 1 to 6 tracked people.

Each person has 17 keypoints jittering around a walk, a fifth of them below the smoother's confidence
threshold (predicted, not updated); median over the frames after the filters have started. Not collected
by pytest.

    python tests/benchmarks/smoother_cost.py [--frames 300] [--people 1 3 6]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.core.tracking.smoother import KeypointSmoother

FPS = 30.0
HEIGHT_PX = 300.0


def frame_ms(people: int, frames: int, seed: int = 0) -> float:
    """Median milliseconds of one ``KeypointSmoother.update`` with ``people`` tracks."""
    rng = np.random.default_rng(seed)
    smoother = KeypointSmoother()
    ids, heights = np.arange(people), np.full(people, HEIGHT_PX)
    walk = np.linspace(0, 200, frames)[:, None, None, None] * np.array([1.0, 0.0])
    keypoints = 300 + walk + rng.normal(0, 3, (frames, people, 17, 2))
    scores = np.where(rng.random((frames, people, 17)) < 0.2, 0.1, 0.9)
    seconds = []
    for index in range(frames):
        start = time.perf_counter()
        smoother.update(index / FPS, ids, keypoints[index], scores[index], heights)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds[1:]) * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--people", type=int, nargs="+", default=[1, 3, 6])
    args = parser.parse_args()
    for people in args.people:
        print(f"{people} people: {frame_ms(people, args.frames):.2f} ms per frame")


if __name__ == "__main__":
    main()
