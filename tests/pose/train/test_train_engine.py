"""The training loop on the real-image coco_tiny set: a step learns, resume is exact, files are written."""

from __future__ import annotations

import csv
import os
import signal
import threading
import time

import pytest
import torch
from support import REPO_ROOT

from pose.models.checkpoint import load_weights
from pose.models.registry import create_model
from pose.train.config import ConfigError, load_config
from pose.train.data_parallel import stop_when_orphaned
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


RESUME_CONFIG = {"train.deterministic": True, "train.val_interval": 0, "train.seed": 5}
"""2 epochs of 2 batches with full augmentation, bit-exact kernels."""


def _final_state(config, run_dir):
    """(weights, optimizer state, scheduler step) stored in a run's last.pt."""
    model = build_model(config)
    optimizer = torch.optim.Adam(model.parameters())
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    load_state(run_dir / "last.pt", model, optimizer, scheduler, torch.amp.GradScaler("cpu", enabled=False))
    return model.state_dict(), optimizer.state_dict()["state"], scheduler.last_epoch


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    config = tiny_config(**RESUME_CONFIG)
    result = _run(config, tmp_path_factory.mktemp("whole"))
    assert (result.epoch, result.iteration) == (2, 4)
    return _final_state(config, result.out_dir)


def _send_signal_after_step(number: int, step: int, monkeypatch) -> None:
    calls = []

    def step_then_signal(*args, **kwargs):
        loss = train_step(*args, **kwargs)
        calls.append(1)
        if len(calls) == step:
            os.kill(os.getpid(), number)
        return loss

    monkeypatch.setattr("pose.train.engine.train_step", step_then_signal)


@pytest.mark.parametrize("interruption", ["max_steps", "ctrl_c", "sigterm"])
def test_interrupted_and_resumed_run_ends_bit_identical(interruption, uninterrupted, tmp_path, monkeypatch):
    """Stopped after 3 steps (mid-epoch), then resumed: weights, Adam moments and schedule equal those of
    the uninterrupted run exactly."""
    config = tiny_config(**RESUME_CONFIG)
    if interruption == "max_steps":
        part = _run(config, tmp_path, max_steps=3)
        assert (part.epoch, part.iteration) == (1, 3)
    else:
        number = signal.SIGINT if interruption == "ctrl_c" else signal.SIGTERM  # `kill PID` stops cleanly too
        with monkeypatch.context() as patch:
            _send_signal_after_step(number, 3, patch)
            with pytest.raises(KeyboardInterrupt):
                _run(config, tmp_path)
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handlers are restored
    resumed = _run(config, tmp_path, resume=True)
    assert (resumed.epoch, resumed.iteration) == (2, 4)

    weights, moments, step = _final_state(config, tmp_path)
    expected_weights, expected_moments, expected_step = uninterrupted
    assert step == expected_step == 4
    assert weights.keys() == expected_weights.keys()
    assert all(torch.equal(weights[key], expected_weights[key]) for key in weights)
    for index, state in expected_moments.items():
        assert all(torch.equal(state[name], moments[index][name]) for name in state)
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
    assert meta["epochs_in_all"] == 1  # from scratch: this run's epochs

    before = {path.name: path.read_bytes() for path in (tmp_path / "run").iterdir()}
    with pytest.raises(ValueError, match=r"already holds a run \(last.pt, best.pt, epoch_001.pt\): continue "
                                         "it with --resume, or train into a new folder"):
        _run(config, tmp_path / "run")  # a second fresh run into the same folder
    assert {path.name: path.read_bytes() for path in (tmp_path / "run").iterdir()} == before


def test_a_resumed_run_never_replaces_a_better_best_saved_after_its_state(tmp_path):
    run = tmp_path / "run"
    _run(tiny_config(**{"optim.epochs": 1, "train.val_interval": 1}), run)
    best = torch.load(run / "best.pt", weights_only=True)
    best["meta"]["metrics"]["AP"] = 99.0  # as if a later validation than last.pt's had scored 99
    torch.save(best, run / "best.pt")
    before = (run / "best.pt").read_bytes()
    result = _run(tiny_config(**{"optim.epochs": 2, "train.val_interval": 1}), run, resume=True)
    assert result.epoch == 2 and result.metrics["AP"] < 99.0
    assert result.best_metric == 99.0 and (run / "best.pt").read_bytes() == before


