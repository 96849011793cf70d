"""People found per frame on real footage: the offline YOLO11n-pose person boxes against the HOG fallback.

Both detectors run as the app builds them (`create_detector`, default confidence), on every `--stride`-th
frame of each clip: OpenCV's vtest.avi (`apt-get install opencv-doc`; several pedestrians, 768x576) when
present, and the bundled assets/samples/pedestrians.mp4. There is no ground truth here: the table counts
boxes, and says on how many frames one detector found more people than the other. Not collected by pytest.

    python tests/benchmarks/people_found.py [--stride 5] [--threads 2] [CLIP ...]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import torch

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from detectors.hog import HogConfig, HogDetector  # noqa: E402  (needs the repository root on sys.path)
from detectors.trusted_weights import bundled_yolo11n_pose  # noqa: E402
from detectors.yolo import YoloConfig, YoloDetector  # noqa: E402

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
SAMPLE = REPO_ROOT / "assets" / "samples" / "pedestrians.mp4"


@dataclass
class Counts:
    """People found and seconds spent per frame by one detector on one clip."""

    people: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def add(self, people: int, seconds: float) -> None:
        self.people.append(people)
        self.seconds.append(seconds)


def frames(clip: Path, stride: int):
    """Every `stride`-th frame of `clip` (BGR uint8), from the first."""
    capture = cv2.VideoCapture(str(clip))
    index = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if index % stride == 0:
            yield frame
        index += 1
    capture.release()


def measure(clip: Path, detectors: dict, stride: int) -> dict[str, Counts]:
    counts = {name: Counts() for name in detectors}
    for frame in frames(clip, stride):
        for name, detector in detectors.items():
            start = time.perf_counter()
            found = len(detector(frame))
            counts[name].add(found, time.perf_counter() - start)
    return counts


def report(clip: Path, counts: dict[str, Counts]) -> None:
    hog = counts["HOG"].people
    print(f"\n{clip.name}: {len(hog)} frames")
    print(f"{'detector':<18} {'mean':>5} {'median':>6} {'min':>3} {'max':>3} {'total':>6} {'ms/frame':>8} "
          f"{'frames more/fewer than HOG':>27}")
    for name, result in counts.items():
        people = result.people
        more = sum(a > b for a, b in zip(people, hog, strict=True))
        fewer = sum(a < b for a, b in zip(people, hog, strict=True))
        print(f"{name:<18} {statistics.mean(people):5.2f} {statistics.median(people):6.1f} {min(people):3d} "
              f"{max(people):3d} {sum(people):6d} {1000 * statistics.median(result.seconds):8.1f} "
              f"{more:>17d} / {fewer:<7d}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", type=Path, help="videos (default: vtest.avi if present, sample)")
    parser.add_argument("--stride", type=int, default=5, help="use every k-th frame (default 5)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--sizes", nargs="+", type=int, default=[640, 960, 1280],
                        help="YOLO input sizes (longest side, pixels) to compare")
    parser.add_argument("--confidence", type=float, default=0.5, help="YOLO minimum person score (app: 0.5)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    clips = args.clips or [clip for clip in (VTEST, SAMPLE) if clip.is_file()]
    weights = bundled_yolo11n_pose()
    detectors = {
        f"YOLO11n-pose {size}": YoloDetector(
            YoloConfig(weights=weights, device="cpu", image_size=size, confidence=args.confidence)
        )
        for size in args.sizes
    }
    detectors["HOG"] = HogDetector(HogConfig())
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, {args.threads} threads, "
          f"every {args.stride}th frame")
    for clip in clips:
        report(clip, measure(clip, detectors, args.stride))
    return 0


if __name__ == "__main__":
    sys.exit(main())
