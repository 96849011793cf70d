"""TopDownEstimator with a fake model that draws Gaussians where the keypoints fall in each crop."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fake_pose_models import CoordinateOracle, coordinate_image

from pose.base import Estimator, PoseResult
from pose.estimator import TopDownEstimator
from pose.models.spec import ModelSpec
from pose.skeleton import COCO
from pose.transforms import box_to_center_size

SPEC = ModelSpec(name="oracle")
IMAGE_HW = (240, 256)
BOXES = np.array([
    [20.0, 30.0, 80.0, 150.0],
    [-25.0, 100.0, 45.0, 230.0],   # cut by the left border
    [200.0, -30.0, 290.0, 90.0],   # cut by the top and right borders
    [100.0, 60.0, 190.0, 250.0],   # cut by the bottom border
    [150.0, 120.0, 250.0, 190.0],  # wide: the crop grows in height
    [60.0, 170.0, 110.0, 300.0],   # half below the image
])

# Decoding error bounds in heatmap pixels, per axis (see tests/pose/test_codecs.py): a Gaussian at sub-pixel
# p decodes within 0.25 of p. With flip, the flipped branch's Gaussian returns at p - 0.75 (pixel-grid
# mirror), the 1-pixel shift moves it to p + 0.25, and the average peaks at p + 0.125: x within 0.375.
# FIT is the oracle's own least-squares error on 8-bit coordinate codes.
FIT = 0.01
BOUND_NO_FLIP = (0.25 + FIT, 0.25 + FIT)
BOUND_FLIP = (0.375 + FIT, 0.25 + FIT)


def _people(boxes: np.ndarray, seed: int) -> np.ndarray:
    """``(N, 17, 2)`` random keypoints inside each box (so well inside each padded crop)."""
    rng = np.random.default_rng(seed)
    low, high = boxes[:, None, :2], boxes[:, None, 2:]
    return low + rng.uniform(0.0, 1.0, (len(boxes), COCO.num_keypoints, 2)) * (high - low)


def _idle_oracle() -> CoordinateOracle:
    return CoordinateOracle(SPEC, np.zeros((1, 2)), np.zeros((1, 17, 2)))


def _estimate(boxes: np.ndarray, flip: bool, seed: int) -> tuple[PoseResult, np.ndarray, CoordinateOracle]:
    keypoints = _people(boxes, seed)
    centers, _ = box_to_center_size(boxes)
    model = CoordinateOracle(SPEC, centers, keypoints)
    estimator = TopDownEstimator(model, device="cpu", flip=flip)
    return estimator(coordinate_image(*IMAGE_HW), boxes), keypoints, model


@pytest.mark.parametrize("flip", [False, True])
@pytest.mark.parametrize("count", [1, 6])
def test_keypoints_land_where_the_model_saw_them(count, flip):
    boxes = BOXES[:count]
    result, expected, model = _estimate(boxes, flip, seed=count)
    assert result.keypoints.shape == (count, 17, 2) and result.keypoints.dtype == np.float32
    assert result.scores.shape == (count, 17) and result.scores.dtype == np.float32
    _, sizes = box_to_center_size(boxes)
    image_px_per_heatmap_px = sizes[:, 0] / SPEC.heatmap_size[1]
    bound = np.array(BOUND_FLIP if flip else BOUND_NO_FLIP) * image_px_per_heatmap_px[:, None, None]
    assert (np.abs(result.keypoints - expected) <= bound).all()
    assert result.scores.min() > 0.9
    assert model.calls == [(2 * count if flip else count, 3, *SPEC.input_size)]


def test_no_boxes_gives_empty_arrays_without_calling_the_model():
    result, _, model = _estimate(np.zeros((0, 4)), flip=True, seed=0)
    assert result.keypoints.shape == (0, 17, 2) and result.scores.shape == (0, 17)
    assert result.keypoints.dtype == np.float32 and result.scores.dtype == np.float32
    assert len(result) == 0
    assert model.calls == []


def test_flip_can_be_switched_per_call():
    keypoints = _people(BOXES[:2], seed=9)
    model = CoordinateOracle(SPEC, box_to_center_size(BOXES[:2])[0], keypoints)
    estimator = TopDownEstimator(model, device="cpu")
    assert estimator.flip and estimator.spec is SPEC and estimator.device == "cpu"
    estimator.flip = False
    estimator(coordinate_image(*IMAGE_HW), BOXES[:2])
    estimator.flip = True
    estimator(coordinate_image(*IMAGE_HW), BOXES[:2])
    assert [shape[0] for shape in model.calls] == [2, 4]


def test_auto_device_on_a_machine_without_cuda_is_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    estimator = TopDownEstimator(_idle_oracle())
    assert estimator.device == "cpu" and not estimator.half
    with pytest.raises(RuntimeError, match="CUDA"):
        TopDownEstimator(_idle_oracle(), device="cuda")


def test_half_precision_needs_cuda():
    with pytest.raises(ValueError, match="half precision"):
        TopDownEstimator(_idle_oracle(), device="cpu", half=True)


def test_bad_inputs_are_named():
    estimator = TopDownEstimator(_idle_oracle(), device="cpu")
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        estimator(coordinate_image(*IMAGE_HW), np.zeros((2, 5)))
    with pytest.raises(ValueError, match="uint8 BGR"):
        estimator(np.zeros((10, 10), np.uint8), np.zeros((0, 4)))
    with pytest.raises(TypeError, match="spec"):
        TopDownEstimator(torch.nn.Identity(), device="cpu")


def test_a_closed_estimator_refuses_to_run():
    with TopDownEstimator(_idle_oracle(), device="cpu") as estimator:
        assert isinstance(estimator, Estimator)
        estimator(coordinate_image(*IMAGE_HW), BOXES[:1])
    assert estimator.closed
    estimator.close()  # idempotent
    with pytest.raises(RuntimeError, match="TopDownEstimator is closed"):
        estimator(coordinate_image(*IMAGE_HW), BOXES[:1])
    with pytest.raises(RuntimeError, match="TopDownEstimator is closed"):
        estimator.warm_up(1)
