"""The training loop on the real-image coco_tiny set: a step learns, resume is exact, files are written."""

from __future__ import annotations

import csv

import pytest
import torch
from support import REPO_ROOT

from pose.models.checkpoint import load_weights
from pose.models.registry import create_model
from pose.train.config import load_config
from pose.train.datasets import DatasetError, load_person_samples
from pose.train.engine import RunOptions, train, train_step
from pose.train.loader import TopDownTrainingSet
from pose.train.loss import JointsMSELoss
from pose.train.model_setup import build_model
from pose.train.state import load_state

TINY = REPO_ROOT / "tests" / "data" / "coco_tiny"


def tiny_config(**overrides):
    """edite_hrnet_tiny at 128x96 on coco_tiny (5 people in 3 images), trained and validated on it."""
    values = {
        "data.root": str(TINY), "data.train_annotations": "person_keypoints.json", "data.train_images": ".",
        "data.val_annotations": "person_keypoints.json", "data.val_images": ".",
        "model.name": "edite_hrnet_tiny", "model.input_size": [128, 96],
        "train.batch_size": 2, "train.workers": 0, "train.log_interval": 1, "train.checkpoint_interval": 1,
        "optim.warmup_iters": 2, "optim.epochs": 2,
    }
    values.update(overrides)
    return load_config(None, values)


def test_one_step_on_a_fixed_batch_lowers_the_loss_and_changes_the_weights():
    torch.manual_seed(0)
    config = tiny_config()
    model = build_model(config)
    spec = model.spec
    samples = load_person_samples(
        TINY / "person_keypoints.json", TINY, spec.skeleton, aspect_ratio=spec.aspect_ratio
    )
    dataset = TopDownTrainingSet(samples, spec, spec.skeleton, augment=None)
    items = [dataset[(0, i)] for i in range(len(dataset))]
    batch = {key: torch.stack([torch.from_numpy(item[key]) for item in items]) for key in items[0]}
    loss_fn = JointsMSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    before = {name: value.detach().clone() for name, value in model.named_parameters()}

    first = train_step(model, batch, loss_fn, optimizer, scaler)
    with torch.no_grad():
        after = loss_fn(model(batch["image"]), batch["heatmaps"], batch["target_weight"])

    assert after < first
    # Every parameter with a gradient moved. (Dite's DCM has a few parameters that never get one: the
    # last branch's unused mask conv, and mask biases that a spatial softmax cancels.)
    parameters = dict(model.named_parameters())
    learning = {name for name, value in parameters.items() if value.grad is not None and value.grad.any()}
    changed = {name for name, value in parameters.items() if not torch.equal(value, before[name])}
    assert changed == learning
    assert len(learning) > 0.95 * len(before)


def _run(config, out_dir, **options):
    options = RunOptions(out_dir=out_dir, device="cpu", progress=False, tensorboard=False, **options)
    return train(config, options)


def test_resume_restores_the_exact_state(tmp_path):
    """2 epochs of 2 batches with full augmentation: interrupted after 3 steps (mid-epoch) and resumed, the
    weights, optimizer and schedule end bit-identical to an uninterrupted run."""
    config = tiny_config(**{"train.deterministic": True, "train.val_interval": 0, "train.seed": 5})
    whole = _run(config, tmp_path / "whole")
    part = _run(config, tmp_path / "parts", max_steps=3)
    assert (part.epoch, part.iteration) == (1, 3)
    resumed = _run(config, tmp_path / "parts", resume=True)
    assert (whole.epoch, whole.iteration) == (resumed.epoch, resumed.iteration) == (2, 4)

    states = {}
    for name in ("whole", "parts"):
        model = build_model(config)
        optimizer = torch.optim.Adam(model.parameters())
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
        scaler = torch.amp.GradScaler("cpu", enabled=False)
        load_state(tmp_path / name / "last.pt", model, optimizer, scheduler, scaler)
        states[name] = (model.state_dict(), optimizer.state_dict(), scheduler.last_epoch)
    (weights_a, optim_a, step_a), (weights_b, optim_b, step_b) = states["whole"], states["parts"]
    assert step_a == step_b == 4
    assert weights_a.keys() == weights_b.keys()
    assert all(torch.equal(weights_a[key], weights_b[key]) for key in weights_a)
    for key, value in optim_a["state"].items():
        assert all(torch.equal(value[k], optim_b["state"][key][k]) for k in value)
    assert not torch.are_deterministic_algorithms_enabled()  # restored after the run


def test_run_folder_holds_checkpoints_logs_and_config(tmp_path):
    config = tiny_config(**{"optim.epochs": 1, "train.val_interval": 1})
    result = _run(config, tmp_path / "run")
    files = {path.name for path in (tmp_path / "run").iterdir()}
    assert {"last.pt", "best.pt", "epoch_001.pt", "config.json", "scalars.csv"} <= files
    with (tmp_path / "run" / "scalars.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    tags = {row["tag"] for row in rows}
    assert {"train/loss", "train/lr", "train/images_per_s", "val/AP"} <= tags
    assert result.best_metric == pytest.approx(result.metrics["AP"])
    model = create_model("edite_hrnet_tiny", input_size=(128, 96))
    meta = load_weights(model, tmp_path / "run" / "best.pt")
    assert meta["skeleton"] == "coco" and meta["model"] == "edite_hrnet_tiny"


def test_missing_validation_data_fails_before_training(tmp_path):
    config = tiny_config(**{"data.val_images": "val2017"})
    with pytest.raises(DatasetError, match=r"image folder '.*val2017' not found: .* and val_images"):
        _run(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_resume_needs_a_state_of_the_same_model(tmp_path):
    with pytest.raises(FileNotFoundError, match="no training state"):
        _run(tiny_config(), tmp_path / "empty", resume=True)
