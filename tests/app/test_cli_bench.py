"""``main.py bench``: composed scenes, JSON last line on a tiny configuration, unavailable baselines, usage
errors (issue 9). Timings are printed by the command, never asserted here."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import main
from app.core.bench.runners import mediapipe_runner, our_runner
from app.core.bench.scenes import FRAME_HW, background, compose_scene
from app.core.bench.suite import BenchOptions, timed_frames

TINY = ["--models", "edite_hrnet_tiny", "--people", "1", "6", "--frames", "3", "--repeats", "1",
        "--batches", "1", "2", "--compare-runtimes", "torch", "--runtime", "torch", "--detector", "none",
        "--threads", "1", "--no-others", "--detect-every", "3"]


@pytest.mark.parametrize("people", [1, 3, 6])
def test_scenes_hold_the_people_asked_for_inside_the_frame_and_drift(people: int) -> None:
    scene = compose_scene(people, 3)
    assert scene.people == people and len(scene.frames) == 3
    for frame, boxes in zip(scene.frames, scene.boxes, strict=True):
        assert frame.shape == (*FRAME_HW, 3) and frame.dtype == np.uint8
        assert (boxes[:, :2] >= 0).all()
        assert (boxes[:, 2] <= FRAME_HW[1]).all() and (boxes[:, 3] <= FRAME_HW[0]).all()
        assert (boxes[:, 2] > boxes[:, 0] + 50).all() and (boxes[:, 3] > boxes[:, 1] + 200).all()
    assert not np.array_equal(scene.boxes[0], scene.boxes[1])  # the people move between frames
    box = scene.boxes[0][0].astype(int)
    inside = scene.frames[0][box[1] : box[3], box[0] : box[2]]
    assert not np.array_equal(inside, background()[box[1] : box[3], box[0] : box[2]])


def test_quick_json_on_a_tiny_configuration(capsys) -> None:
    assert main.main(["bench", "--quick", "--json", *TINY]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    report = json.loads(out[-1])
    for key in ("ours_fps", "mediapipe_fps", "yolo11n_pose_fps", "ratio_vs_mediapipe", "scaling_6_vs_1"):
        assert key in report
    assert report["ours_fps"] > 0 and report["scaling_6_vs_1"] > 0
    assert report["mediapipe_fps"] is None and report["ratio_vs_mediapipe"] is None  # --no-others
    assert report["ours_config"] == {"model": "edite_hrnet_tiny", "flip": True, "detect_every": 3,
                                     "people": 1, "runtime": "torch", "input_size": [256, 192],
                                     "background_lag": 4}
    configs = {(row["flip"], row["detect_every"], row["people"]) for row in report["rows"]}
    assert configs == {(flip, every, people) for flip, every in ((True, 3), (False, 3), (True, 1))
                       for people in (1, 6)}
    assert [(row["runtime"], row["batch"]) for row in report["model_latency"]] == [("torch", 1), ("torch", 2)]
    assert report["model_only_ms"] == {str(row["batch"]): row["median_ms"] for row in report["model_latency"]}
    assert report["peak_rss_mib"] > 0 and report["threads"] == 1
    assert any("ms/frame" in line for line in out) and any(line.startswith("scaling_6_vs_1") for line in out)


@pytest.mark.parametrize(("frames", "every", "timed"), [(3, 10, 10), (30, 10, 30), (31, 10, 40), (5, 1, 5)])
def test_timed_frames_cover_whole_detection_intervals(frames: int, every: int, timed: int) -> None:
    assert timed_frames(BenchOptions(frames=frames, detect_every=every)) == timed


def test_untrained_models_are_followed_between_detections_with_template_poses() -> None:
    from detectors import create_detector
    from pose.estimator import TopDownEstimator
    from pose.models.registry import create_model

    estimator = TopDownEstimator(create_model("edite_hrnet_tiny"), device="cpu", runtime="torch")
    scene = compose_scene(3, 6)
    run = our_runner(estimator, create_detector("none"), scene, detect_every=2, template_poses=True)()
    results = [run(frame, index) for index, frame in enumerate(scene.frames)]
    assert [result.detected for result in results] == [True, False] * 3
    assert all(len(result.boxes) == 3 for result in results)


def test_mediapipe_is_reported_unavailable_when_it_is_not_installed(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # makes `import mediapipe` fail
    reason = mediapipe_runner()
    assert isinstance(reason, str) and "mediapipe not installed" in reason


@pytest.mark.parametrize(("args", "message"), [
    (["--people", "7"], "from 1 to 6"),
    (["--weights", "edite_hrnet_s"], "MODEL=FILE"),
    (["--background-lag", "-1"], "background-lag takes 0 or more"),
])
def test_usage_errors_name_the_option(args: list[str], message: str) -> None:
    with pytest.raises(SystemExit, match=message):
        main.main(["bench", *args])


def test_work_a_runner_finishes_after_its_last_frame_is_timed() -> None:
    import time

    from app.core.bench.runners import time_scene

    scene = compose_scene(1, 4)

    def make():
        def run(image, index):
            return None

        run.finish = lambda: time.sleep(0.04)
        return run

    timing = time_scene(make, scene, repeats=1, warmup=2)  # 2 timed frames + 40 ms of finishing
    assert timing.median_ms >= 20.0
