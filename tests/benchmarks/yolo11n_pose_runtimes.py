"""YOLO11n-pose end to end (its own boxes and keypoints) on the bench's one-person scene, in torch as
ultralytics ships it and as its OpenVINO export (`detectors.yolo_openvino`): how the `bench` baseline would
run if it were exported too. Median ms over the timed frames, after warm-up. Not collected by pytest.

    python tests/benchmarks/yolo11n_pose_runtimes.py [--frames 30] [--size 640] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

WARMUP = 5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--size", type=int, default=640, help="input size, px (ultralytics' default 640)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("YOLO_OFFLINE", "1")

    import torch
    from ultralytics import YOLO

    from app.core.bench.scenes import compose_scene
    from detectors.trusted_weights import bundled_yolo11n_pose
    from detectors.yolo_openvino import openvino_export

    frames = compose_scene(1, WARMUP + args.frames).frames
    weights = bundled_yolo11n_pose()
    print(f"{os.cpu_count()} cpus, {args.threads} threads, {args.frames} frames 1280x720, {args.size} px")
    for runtime, model_path in (("torch", weights), ("openvino", openvino_export(weights))):
        model = YOLO(str(model_path), task="pose")
        seconds = []
        for index, frame in enumerate(frames):
            torch.set_num_threads(args.threads)  # ultralytics sets its own count on its first CPU call
            start = time.perf_counter()
            model.predict(frame, imgsz=args.size, verbose=False)
            if index >= WARMUP:
                seconds.append(time.perf_counter() - start)
        median_ms = statistics.median(seconds) * 1e3
        print(f"YOLO11n-pose {runtime:<8} {median_ms:6.1f} ms  {1e3 / median_ms:6.1f} fps")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
