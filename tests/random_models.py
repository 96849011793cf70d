"""Registered pose models with random BatchNorm statistics, and the relative error used to compare outputs.

Shared by the inference-rewrite, fold and runtime tests (``tests/`` is on ``sys.path``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from pose.models.registry import create_model

RELATIVE_TOLERANCE = 1e-4
"""Largest output difference allowed, relative to the largest reference output (float32)."""


def model_with_random_statistics(name: str = "edite_hrnet_tiny", seed: int = 0) -> nn.Module:
    """A registered model whose BatchNorms have non-trivial statistics and affine terms (so folding shows)."""
    torch.manual_seed(seed)
    model = create_model(name)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.normal_(0.0, 0.2)
            module.running_var.uniform_(0.5, 2.0)
            nn.init.uniform_(module.weight, 0.5, 1.5)
            nn.init.normal_(module.bias, 0.0, 0.2)
        elif isinstance(module, nn.Conv2d):  # mmpose's N(0, 0.001) makes every output nearly zero
            module.reset_parameters()  # PyTorch's Kaiming-uniform: outputs of order 1 at any depth
    return model.eval()


def relative_error(actual: torch.Tensor | np.ndarray, expected: torch.Tensor) -> float:
    """Largest absolute difference over the largest absolute expected value."""
    actual = torch.as_tensor(actual)
    return float((actual - expected).abs().max() / expected.abs().max())


def reference_outputs() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """``(model, inputs (3, 3, H, W), expected heatmaps)``: the tiny EDite variant, random statistics."""
    model = model_with_random_statistics()
    inputs = torch.randn(3, 3, *model.spec.input_size, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        expected = model(inputs)
    assert expected.abs().max() > 1e-3, "the reference output must not be ~0, or the comparison is empty"
    return model, inputs, expected
