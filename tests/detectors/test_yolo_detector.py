"""The YOLO adapter, on a locally built model (random weights from yolo11n.yaml): nothing is downloaded.

To test filtering deterministically, the network's raw output is replaced by known candidate boxes; the
rest (ultralytics' letterbox, NMS with class and confidence filters, box rescaling) and our conversion to
numpy run for real.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from offline_network import network_unreachable  # noqa: F401  (autouse: no test here reaches the network)

from detectors import Detections
from detectors.yolo import YoloConfig, YoloDetector, resolve_device

IMAGE_HW = (720, 1280)
PERSON, CAR = 0, 2


def _candidates(*rows: tuple[float, float, float, float, int, float]) -> np.ndarray:
    """(N, 6) candidate boxes: x1, y1, x2, y2 in image pixels, class, score."""
    return np.array(rows, np.float32)


def _raw_output_for(candidates: np.ndarray):
    """A replacement forward: the YOLO head's eval output (B, 4 + 80, anchors) with boxes as centre-size in
    letterboxed input pixels and per-class scores, holding exactly `candidates`."""

    def forward(inputs: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        in_h, in_w = inputs.shape[-2:]
        gain = min(in_h / IMAGE_HW[0], in_w / IMAGE_HW[1])
        pad = np.array([(in_w - IMAGE_HW[1] * gain) / 2, (in_h - IMAGE_HW[0] * gain) / 2])
        corners = candidates[:, :4].reshape(-1, 2, 2) * gain + pad
        raw = torch.zeros((inputs.shape[0], 84, len(candidates)))
        raw[:, 0:2] = torch.from_numpy(corners.mean(axis=1).T.astype(np.float32))
        raw[:, 2:4] = torch.from_numpy((corners[:, 1] - corners[:, 0]).T.astype(np.float32))
        raw[:, 4 + candidates[:, 4].astype(int), np.arange(len(candidates))] = torch.from_numpy(
            candidates[:, 5]
        )
        return raw.to(inputs.dtype)

    return forward


def _detector(candidates: np.ndarray, **options) -> YoloDetector:
    detector = YoloDetector(YoloConfig(weights="yolo11n.yaml", device="cpu", **options))
    detector._model.model.forward = _raw_output_for(candidates)  # a plain function survives the deep copy
    return detector


FRAME = np.zeros((*IMAGE_HW, 3), np.uint8)
CANDIDATES = _candidates(
    (100, 100, 200, 400, PERSON, 0.9),
    (600, 200, 700, 500, CAR, 0.95),  # not a person
    (900, 150, 1000, 450, PERSON, 0.4),  # below the default confidence 0.5
    (110, 100, 210, 400, PERSON, 0.8),  # IoU 0.82 with the first person
    (300, 120, 380, 420, PERSON, 0.6),
)


def test_keeps_confident_people_only_as_float32_numpy_in_image_pixels_best_first():
    detections = _detector(CANDIDATES)(FRAME)
    assert isinstance(detections, Detections)
    assert detections.xyxy.dtype == np.float32 and detections.scores.dtype == np.float32
    np.testing.assert_allclose(detections.xyxy, [[100, 100, 200, 400], [300, 120, 380, 420]], atol=1.0)
    np.testing.assert_allclose(detections.scores, [0.9, 0.6], atol=1e-3)


def test_confidence_and_nms_iou_thresholds_are_applied():
    loose = _detector(CANDIDATES, confidence=0.3, iou=0.9)(FRAME)
    np.testing.assert_allclose(loose.scores, [0.9, 0.8, 0.6, 0.4], atol=1e-3)  # still no car
    strict = _detector(CANDIDATES, confidence=0.7)(FRAME)
    np.testing.assert_allclose(strict.scores, [0.9], atol=1e-3)


def test_a_frame_with_nobody_gives_empty_detections():
    detections = _detector(_candidates((600, 200, 700, 500, CAR, 0.95)))(FRAME)
    assert len(detections) == 0 and detections.xyxy.shape == (0, 4)


def test_real_forward_pass_of_the_random_model_returns_detections():
    detector = YoloDetector(YoloConfig(weights="yolo11n.yaml", device="cpu", image_size=160))
    assert detector.description == "YOLO yolo11n.yaml (random weights, cpu)" and not detector.is_fallback
    detections = detector(np.random.default_rng(0).integers(0, 255, (120, 200, 3), dtype=np.uint8))
    assert detections.xyxy.shape[1] == 4 and len(detections.scores) == len(detections)
    assert np.all(detections.scores >= 0.5)


def test_detecting_leaves_the_torch_thread_count_alone():
    import torch
    from ultralytics.utils import NUM_THREADS  # what ultralytics sets when it selects the CPU

    detector = YoloDetector(YoloConfig(weights="yolo11n.yaml", device="cpu", image_size=160))
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(NUM_THREADS + 1)
        detector(np.zeros((120, 200, 3), np.uint8))
        assert torch.get_num_threads() == NUM_THREADS + 1
    finally:
        torch.set_num_threads(before)


def test_pose_models_give_person_boxes_and_other_tasks_are_refused():
    pose = YoloDetector(YoloConfig(weights="yolo11n-pose.yaml", device="cpu", image_size=160))
    assert pose.description == "YOLO yolo11n-pose.yaml person boxes at 160 px (random weights, cpu)"
    assert pose(np.zeros((120, 200, 3), np.uint8)).xyxy.shape[1] == 4
    with pytest.raises(ValueError, match="classify model, not detect or pose"):
        YoloDetector(YoloConfig(weights="yolo11n-cls.yaml", device="cpu"))


def test_device_resolution():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        resolve_device("gpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message given on a machine without CUDA")
def test_asking_for_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="device 'cuda:0' asked for, but torch sees no CUDA GPU"):
        resolve_device("cuda:0")
