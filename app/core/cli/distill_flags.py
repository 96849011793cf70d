"""distill's flags: which apply to which teacher, their defaults, and the checks made before anything is read
or written, each a one-line ``ValueError`` that names the flag and what to do.

Labelling flags default to None in the parser, so that a flag of the other teacher is refused instead of
silently ignored; :func:`resolve_flags` then puts the defaults below in their place. With
``--skip-labelling`` they are accepted and unused, so that "the same command plus --skip-labelling
--resume" continues a run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

PEOPLE_TEACHER = "yolo11n-pose"
DEFAULT_TEACHER = "mediapipe"
SHARED_LABELLING_DEFAULTS: dict[str, object] = {"videos": (), "every": 1}
"""Labelling flags of both teachers (argparse dest -> default)."""
TEACHER_DEFAULTS: dict[str, dict[str, object]] = {
    "mediapipe": {"holdout": (), "backgrounds": (), "pastes": 2, "tiles": 0, "detector": "teacher"},
    PEOPLE_TEACHER: {"labelled": (), "calibrate": None, "near_duplicates": None, "images": (),
                     "images_repeat": 1, "val_count": 500, "min_precision": 0.9},
}
"""Labelling flags of one teacher only (argparse dest -> default)."""
OUTPUTS_OF_LABELLING = ("dataset.json", "annotations", "images")
"""What labelling writes into ``--out``: one already there means a set, or data of the folder's own."""


def flag(dest: str) -> str:
    """The command-line spelling of an argparse dest: ``near_duplicates`` -> ``--near-duplicates``."""
    return "--" + dest.replace("_", "-")


def resolve_flags(args: argparse.Namespace) -> None:
    """Check the flags against each other and the ``--out`` folder, then fill in the teacher and defaults.

    Raises:
        ValueError: a flag of the other teacher, a modifier without the flag it modifies, a teacher other
            than the one the set in ``--out`` was labelled with, an ``--out`` that labelling would write
            over, or a ``--pack`` folder inside ``--out`` or holding it.
    """
    args.teacher = _teacher(args)
    _check_modifiers(args)
    defaults = {**SHARED_LABELLING_DEFAULTS, **{dest: value for teacher_defaults in TEACHER_DEFAULTS.values()
                                                for dest, value in teacher_defaults.items()}}
    for dest, default in defaults.items():
        if getattr(args, dest) is None:
            setattr(args, dest, default)
            continue
        owner = next((teacher for teacher, own in TEACHER_DEFAULTS.items() if dest in own), args.teacher)
        if owner != args.teacher:
            raise ValueError(f"{flag(dest)} applies to --teacher {owner} only: drop it, or label with "
                             f"--teacher {owner}")
    if not args.skip_labelling:
        _check_out_is_free(args.out)
    if args.pack and overlapping(args.pack, args.out):
        raise ValueError(f"--pack '{args.pack}' and --out '{args.out}' overlap: give --pack a folder of its "
                         "own (the set in --out is read, never written over)")


def _teacher(args: argparse.Namespace) -> str:
    """``--teacher``; with ``--skip-labelling``, the one that ``dataset.json`` in ``--out`` records (another
    one given is an error: the config, the validation split and the weights' licence follow the teacher)."""
    recorded = _recorded_teacher(args.out) if args.skip_labelling else None
    if args.teacher and recorded and args.teacher != recorded:
        raise ValueError(f"--teacher {args.teacher}: the set in '{args.out}' was labelled by {recorded}; "
                         f"drop --teacher or give --teacher {recorded}")
    return args.teacher or recorded or DEFAULT_TEACHER


def _recorded_teacher(out: Path) -> str | None:
    record_file = out / "dataset.json"
    if not record_file.is_file():
        return None
    try:
        teacher = json.loads(record_file.read_text(encoding="utf-8")).get("teacher")
    except (OSError, ValueError, AttributeError) as error:
        raise ValueError(f"'{record_file}' cannot be read ({error}): label the set again into a new "
                         "--out") from None
    return teacher if teacher in TEACHER_DEFAULTS else None


def _check_modifiers(args: argparse.Namespace) -> None:
    """A flag that only modifies another one is an error without it."""
    if args.pack_quality is not None and not args.pack:
        raise ValueError("--pack-quality sets the quality of --pack DIR: add --pack, or drop --pack-quality")
    if args.even_if_worse and not args.ship:
        raise ValueError("--even-if-worse applies to --ship FILE: add --ship, or drop --even-if-worse")
    if args.images_repeat is not None and not args.images:
        raise ValueError("--images-repeat repeats the people of --images: add --images, or drop "
                         "--images-repeat")
    if args.near_duplicates is not None and not args.labelled:
        raise ValueError("--near-duplicates groups the images of the first --labelled set: add --labelled, "
                         "or drop --near-duplicates")
    if args.average_epochs > 1 and not args.ship:
        raise ValueError("--average-epochs chooses what --ship FILE ships: add --ship, or drop "
                         "--average-epochs")


def _check_out_is_free(out: Path) -> None:
    """Labelling writes a new set: never over a set, labels or images already in ``--out`` (an input among
    them, such as the human labels of ``--labelled``, would be lost)."""
    found = [name for name in OUTPUTS_OF_LABELLING if (out / name).exists()]
    if found:
        raise ValueError(f"--out '{out}' already holds {' and '.join(found)} (a labelled set, perhaps "
                         "unfinished, or data of its own): give a new --out, or move that one aside to label "
                         "again (--skip-labelling trains on a finished set)")


def overlapping(a: Path, b: Path) -> bool:
    """Whether one path is the other or lies inside it (after resolving links and ``..``)."""
    a, b = a.resolve(), b.resolve()
    return a == b or a in b.parents or b in a.parents
