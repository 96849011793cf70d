"""Pipeline with a scripted detector and estimator: detection every k frames, re-detection, IDs, timings."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scripted_people import (
    ARMS_UP,
    Scene,
    ScriptedDetector,
    ScriptedEstimator,
    ScriptedPerson,
    relay,
    walking,
)

from app.core.config import DetectorConfig, ModelConfig, PipelineConfig, SmootherConfig
from app.core.pipeline import Pipeline
from pose.evaluation.score_thresholds import ScoreThresholds
from pose.models.checkpoint import save_checkpoint
from pose.models.registry import create_model


def _pipeline(scene: Scene, k: int = 3, noise_px: float = 1.0, **config) -> tuple[Pipeline, ScriptedDetector]:
    detector = ScriptedDetector(scene)
    pipeline = Pipeline(
        PipelineConfig(detector=DetectorConfig(detect_every=k), **config),
        estimator=ScriptedEstimator(scene, noise_px=noise_px),
        detector=detector,
    )
    return pipeline, detector


def _two_walkers(**person_b) -> Scene:
    return Scene([
        ScriptedPerson(walking((150, 240), (30, 0))),
        ScriptedPerson(walking((450, 250), (-30, 0)), template=ARMS_UP, **person_b),
    ])


def _detected_frames(pipeline: Pipeline, scene: Scene, count: int) -> list[int]:
    return [frame.index for frame in scene.frames(count) if pipeline.process(frame).detected]


@pytest.mark.parametrize("k", [1, 3, 5])
def test_detector_runs_every_k_frames_while_tracking_is_good(k):
    scene = _two_walkers()
    pipeline, detector = _pipeline(scene, k=k)
    assert _detected_frames(pipeline, scene, 12) == list(range(0, 12, k))
    assert len(detector.calls) == len(range(0, 12, k))


def test_an_empty_scene_is_searched_on_the_schedule_and_a_newcomer_is_found_by_it():
    walks_in = 0.6  # seconds: frame 6 at the scene's 10 fps
    scene = Scene([ScriptedPerson(walking((150, 240), (30, 0)), visible=lambda t: t >= walks_in)])
    pipeline, detector = _pipeline(scene, k=5)  # default lag 4 < k: scheduled runs can go to the background
    results = [pipeline.process(frame) for frame in scene.frames(15)]
    assert [index for index, result in enumerate(results) if result.detected] == [0, 5, 10]
    assert len(detector.calls) == 3
    assert [len(result.track_ids) for result in results] == [0] * 12 + [1] * 3  # found at 10, confirmed at 12


def test_boxes_between_detections_follow_the_keypoints():
    scene = _two_walkers()
    pipeline, _ = _pipeline(scene, k=4, noise_px=0.0)
    results = [pipeline.process(frame) for frame in scene.frames(4)]
    assert [r.detected for r in results] == [True, False, False, False]
    for result in results[1:]:
        for box, keypoints in zip(result.boxes, result.keypoints, strict=True):
            assert (keypoints >= box[:2]).all() and (keypoints <= box[2:]).all()
    np.testing.assert_allclose(results[3].box_scores, results[0].box_scores)  # carried over


def test_low_keypoint_scores_trigger_detection_on_the_next_frame():
    scene = _two_walkers(score=lambda t: 0.3 if abs(t - 0.4) < 1e-9 else 0.9)  # weak at frame 4 only
    pipeline, _ = _pipeline(scene, k=6)
    assert _detected_frames(pipeline, scene, 12) == [0, 5, 11]


def test_a_person_who_stays_weak_after_re_detection_waits_for_the_schedule():
    scene = _two_walkers(score=lambda t: 0.3 if t > 0.35 else 0.9)  # weak from frame 4 on, detected or not
    pipeline, _ = _pipeline(scene, k=6)
    assert _detected_frames(pipeline, scene, 16) == [0, 5, 11]


def test_a_person_weak_from_the_start_is_not_re_detected_on_every_frame():
    scene = _two_walkers(score=lambda t: 0.3)
    pipeline, _ = _pipeline(scene, k=4)
    assert _detected_frames(pipeline, scene, 10) == [0, 4, 8]


def _weights_measured_at(path, redetect: float, min_pose: float) -> str:
    meta = {"score_thresholds": ScoreThresholds(redetect, min_pose, people=500).to_dict()}
    return str(save_checkpoint(create_model("edite_hrnet_tiny"), path, meta))


def test_the_weights_measured_thresholds_decide_re_detection_unless_set(tmp_path):
    # B scores 0.9 on even frames and 0.3 on odd ones: a fall below the 0.35 fallback after every detection
    scene = _two_walkers(score=lambda t: 0.9 if round(t * 10) % 2 == 0 else 0.3)
    assert _detected_frames(_pipeline(scene, k=4)[0], scene, 8) == [0, 2, 4, 6]
    weights = _weights_measured_at(tmp_path / "w.pth", redetect=0.25, min_pose=0.1)
    measured = _pipeline(scene, k=4, model=ModelConfig(weights=weights))[0]
    assert _detected_frames(measured, scene, 8) == [0, 4]
    info = measured.describe()
    assert (info.redetect_score, info.min_pose_score, info.scores_from_weights) == (0.25, 0.1, True)
    assert "measured for these weights" in info.score_thresholds_text
    overridden = _pipeline(scene, k=4, model=ModelConfig(weights=weights))[0]
    overridden.reconfigure(replace(overridden.config, detector=replace(overridden.config.detector,
                                                                       redetect_score=0.5)))
    assert _detected_frames(overridden, scene, 8) == [0, 2, 4, 6]


def test_people_under_the_measured_min_pose_score_are_dropped(tmp_path):
    scene = _two_walkers(score=lambda t: 0.3)
    weights = _weights_measured_at(tmp_path / "w.pth", redetect=0.2, min_pose=0.4)
    pipeline = _pipeline(scene, k=4, model=ModelConfig(weights=weights))[0]
    assert [len(pipeline.process(frame).track_ids) for frame in scene.frames(3)] == [1, 1, 1]


def test_keypoints_under_the_tracker_score_but_above_the_weights_min_pose_still_shape_the_followed_box(
        tmp_path):
    scene = _two_walkers(score=lambda t: 0.25)  # B's keypoints all score 0.25, under the tracker's 0.3
    weights = _weights_measured_at(tmp_path / "w.pth", redetect=0.2, min_pose=0.1)
    pipeline = _pipeline(scene, k=4, model=ModelConfig(weights=weights))[0]
    results = [pipeline.process(frame) for frame in scene.frames(8)]
    assert [result.frame_index for result in results if result.detected] == [0, 4]
    assert all(len(result.track_ids) == 2 for result in results)


def test_lost_track_is_searched_for_once_then_found_by_the_schedule_under_its_id():
    scene = _two_walkers(visible=lambda t: not 0.25 <= t <= 0.45)  # B gone on frames 3 and 4
    pipeline, _ = _pipeline(scene, k=4)
    results = [pipeline.process(frame) for frame in scene.frames(10)]
    # lost at 3 -> detect at 4 (still gone) -> back at 5, found by the scheduled run of frame 8
    assert [result.frame_index for result in results if result.detected] == [0, 4, 8]
    assert [len(result.track_ids) for result in results] == [2] * 3 + [1] * 5 + [2] * 2
    assert sorted(results[0].track_ids) == sorted(results[-1].track_ids)


def test_ids_stay_with_people_through_a_crossing():
    scene = Scene([
        ScriptedPerson(walking((100, 240), (80, 0))),
        ScriptedPerson(walking((540, 250), (-80, 0)), template=ARMS_UP, visible=lambda t: not 2.5 < t < 2.9),
    ])
    pipeline, _ = _pipeline(scene, k=3)
    seen: dict[int, list[float]] = {}
    for frame in scene.frames(60):
        result = pipeline.process(frame)
        for track_id, box in zip(result.track_ids.tolist(), result.boxes, strict=True):
            seen.setdefault(track_id, []).append(float(box[0] + box[2]) / 2)
    assert sorted(seen) == [1, 2]
    moving = {track_id: np.sign(np.diff(xs)).mean() for track_id, xs in seen.items()}
    assert sorted(moving.values()) == [-1.0, 1.0]  # each ID always moves one way: no switch


def test_result_carries_shapes_times_and_stage_timings():
    scene = _two_walkers()
    pipeline, _ = _pipeline(scene)
    frame = scene.frame(0)
    result = pipeline.process(frame)
    assert result.frame_index == 0 and result.timestamp_s == 0.0 and result.image_hw == (480, 640)
    assert result.boxes.shape == (2, 4) and result.box_scores.shape == (2,)
    assert result.keypoints.shape == result.keypoints_smooth.shape == (2, 17, 2)
    assert result.scores.shape == (2, 17)
    assert sorted(result.track_ids.tolist()) == [1, 2]
    for stage in ("detect", "pose", "track", "smooth", "total"):
        assert result.timings_ms[stage] > 0
    assert result.timings_ms["total"] >= result.timings_ms["pose"]


def test_without_smoothing_smoothed_equals_raw():
    scene = _two_walkers()
    pipeline, _ = _pipeline(scene, noise_px=3.0, smoother=SmootherConfig(enabled=False))
    for frame in scene.frames(5):
        result = pipeline.process(frame)
        np.testing.assert_array_equal(result.keypoints_smooth, result.keypoints)


def test_smoothing_reduces_jitter_in_the_pipeline():
    scene = Scene([ScriptedPerson(walking((150, 240), (30, 0)))], fps=30.0)
    jitter = {}
    for enabled in (False, True):
        pipeline, _ = _pipeline(scene, k=1, noise_px=2.0, smoother=SmootherConfig(enabled=enabled))
        track = np.stack([pipeline.process(f).keypoints_smooth[0] for f in scene.frames(60)])
        jitter[enabled] = np.abs(np.diff(track[20:], n=2, axis=0)).mean()
    assert jitter[True] < jitter[False] / 2


def test_one_person_found_twice_is_reported_once():
    scene = Scene([ScriptedPerson(walking((300, 240), (0, 0)))])

    class Doubling(ScriptedDetector):
        def __call__(self, image):
            found = super().__call__(image)
            boxes = np.concatenate([found.xyxy, found.xyxy + 2])
            return type(found)(boxes, np.r_[found.scores, found.scores])

    pipeline = Pipeline(estimator=ScriptedEstimator(scene), detector=Doubling(scene))
    assert pipeline.process(scene.frame(0)).num_people == 1


def test_reset_starts_ids_again():
    scene = relay()
    pipeline, _ = _pipeline(scene)
    assert [sorted(pipeline.process(frame).track_ids.tolist()) for frame in scene.frames(6)][-1] == [3, 4]
    pipeline.reset()
    assert sorted(pipeline.process(scene.frame(6)).track_ids.tolist()) == [1, 2]


def test_keypoint_scores_are_confidences_in_0_to_1_even_when_a_heatmap_peak_overshoots():
    scene = _two_walkers(score=lambda t: 1.04)
    pipeline, _ = _pipeline(scene, noise_px=0.0)
    results = [pipeline.process(frame) for frame in scene.frames(3)]
    assert max(result.scores.max() for result in results) == 1.0


def test_a_new_scene_starts_afresh_and_shows_everyone_found_at_once():
    scene = relay()  # frames 0-2: people 1 and 2; from frame 3 two others, far away
    pipeline, _ = _pipeline(scene)
    continuing = [pipeline.process(frame).num_people for frame in scene.frames(4)]
    assert continuing[3] == 0  # newcomers wait for their confirming hits
    pipeline.reset()
    pipeline.process(scene.frame(0))
    photo = pipeline.process(replace(scene.frame(3), new_scene=True))
    assert photo.detected and sorted(photo.track_ids.tolist()) == [1, 2]


def test_describe_names_model_device_and_detector():
    scene = _two_walkers()
    detector = ScriptedDetector(scene)
    detector.is_fallback, detector.notice = True, "YOLO weights missing -> using the HOG fallback detector"
    pipeline = Pipeline(PipelineConfig(), estimator=ScriptedEstimator(scene), detector=detector,
                        weights_sha256="ab" * 32)
    info = pipeline.describe()
    assert info.device == "cpu" and info.flip and not info.half
    assert info.detector == "scripted" and info.detector_is_fallback
    assert info.detector_notice.startswith("YOLO weights missing")
    assert info.weights_sha256 == "ab" * 32
    assert info.detect_every == PipelineConfig().detector.detect_every
    assert (info.runtime, info.runtime_ms_per_crop, info.runtime_tuning) == ("scripted", None, False)


def test_reconfigure_switches_cheap_settings_at_once():
    scene = relay()
    pipeline, _ = _pipeline(scene, k=3)
    for frame in scene.frames(5):
        pipeline.process(frame)
    config = pipeline.config
    pipeline.reconfigure(replace(config, detector=replace(config.detector, detect_every=1),
                                 model=replace(config.model, flip=False)))
    assert pipeline.estimator.flip is False and pipeline.describe().detect_every == 1
    assert sorted(pipeline.process(scene.frame(5)).track_ids.tolist()) == [3, 4]  # tracks kept
    pipeline.reconfigure(replace(pipeline.config, smoother=SmootherConfig(strength=0.9)))
    assert sorted(pipeline.process(scene.frame(6)).track_ids.tolist()) == [1, 2]  # restarted from 1
    assert pipeline.tracker.active_ids == (1, 2)


def test_reconfigure_builds_a_new_detector():
    scene = _two_walkers()
    pipeline, _ = _pipeline(scene)
    pipeline.reconfigure(replace(pipeline.config, detector=replace(pipeline.config.detector, name="none")))
    assert pipeline.describe().detector == "none"


def test_a_detector_input_size_or_runtime_change_builds_the_detector_so():
    scene = _two_walkers()
    pipeline, _ = _pipeline(scene)
    pipeline.reconfigure(replace(pipeline.config, detector=DetectorConfig(name="auto", image_size=640)))
    assert (pipeline.detector.config.input_size, pipeline.detector.runtime) == (640, "openvino")
    on_torch = replace(pipeline.config.detector, runtime="torch")
    pipeline.reconfigure(replace(pipeline.config, detector=on_torch))
    assert (pipeline.detector.config.input_size, pipeline.detector.runtime) == (640, "torch")


def test_weights_of_another_keypoint_set_switch_the_tracker_and_smoother_to_it(tmp_path):
    from pose.models.registry import with_skeleton
    from pose.skeleton import MPII

    scene = _two_walkers()
    coco = save_checkpoint(create_model("edite_hrnet_tiny"), tmp_path / "coco.pth")
    mpii = save_checkpoint(with_skeleton(create_model("edite_hrnet_tiny"), MPII), tmp_path / "mpii.pth",
                           {"skeleton": "mpii"})
    model = ModelConfig(name="edite_hrnet_tiny", weights=str(coco), device="cpu", runtime="torch")
    pipeline = Pipeline(PipelineConfig(model=model), detector=ScriptedDetector(scene))
    assert pipeline.process(scene.frame(0)).keypoints.shape[1:] == (17, 2)
    pipeline.reconfigure(replace(pipeline.config, model=replace(model, weights=str(mpii))))
    result = pipeline.process(scene.frame(1))
    assert pipeline.skeleton is MPII and pipeline.tracker.skeleton is MPII
    assert result.keypoints.shape[1:] == (16, 2) and result.keypoints_smooth.shape[1:] == (16, 2)
    pipeline.close()
