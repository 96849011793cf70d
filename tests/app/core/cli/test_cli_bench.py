"""``main.py bench``: composed scenes, JSON last line on a tiny configuration, unavailable baselines, usage
errors (issue 9), the accuracy table on tests/data/coco_tiny (issue 16). Timings are printed by the
command, never asserted here."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from support import REPO_ROOT

import main
from app.core.bench.runners import mediapipe_runner
from app.core.bench.scenes import FRAME_HW, background, compose_scene
from app.core.bench.suite import BenchOptions, configurations, timed_frames

TINY = ["--models", "edite_hrnet_tiny", "--people", "1", "6", "--frames", "3", "--repeats", "1",
        "--batches", "1", "2", "--compare-runtimes", "torch", "--runtime", "torch", "--detector", "none",
        "--threads", "1", "--no-others", "--detect-every", "3"]
COCO_TINY = REPO_ROOT / "tests" / "data" / "coco_tiny"
ACCURACY_SET = (str(COCO_TINY / "person_keypoints.json"), str(COCO_TINY))


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory) -> str:
    """A checkpoint of the tiny test model (the bench runs only models that have weights)."""
    from pose.models import save_checkpoint
    from pose.models.registry import create_model

    return str(save_checkpoint(create_model("edite_hrnet_tiny"), tmp_path_factory.mktemp("w") / "tiny.pth"))


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


def test_quick_json_on_a_tiny_configuration(capsys, tiny_weights: str) -> None:
    weights = ["--weights", f"edite_hrnet_tiny={tiny_weights}"]
    assert main.main(["bench", "--quick", "--json", *TINY, *weights]) == 0
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
    assert configs == {(flip, 3, people) for flip in (True, False) for people in (1, 6)}
    assert [(row["runtime"], row["batch"]) for row in report["model_latency"]] == [("torch", 1), ("torch", 2)]
    assert report["model_only_ms"] == {str(row["batch"]): row["median_ms"] for row in report["model_latency"]}
    assert report["peak_rss_mib"] > 0 and report["threads"] == 1
    assert all(0.0 <= row["detected"] <= 1.0 for row in report["rows"])
    assert "accuracy" not in report
    assert any("ms/frame" in line for line in out) and any(line.startswith("scaling_6_vs_1") for line in out)
    assert any(line.startswith("model-only latency") and "(median of 15, ms)" in line for line in out)


@pytest.mark.parametrize(("frames", "every", "timed"), [(3, 10, 10), (30, 10, 30), (31, 10, 40), (5, 1, 5)])
def test_timed_frames_cover_whole_detection_intervals(frames: int, every: int, timed: int) -> None:
    assert timed_frames(BenchOptions(frames=frames, detect_every=every)) == timed


def test_given_boxes_pay_for_the_real_detector_and_report_the_scene_people() -> None:
    from app.core.bench.runners import GivenBoxes
    from detectors import Detections

    seen = []

    def detector(image: np.ndarray) -> Detections:
        seen.append(image.shape)
        return Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32))

    detector.name, detector.is_fallback, detector.description = "fake", False, "fake detector"
    scene = compose_scene(3, 2)
    boxes = GivenBoxes(detector, scene)
    boxes.seek(1)
    found = boxes(scene.frames[1])
    assert seen == [scene.frames[1].shape]
    np.testing.assert_array_equal(found.xyxy, scene.boxes[1])
    assert boxes.description == "fake detector, reporting the scene's boxes"


def test_quick_mode_runs_the_other_models_at_one_person_only() -> None:
    variants = configurations(BenchOptions(models=("edite_hrnet_s", "edite_hrnet_l"), people=(1, 3, 6),
                                           quick=True, detect_every=10))
    assert variants == [("edite_hrnet_s", True, 10, (1, 3, 6)), ("edite_hrnet_s", False, 10, (1, 6)),
                        ("edite_hrnet_l", True, 10, (1,))]


def test_models_without_weights_are_left_out_and_reported(capsys, tiny_weights: str) -> None:
    args = [*TINY, "--models", "edite_hrnet_tiny", "edite_hrnet_l", "--people", "1", "--weights",
            f"edite_hrnet_tiny={tiny_weights}"]
    assert main.main(["bench", "--quick", "--json", *args]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "--weights edite_hrnet_l=FILE" in report["unavailable"]["ours edite_hrnet_l"]
    assert {row["model"] for row in report["rows"]} == {"edite_hrnet_tiny"}


def test_accuracy_table_and_json_on_coco_tiny(capsys, tiny_weights: str) -> None:
    args = ["bench", "--no-speed", "--json", "--models", "edite_hrnet_tiny", "edite_hrnet_l", "--runtime",
            "torch", "--weights", f"edite_hrnet_tiny={tiny_weights}", "--no-others",
            "--accuracy", *ACCURACY_SET]
    assert main.main(args) == 0
    out = capsys.readouterr().out.strip().splitlines()
    report = json.loads(out[-1])
    accuracy = report["accuracy"]
    assert (accuracy["images"], accuracy["people"]) == (3, 5)
    rows = accuracy["rows"]
    assert [(row["system"], row["setting"]) for row in rows] == [
        ("ours edite_hrnet_tiny", "flip on, 256x192, torch"),
        ("ours edite_hrnet_tiny", "flip off, 256x192, torch"),
        ("ours edite_hrnet_l", "")]
    keys = {"system", "setting", "boxes", "ap", "ap50", "ar", "ms_per_image", "images", "poses",
            "unavailable"}
    assert all(set(row) == keys for row in rows)
    for row in rows[:2]:
        assert row["boxes"] == "ground truth" and 0.0 <= row["ap"] <= row["ap50"] <= 1.0
        assert row["ms_per_image"] > 0 and row["images"] == 3 and row["unavailable"] is None
    assert "--weights edite_hrnet_l=FILE" in rows[2]["unavailable"] and rows[2]["ap"] is None
    assert "ours_fps" not in report and report["machine"]
    assert any(line.startswith("ours edite_hrnet_l") and "unavailable" in line for line in out)


def test_other_systems_missing_here_are_rows_saying_why(monkeypatch, tiny_weights: str) -> None:
    from app.core.bench import systems
    from app.core.bench.suite import run_accuracy

    monkeypatch.setitem(sys.modules, "mediapipe", None)
    monkeypatch.setattr(systems, "yolo_pose_system", lambda: systems.Unavailable("yolo11n_pose", "stubbed"))
    options = BenchOptions(models=("edite_hrnet_tiny",), weights={"edite_hrnet_tiny": tiny_weights},
                           runtime="torch", accuracy=ACCURACY_SET)
    lines: list[str] = []
    rows = run_accuracy(options, lines.append)["rows"]
    reasons = {row["system"]: row["unavailable"] for row in rows[2:]}
    assert set(reasons) == {"yolo11n_pose", "mediapipe_pose", "movenet_lightning"}
    assert "'distill' extra" in reasons["mediapipe_pose"] and "--movenet FILE" in reasons["movenet_lightning"]
    assert "ground truth" in lines[0] and "own detections" in lines[0]  # the table says who gets GT boxes


def test_mediapipe_is_reported_unavailable_when_it_is_not_installed(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # makes `import mediapipe` fail
    reason = mediapipe_runner()
    assert isinstance(reason, str) and "mediapipe not installed" in reason


@pytest.mark.parametrize(("args", "message"), [
    (["--people", "7"], "from 1 to 6"),
    (["--weights", "edite_hrnet_s"], "MODEL=FILE"),
    (["--background-lag", "-1"], "background-lag takes 0 or more"),
    (["--no-speed"], "add --accuracy ANN IMAGES"),
    (["--no-speed", "--accuracy", "missing.json", "."], "annotation file 'missing.json' not found"),
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


@pytest.mark.parametrize("flag, trusted, size, runtime", [
    ([], False, None, "auto"), (["--trust-weights"], True, None, "auto"),
    (["--detector-size", "640"], False, 640, "auto"), (["--detector-runtime", "torch"], False, None, "torch"),
])
def test_detector_flags_reach_the_detector_chain(
    monkeypatch, tmp_path, tiny_weights: str, flag, trusted, size, runtime
) -> None:
    import detectors

    built = {}

    def stop_after_building(name, **options):
        built.update(options, name=name)
        raise ValueError("stopped after building the detector")

    monkeypatch.setattr(detectors, "create_detector", stop_after_building)
    monkeypatch.setenv("EDITE_POSE_CACHE", str(tmp_path))
    args = ["bench", "--quick", "--models", "edite_hrnet_tiny", "--people", "1", "--no-others",
            "--weights", f"edite_hrnet_tiny={tiny_weights}", *flag]
    with pytest.raises(SystemExit, match="stopped after building the detector"):
        main.main(args)
    assert built == {"name": "yolo", "device": "cpu", "trust_weights": trusted, "image_size": size,
                     "runtime": runtime, "export_dir": tmp_path / "yolo-openvino"}
