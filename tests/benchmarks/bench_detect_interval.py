"""How often to run the person detector: cost of detection vs pose per frame, for k = 1..max-k.

Between detections the pipeline follows people from their keypoints, so a frame costs the pose model plus
1/k of a detector run (plus the occasional re-detection when someone is lost). This script measures the two
costs on real frames and prints the expected milliseconds per frame for each k:

    python tests/benchmarks/bench_detect_interval.py --detector yolo --detector-weights yolo11n.yaml

Rule used to choose ``DEFAULT_DETECT_EVERY`` (app/core/config.py): the smallest k for which the detector's
share of the frame time with one person in view (the webcam case, where detection weighs most) is at most
``--max-share`` (default 25 %), capped at ``--max-k`` (default 10) so a person who walks in is picked up
within a third of a second at 30 fps (a followed person who is lost triggers a detection at once). Pose
boxes come from the HOG detector (real people) whichever detector is timed. Pose weights do not change the
cost, so the model's random initialisation is fine here; it runs at the app's input size and runtime.
Timings are medians over the frames measured.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))


def _median_ms(function: Callable[[Any], object], inputs: list[Any]) -> float:
    times = []
    for item in inputs:
        start = time.perf_counter()
        function(item)
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default=str(REPO_ROOT / "assets" / "samples" / "pedestrians.mp4"))
    parser.add_argument("--detector", default="hog", help="hog, yolo (needs weights), or none")
    parser.add_argument("--detector-weights", help="YOLO weights; a .yaml builds random weights offline")
    parser.add_argument("--model", default="edite_hrnet_s")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-flip", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=8, help="frames measured (after one warm-up)")
    parser.add_argument("--max-share", type=float, default=0.25)
    parser.add_argument("--max-k", type=int, default=10)
    args = parser.parse_args()

    import torch

    from app.core.sources import open_source
    from app.core.weights import resolve_weights
    from detectors import create_detector
    from pose.estimator import TopDownEstimator
    from pose.models.registry import create_model

    options = {"device": args.device}
    if args.detector_weights:
        options["weights"] = args.detector_weights
    detector = create_detector(args.detector, **options)
    people_finder = create_detector("hog")  # real people to crop, whatever detector is being timed
    if args.threads:
        torch.set_num_threads(args.threads)  # after building the detectors: ultralytics changes it
    _, input_size = resolve_weights(args.model, None)  # the input size the app runs the model at
    model = create_model(args.model, input_size=input_size)
    estimator = TopDownEstimator(model, device=args.device, flip=not args.no_flip, runtime="auto")
    estimator.warm_up(6)
    with open_source(args.clip) as source:
        frames = [frame.image for frame in source][: args.frames + 1]
    boxes = [people_finder(image).xyxy for image in frames]
    detect_ms = _median_ms(detector, frames[1:])
    pairs = list(zip(frames, boxes, strict=True))[1:]
    crowd_ms = _median_ms(lambda pair: estimator(*pair), pairs)
    single_ms = _median_ms(lambda pair: estimator(pair[0], pair[1][:1]), [p for p in pairs if len(p[1])])
    people = statistics.median(len(b) for b in boxes[1:])

    print(f"clip {args.clip}: {len(frames) - 1} frames {frames[0].shape[1]}x{frames[0].shape[0]}; "
          f"torch threads {torch.get_num_threads()}, device {args.device}, "
          f"pose runtime {estimator.runtime.name} "
          f"at {model.spec.input_size[0]}x{model.spec.input_size[1]}")
    print(f"detector {detector.description}: {detect_ms:.1f} ms/frame")
    print(f"pose {args.model} (flip {'off' if args.no_flip else 'on'}): {single_ms:.1f} ms for 1 person, "
          f"{crowd_ms:.1f} ms for the clip's median {people:g} people")
    print(" k | 1 person: ms/frame  fps  detector share | crowd: ms/frame  fps  detector share")
    chosen = None
    for k in range(1, args.max_k + 1):
        single, crowd = single_ms + detect_ms / k, crowd_ms + detect_ms / k
        share = detect_ms / k / single
        print(f"{k:2d} | {single:18.1f} {1000 / single:5.2f} {share:14.1%} | "
              f"{crowd:15.1f} {1000 / crowd:5.2f} {detect_ms / k / crowd:14.1%}")
        if chosen is None and share <= args.max_share:
            chosen = k
    chosen = min(chosen or args.max_k, args.max_k)
    rule = f"smallest k whose detector share for one person is <= {args.max_share:.0%}, at most {args.max_k}"
    print(f"chosen k = {chosen} ({rule})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