def test_missing_validation_data_fails_before_training(tmp_path):
    config = tiny_config(**{"data.val_images": "val2017"})
    with pytest.raises(DatasetError, match=r"image folder '.*val2017' not found: .* and val_images"):
        _run(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_resume_needs_a_state_of_the_same_model(tmp_path):
    with pytest.raises(FileNotFoundError, match="no training state"):
        _run(tiny_config(), tmp_path / "empty", resume=True)


def test_a_run_trains_on_its_thread_count_and_restores_the_previous_one(tmp_path, monkeypatch):
    from pose.train import engine

    seen, real_step = [], engine.train_step

    def counting_step(*args):
        seen.append(torch.get_num_threads())
        return real_step(*args)

    monkeypatch.setattr(engine, "train_step", counting_step)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        train(tiny_config(**{"train.threads": 1}),
              RunOptions(tmp_path, device="cpu", max_steps=1, progress=False, tensorboard=False))
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(previous)


def test_a_spent_time_budget_stops_the_run_between_steps_and_still_validates_and_saves(tmp_path):
    result = train(tiny_config(), RunOptions(tmp_path, device="cpu", max_minutes=1e-9, progress=False,
                                             tensorboard=False))
    assert result.iteration == 0 and "AP" in result.metrics  # spent before the first step: none taken
    assert (tmp_path / "last.pt").is_file()


# -- data-parallel processes on the CPU ---------------------------------------------------------------------

TWO_PROCESSES = {"train.processes": 2, "train.threads": 1, "train.val_interval": 0, "train.batch_size": 4}
"""One batch of 4 of coco_tiny's 5 people per epoch, 2 for each process."""


def test_two_processes_share_a_run_and_only_the_first_writes(tmp_path):
    result = _run(tiny_config(**TWO_PROCESSES), tmp_path / "run")
    assert (result.epoch, result.iteration) == (2, 2) and "AP" in result.metrics
    files = {path.name for path in (tmp_path / "run").iterdir()}
    assert {"last.pt", "best.pt", "epoch_001.pt", "epoch_002.pt", "config.json", "scalars.csv"} <= files
    with (tmp_path / "run" / "scalars.csv").open() as handle:
        losses = [row for row in csv.DictReader(handle) if row["tag"] == "train/loss"]
    assert [int(row["step"]) for row in losses] == [1, 2]  # logged once per step, by one process
    trained = create_model("edite_hrnet_tiny", input_size=(128, 96))
    load_weights(trained, tmp_path / "run" / "epoch_002.pt")
    assert all(torch.isfinite(value).all() for value in trained.state_dict().values())


def test_ctrl_c_stops_every_process_on_one_step_and_the_run_resumes(tmp_path):
    config = tiny_config(**TWO_PROCESSES, **{"optim.epochs": 30})
    scalars = tmp_path / "run" / "scalars.csv"

    def ctrl_c_once_training() -> None:
        while not (scalars.is_file() and "train/loss" in scalars.read_text()):
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    watcher = threading.Thread(target=ctrl_c_once_training, daemon=True)
    watcher.start()
    with pytest.raises(KeyboardInterrupt):
        _run(config, tmp_path / "run")
    watcher.join()
    stopped_at = torch.load(tmp_path / "run" / "last.pt", weights_only=True)["progress"]["iteration"]
    assert 1 <= stopped_at < 30
    resumed = _run(config, tmp_path / "run", resume=True)
    assert (resumed.epoch, resumed.iteration) == (30, 30)


def test_a_process_whose_launcher_is_gone_raises_the_stop_flag():
    stop = threading.Event()
    stop_when_orphaned(stop, parent_pid=os.getppid(), poll_s=0.01)
    time.sleep(0.1)
    assert not stop.is_set()  # the launcher is there
    stop.set()  # (ends that watcher)
    stop = threading.Event()
    watcher = stop_when_orphaned(stop, parent_pid=-1, poll_s=0.01)  # a parent that is not ours: gone
    watcher.join(timeout=5)
    assert stop.is_set() and not watcher.is_alive()


def test_processes_must_divide_the_batch_and_run_on_the_cpu(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="divide batch_size"):
        tiny_config(**{"train.processes": 3})
    with pytest.raises(ConfigError, match="shares of 2"):
        tiny_config(**{"train.processes": 2})  # batch 2: one image a process
    monkeypatch.setattr("pose.train.engine.resolve_device", lambda device: torch.device("cuda"))
    with pytest.raises(ConfigError, match="--device cpu"):
        _run(tiny_config(**TWO_PROCESSES), tmp_path / "run")
    assert not (tmp_path / "run").exists()
