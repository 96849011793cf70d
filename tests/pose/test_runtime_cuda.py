"""The CUDA path's device-independent parts, on the CPU: crops cut by grid_sample equal the estimator's
cv2 crops, and the channels-last forward equals the model (CUDA graphs themselves need a GPU:
tests/benchmarks/cuda_fps.py checks them on one)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from pose.models.registry import create_model
from pose.runtime_cuda import GraphedForward, crop_theta, gpu_crops
from pose.transforms import PADDING, box_to_center_size, crop_matrices, normalize_crops, warp_crops

IMAGE = "tests/data/coco_tiny/basketball1.jpg"
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


@pytest.mark.parametrize("rotations", [None, np.array([0.0, 30.0, -45.0])])
def test_gpu_crops_equal_the_cv2_crops(rotations) -> None:
    image = cv2.imread(IMAGE)
    boxes = np.array([[35.0, 85.0, 160.0, 480.0], [435.0, 20.0, 640.0, 480.0], [-50.0, -40.0, 100.0, 200.0]])
    centers, sizes = box_to_center_size(boxes, 0.75, PADDING)
    output_hw = (128, 96)
    matrices = crop_matrices(centers, sizes, output_hw, rotations)
    expected = normalize_crops(warp_crops(image, matrices, output_hw), MEAN, STD)
    theta = torch.from_numpy(crop_theta(matrices, image.shape[:2], output_hw))
    actual = gpu_crops(torch.from_numpy(image), theta, output_hw, MEAN, STD, flip=True).numpy()
    assert actual.shape == (6, 3, *output_hw)
    difference = np.abs(actual[:3] - expected)
    # cv2 interpolates in fixed point (1/32 pixel) and rounds to uint8; one uint8 step is 0.017 here
    assert difference.mean() < 0.005 and np.quantile(difference, 0.99) < 0.05
    black = -np.array(MEAN) / np.array(STD)  # the zero border, normalised
    np.testing.assert_allclose(actual[2, :, 0, 0], black, atol=1e-5)
    np.testing.assert_allclose(expected[2, :, 0, 0], black, atol=1e-5)
    np.testing.assert_array_equal(actual[3:], actual[:3, :, :, ::-1])


def test_channels_last_forward_equals_the_model_on_the_cpu() -> None:
    torch.manual_seed(0)
    model = create_model("edite_hrnet_tiny", input_size=(128, 96)).eval()
    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            module.reset_parameters()  # outputs of order 1 (mmpose's init makes them ~0)
    inputs = torch.randn(3, 3, 128, 96)
    forward = GraphedForward(model, torch.device("cpu"))
    with torch.inference_mode():
        expected = model(inputs)
    assert forward.dtype == torch.float32 and not forward.graphs
    assert float((forward(inputs) - expected).abs().max() / expected.abs().max()) < 1e-4


def test_cuda_graphs_need_a_cuda_device() -> None:
    with pytest.raises(ValueError, match="CUDA graphs need a CUDA device"):
        GraphedForward(create_model("edite_hrnet_tiny"), torch.device("cpu"), graphs=True)
