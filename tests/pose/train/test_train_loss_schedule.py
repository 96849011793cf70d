"""JointsMSELoss (mmpose, no 0.5 factor) and the warm-up + step learning-rate schedule."""

from __future__ import annotations

import pytest
import torch

from pose.train.config import OptimConfig
from pose.train.loss import JointsMSELoss
from pose.train.schedule import build_scheduler, lr_factor


def test_loss_is_the_mean_over_joints_of_weighted_mse():
    generator = torch.Generator().manual_seed(0)
    pred = torch.rand(3, 4, 8, 6, generator=generator)
    target = torch.rand(3, 4, 8, 6, generator=generator)
    weight = torch.tensor([[1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0]])
    w = weight[:, :, None, None]
    per_joint = [torch.nn.functional.mse_loss(pred[:, k] * w[:, k], target[:, k] * w[:, k]) for k in range(4)]
    expected = torch.stack(per_joint).mean()
    assert JointsMSELoss()(pred, target, weight).item() == pytest.approx(expected.item(), rel=1e-6)


def test_loss_ignores_unlabelled_joints_and_has_no_half_factor():
    pred = torch.zeros(1, 2, 4, 4)
    target = torch.zeros(1, 2, 4, 4)
    target[0, 0, 1, 1] = 1.0  # a 1 on one pixel of 16 in joint 0
    target[0, 1] = 5.0  # joint 1 is far off but unlabelled
    loss = JointsMSELoss()(pred, target, torch.tensor([[1.0, 0.0]]))
    assert loss.item() == pytest.approx(1.0 / 16 / 2)
    assert JointsMSELoss(use_target_weight=False)(pred, target, torch.tensor([[1.0, 0.0]])).item() > 10


def test_loss_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="differ"):
        JointsMSELoss()(torch.zeros(1, 17, 64, 48), torch.zeros(1, 17, 32, 24), torch.ones(1, 17))


OPTIM = OptimConfig()  # 2e-3, warm-up 500 iterations from 0.001, x0.1 at epochs 170 and 200


@pytest.mark.parametrize(
    ("iteration", "factor"),
    [
        (0, 0.001),
        (250, 1 - 0.5 * 0.999),
        (499, 1 - (1 / 500) * 0.999),
        (500, 1.0),
        (169 * 1000 + 999, 1.0),
        (170 * 1000, 0.1),
        (199 * 1000, 0.1),
        (200 * 1000, 0.01),
        (269 * 1000 + 999, 0.01),
    ],
)
def test_lr_factor_matches_mmcv_step_policy_with_linear_warmup(iteration, factor):
    assert lr_factor(iteration, 1000, OPTIM) == pytest.approx(factor)


def test_warmup_and_decay_combine_when_a_milestone_falls_inside_the_warmup():
    optim = OptimConfig(warmup_iters=500, milestones=(1,))
    assert lr_factor(300, 100, optim) == pytest.approx(0.1 * (1 - 0.4 * 0.999))


def test_scheduler_steps_per_iteration():
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([parameter], lr=OPTIM.lr)
    scheduler = build_scheduler(optimizer, iters_per_epoch=1000, optim=OPTIM)
    seen = []
    for _ in range(501):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert seen[0] == pytest.approx(2e-6)
    assert seen[250] == pytest.approx(2e-3 * (1 - 0.5 * 0.999))
    assert seen[500] == pytest.approx(2e-3)
