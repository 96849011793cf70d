"""bench: frames per second of our pipeline next to MediaPipe Pose and YOLO11n-pose, model latency, and
(``--accuracy``) COCO keypoint AP next to YOLO11n-pose, MediaPipe Pose and MoveNet on one set."""

from __future__ import annotations

import argparse

from app.core.cli.info import RUNTIME_CHOICES, add_runtime_argument
from app.core.cli.run import add_detector_runtime, add_detector_size
from app.core.cli.trust_flag import add_trust_weights
from app.core.config import DetectorConfig

QUICK = {"frames": 10, "repeats": 1}
FULL = {"frames": 40, "repeats": 5}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true",
                        help=f"fewer configurations, {QUICK['frames']} frames x {QUICK['repeats']} passes "
                             "(about 2.5 minutes on 2 cores)")
    parser.add_argument("--json", action="store_true", help="end the output with one JSON object")
    parser.add_argument("--models", nargs="+", default=["edite_hrnet_s", "edite_hrnet_l"],
                        help="our pose models; the first is the headline one (default: S and L)")
    parser.add_argument("--weights", nargs="+", default=[], metavar="MODEL=FILE",
                        help="weights per model (default: the shipped ones; a model without is left out)")
    parser.add_argument("--people", nargs="+", type=int, default=[1, 3, 6], help="people per scene (1..6)")
    parser.add_argument("--frames", type=int,
                        help="timed frames per pass, rounded up to a multiple of the detection interval "
                             "(untimed warm-up frames come first)")
    parser.add_argument("--repeats", type=int, help="passes per configuration (median reported)")
    parser.add_argument("--batches", nargs="+", type=int,
                        help="crop batch sizes for the model-only latency (default: 1 2 6 12; with --quick "
                             "2 12: one and six people with flip)")
    parser.add_argument("--compare-runtimes", nargs="+",
                        choices=[name for name in RUNTIME_CHOICES if name != "auto"],
                        help="runtimes in the model-only latency table (default: eager, torch and onnx; "
                             "with --quick the pipeline's runtime only)")
    add_runtime_argument(parser)
    parser.add_argument("--detector", default="yolo", choices=["yolo", "hog", "none"],
                        help="detector our pipeline pays for (yolo: the app's chain, offline the "
                             "YOLO11n-pose boxes of the pinned wheel; none: free)")
    add_detector_size(parser)
    add_detector_runtime(parser)
    parser.add_argument("--detect-every", type=int, help="our detection interval k (default: the app's)")
    parser.add_argument("--background-lag", type=int, default=DetectorConfig.background_lag, metavar="L",
                        help="frames our scheduled detections run in the background (0: in line; default: "
                             f"{DetectorConfig.background_lag}, the app's)")
    parser.add_argument("--threads", type=int, default=2, help="torch / ONNX Runtime threads (default 2)")
    parser.add_argument("--no-others", action="store_true",
                        help="skip MediaPipe Pose, YOLO11n-pose and MoveNet")
    parser.add_argument("--accuracy", nargs=2, metavar=("ANN", "IMAGES"),
                        help="also score every system on a COCO-format keypoint set (annotation JSON and its "
                             "images folder): AP, AP50, AR and ms per image in one table")
    parser.add_argument("--movenet", metavar="FILE",
                        help="MoveNet Lightning .tflite for the accuracy table (needs ai-edge-litert)")
    parser.add_argument("--no-speed", dest="speed", action="store_false",
                        help="skip the speed tables (with --accuracy: the accuracy table only)")
    add_trust_weights(parser)


def _weights(pairs: list[str]) -> dict[str, str]:
    weights = {}
    for pair in pairs:
        model, separator, path = pair.partition("=")
        if not separator or not model or not path:
            raise SystemExit(f"edite-pose bench: --weights takes MODEL=FILE, got {pair!r}")
        weights[model] = path
    return weights


def run(args: argparse.Namespace) -> int:
    import json

    from app.core.bench.suite import BenchOptions, run_suite
    from app.core.config import DEFAULT_DETECT_EVERY
    from pose.evaluation import AnnotationError

    if not all(1 <= people <= 6 for people in args.people):
        raise SystemExit(f"edite-pose bench: --people takes counts from 1 to 6, got {args.people}")
    if args.background_lag < 0:
        raise SystemExit(f"edite-pose bench: --background-lag takes 0 or more frames, got "
                         f"{args.background_lag}")
    preset = QUICK if args.quick else FULL
    options = BenchOptions(
        models=tuple(args.models), people=tuple(sorted(set(args.people))),
        frames=max(args.frames or preset["frames"], 1), repeats=max(args.repeats or preset["repeats"], 1),
        batches=tuple(args.batches or ((2, 12) if args.quick else (1, 2, 6, 12))), runtime=args.runtime,
        runtimes=tuple(args.compare_runtimes or (() if args.quick else ("eager", "torch", "onnx"))),
        detect_every=args.detect_every or DEFAULT_DETECT_EVERY, detector=args.detector,
        detector_size=args.detector_size, detector_runtime=args.detector_runtime,
        background_lag=args.background_lag,
        threads=args.threads, weights=_weights(args.weights), quick=args.quick, others=not args.no_others,
        speed=args.speed, accuracy=tuple(args.accuracy) if args.accuracy else None, movenet=args.movenet,
        trust_weights=args.trust_weights,
    )
    if not options.speed and options.accuracy is None:
        raise SystemExit("edite-pose bench: --no-speed leaves nothing to measure; add --accuracy ANN IMAGES")
    try:
        summary = run_suite(options)
    except (ValueError, FileNotFoundError, AnnotationError) as error:  # no weights, an unusable set
        raise SystemExit(f"edite-pose bench: {error}") from None
    if args.json:
        print(json.dumps(summary))
    return 0
