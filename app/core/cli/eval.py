"""eval: COCO keypoint AP/AR (or MPII PCKh) of a pose model on a COCO-format annotation file."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path

from app.core.sinks.base import SinkError
from app.core.sinks.outputs import Output, check_outputs
from pose.atomic_files import write_text_atomically

EXIT_USAGE = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ann", required=True, help="COCO-format keypoint annotations JSON")
    parser.add_argument("--images", required=True, help="directory the annotations' file_name entries are in")
    parser.add_argument("--model", required=True, help="registered model name, e.g. edite_hrnet_s")
    parser.add_argument("--weights", default=None,
                        help="checkpoint to load (default: the shipped weights of --model in assets/weights, "
                             "else untrained weights)")
    parser.add_argument("--no-flip", dest="flip", action="store_false", help="skip flip-averaging")
    parser.add_argument("--boxes", default="gt",
                        help="'gt': ground-truth person boxes (default), or a COCO detections JSON")
    parser.add_argument("--out", default=None, help="write the scored poses here as COCO results JSON")
    parser.add_argument("--metric", choices=("coco", "pckh"), default="coco",
                        help="coco: AP/AR with OKS (default); pckh: PCKh@0.5 for MPII-style annotations")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="default: auto")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bar")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the numbers")


def format_table(stats: Mapping[str, float]) -> str:
    """Metrics as an aligned two-column table, in percent (as papers print them); -1 shows as 'n/a'."""
    width = max(len(name) for name in ("metric", *stats))
    lines = [f"{'metric':<{width}}  value", f"{'-' * width}  -----"]
    for name, value in stats.items():
        shown = "n/a" if value < 0 else f"{100 * value:5.1f}"
        lines.append(f"{name:<{width}}  {shown}")
    return "\n".join(lines)


def _check_out(args: argparse.Namespace) -> None:
    """``--out`` is a .json file that can be written and none of the files eval reads (SinkError if not)."""
    if not args.out:
        return
    inputs = [args.ann, *(path for path in (args.weights, args.boxes) if path and path != "gt")]
    check_outputs([Output("--out", Path(args.out), (".json",))], inputs=inputs)


def _fail(error: Exception | str) -> int:
    print(f"edite-pose eval: {error}", file=sys.stderr)
    return EXIT_USAGE


def run(args: argparse.Namespace) -> int:
    from app.core.weights import resolve_weights
    from pose.estimator import TopDownEstimator
    from pose.evaluation import AnnotationError, evaluate, gt_person_boxes, load_coco_annotations
    from pose.models.registry import create_model

    try:
        _check_out(args)  # before anything runs: never over an input, and a file that can be written
    except SinkError as error:
        return _fail(error)
    try:  # before the model loads: a set with nobody to score has no AP (not 0.0)
        if not gt_person_boxes(load_coco_annotations(args.ann)):  # the persons AP is scored on
            return _fail(f"no persons to score: no person in '{args.ann}' has a labelled keypoint outside "
                         "crowd regions")
    except (FileNotFoundError, AnnotationError) as error:
        return _fail(error)
    try:
        weights, input_size = resolve_weights(args.model, args.weights)  # the shipped weights by default
        model = create_model(args.model, weights=weights, input_size=input_size)
        estimator = TopDownEstimator(model, device=args.device, flip=args.flip)
    except (ValueError, FileNotFoundError, RuntimeError) as error:  # unknown model, bad weights, no GPU
        return _fail(error)
    try:
        with estimator:
            report = evaluate(estimator, args.ann, args.images, boxes=args.boxes, progress=args.progress,
                              metric=args.metric)
    except (FileNotFoundError, AnnotationError) as error:
        return _fail(error)
    if args.out:
        try:
            write_text_atomically(args.out, json.dumps(list(report.results)))
        except OSError as error:
            return _fail(f"cannot write results to '{args.out}': {error.strerror}")

    boxes = "ground-truth" if args.boxes == "gt" else f"detections from {args.boxes}"
    print(f"{args.model} on {report.num_images} images, {report.num_instances} poses, {boxes} boxes, "
          f"flip {'on' if args.flip else 'off'}, device {estimator.device}")
    print(format_table(report.stats))
    if args.json:
        summary = {
            **report.stats,
            "metric": report.metric,
            "model": args.model,
            "flip": args.flip,
            "boxes": args.boxes,
            "images": report.num_images,
            "instances": report.num_instances,
        }
        print(json.dumps(summary))
    return 0
