"""The training loop: Adam with warm-up and step decay, AMP on CUDA, checkpoints, resume, logs, validation.

The first Ctrl-C stops the loop after the current step and saves ``last.pt``; ``--resume`` then continues
exactly where it stopped (the data order and augmentation of every step depend only on the seed).

Files in the run folder:
    ``last.pt``         full training state after the latest epoch or interruption (``--resume`` reads it).
    ``best.pt``         weights with the best validation metric (loadable by ``main.py eval`` / the app).
    ``epoch_NNN.pt``    weights every ``[train] checkpoint_interval`` epochs.
    ``config.json``     the resolved configuration.
    ``scalars.csv``     loss, lr, images/s and validation metrics (and ``tb/`` with TensorBoard installed).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from pose.estimator import resolve_device
from pose.models.checkpoint import EPOCHS_IN_ALL_KEY, read_checkpoint_meta, save_checkpoint
from pose.stop_signals import SignalStop, StopFlag
from pose.train.averaging import epoch_checkpoint_name
from pose.train.config import ConfigError, TrainConfig
from pose.train.data_parallel import ALONE, Group, announce_stop, train_in_processes
from pose.train.datasets import DatasetError, load_person_samples
from pose.train.loader import TopDownTrainingSet, build_train_loader
from pose.train.loss import JointsMSELoss
from pose.train.model_setup import build_model, epochs_before
from pose.train.scalars import ScalarLogger
from pose.train.schedule import build_scheduler
from pose.train.state import Progress, load_state, save_state
from pose.train.validation import PRIMARY_METRIC, validate

log = logging.getLogger(__name__)

LAST_STATE = "last.pt"
BEST_WEIGHTS = "best.pt"


@dataclass(frozen=True)
class RunOptions:
    """How to execute a run (everything that is not part of the recipe).

    Attributes:
        out_dir: run folder (created).
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
        resume: continue from ``out_dir/last.pt``.
        max_steps: stop once this many optimizer steps were taken in total (smoke runs); None for all epochs.
        max_minutes: stop once this many minutes of the run have passed, checked between steps (a time
            budget, e.g. on a lent GPU); None for no limit. The run then validates and saves as at the end.
        progress: show a progress bar.
        tensorboard: also write TensorBoard files when the package is installed.
    """

    out_dir: Path
    device: str = "auto"
    resume: bool = False
    max_steps: int | None = None
    max_minutes: float | None = None
    progress: bool = True
    tensorboard: bool = True


@dataclass(frozen=True)
class TrainResult:
    """What a run ended with.

    Attributes:
        out_dir: run folder.
        epoch: completed epochs (an interrupted epoch is not counted).
        iteration: optimizer steps taken in total.
        metrics: the last validation metrics (percent), empty if none ran.
        best_metric: best value of the primary metric (``AP`` or ``PCKh``), or None.
    """

    out_dir: Path
    epoch: int
    iteration: int
    metrics: dict[str, float] = field(default_factory=dict)
    best_metric: float | None = None


def train_step(
    model: nn.Module,
    batch: dict[str, torch.Tensor],
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
) -> torch.Tensor:
    """One optimizer step on ``batch`` (``image``, ``heatmaps``, ``target_weight``); returns the loss.

    Autocast (float16) is on when ``scaler`` is enabled; the loss is computed in float32.
    """
    device = next(model.parameters()).device
    images = batch["image"].to(device, non_blocking=True)
    targets = batch["heatmaps"].to(device, non_blocking=True)
    weights = batch["target_weight"].to(device, non_blocking=True)
    with torch.autocast(device.type, dtype=torch.float16, enabled=scaler.is_enabled()):
        heatmaps = model(images)
    loss = loss_fn(heatmaps.float(), targets, weights)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return loss.detach()


def train(config: TrainConfig, options: RunOptions) -> TrainResult:
    """Train as ``config`` says; see the module docstring for the files written. With ``[train] processes``
    above 1 the run is shared out over that many CPU processes (:mod:`pose.train.data_parallel`).

    Raises:
        DatasetError, ConfigError, FileNotFoundError, ValueError: unusable data, config or resume state;
        the message names what is wrong.
        RuntimeError: one of several processes failed (its error ends the message).
    """
    check_run_folder(options)
    check_data_paths(config)
    if config.train.processes > 1:
        if resolve_device(options.device).type != "cpu":
            raise ConfigError("[train] processes > 1 shares a run over CPU processes: use --device cpu, "
                              "or processes = 1 on a GPU")
        return train_in_processes(config, options, run_process)
    with SignalStop(on_signal=announce_stop) as stop:
        return run_process(config, options, ALONE, stop)


def run_process(config: TrainConfig, options: RunOptions, group: Group, stop: StopFlag) -> TrainResult:
    """This process's part of the run (all of it when it runs alone), stopping between steps once ``stop``
    is set."""
    device = resolve_device(options.device)
    with _algorithms(config.train.deterministic, device), _threads(config.train.threads):
        return _Run(config, options, device, group).execute(stop)


def check_run_folder(options: RunOptions) -> None:
    """A new run never writes over another one's weights and state: without ``resume``, a run folder that
    already holds ``last.pt``, ``best.pt`` or an epoch checkpoint is an error (before any work).

    Raises:
        ValueError: names the folder, what it holds, and the two ways on.
    """
    out = options.out_dir
    if out.exists() and not out.is_dir():
        raise ValueError(f"run folder '{out}' is a file: give a folder")
    if options.resume or not out.is_dir():
        return
    found = [name for name in (LAST_STATE, BEST_WEIGHTS) if (out / name).exists()]
    found += sorted(path.name for path in out.glob("epoch_*.pt"))[-1:]
    if found:
        raise ValueError(f"run folder '{out}' already holds a run ({', '.join(found)}): continue it with "
                         "--resume, or train into a new folder")


def check_data_paths(config: TrainConfig) -> None:
    """Fail before any work if a training or validation file or folder is missing.

    Raises:
        DatasetError: names the missing path and the config keys that make it.
    """
    data = config.data
    for key, kind, exists in (
        ("train_annotations", "annotation file", Path.is_file),
        ("val_annotations", "annotation file", Path.is_file),
        ("train_images", "image folder", Path.is_dir),
        ("val_images", "image folder", Path.is_dir),
    ):
        path = data.path(getattr(data, key))
        if not exists(path):
            raise DatasetError(f"{kind} '{path}' not found: check [data] root and {key} in the config")


class _Run:
    """The objects of one run and the loop over them."""

    def __init__(self, config: TrainConfig, options: RunOptions, device: torch.device, group: Group) -> None:
        self.config, self.options, self.device, self.group = config, options, device, group
        self.out_dir = options.out_dir
        run = config.train
        torch.manual_seed(run.seed)
        self.model = build_model(config).to(device).train()
        self.epochs_before = epochs_before(config)
        spec = self.model.spec
        data, augment = config.data, config.augment
        samples = load_person_samples(
            data.path(data.train_annotations), data.path(data.train_images), spec.skeleton,
            aspect_ratio=spec.aspect_ratio, jitter_prob=augment.center_jitter_prob,
            jitter=augment.center_jitter, seed=run.seed,
        )
        dataset = TopDownTrainingSet(samples, spec, spec.skeleton, augment, run.seed)
        self.loader, self.sampler = build_train_loader(
            dataset, run.batch_size, run.workers, run.seed, pin_memory=device.type == "cuda",
            share=group.rank, shares=group.size,
        )
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.optim.lr)
        self.scheduler = build_scheduler(self.optimizer, self.sampler.batches_per_epoch, config.optim)
        self.scaler = torch.amp.GradScaler(device.type, enabled=run.amp and device.type == "cuda")
        self.loss_fn = JointsMSELoss(use_target_weight=True)
        self.progress = Progress()
        self.started = time.monotonic()
        self.metrics: dict[str, float] = {}
        self._validated_at: int | None = None
        self._saved_at: int | None = None
        self.primary = PRIMARY_METRIC[data.metric]
        if options.resume:
            self.progress, stored = load_state(
                self.out_dir / LAST_STATE, self.model, self.optimizer, self.scheduler, self.scaler
            )
            self._keep_best_of_a_later_epoch()
            if group.is_main:
                _warn_config_changes(stored, config.to_dict())
                log.info("resumed at epoch %d, batch %d (iteration %d)", *self._position())
        self.stepped = group.wrap(self.model)  # what the step calls: gradients averaged over the processes
        if group.is_main:
            share = self.sampler.share_size
            shared = f", {group.size} processes of {share} images a step" if group.size > 1 else ""
            log.info(
                "%s on %s: %d persons, %d iterations per epoch, %d epochs, AMP %s%s",
                spec.name, device, len(samples), self.sampler.batches_per_epoch, config.optim.epochs,
                "on" if self.scaler.is_enabled() else "off", shared,
            )

    def execute(self, stop: StopFlag) -> TrainResult:
        if self.group.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            config_file = self.out_dir / "config.json"
            config_file.write_text(json.dumps(self.config.to_dict(), indent=2), encoding="utf-8")
        logger = ScalarLogger(self.out_dir, self.options.tensorboard) if self.group.is_main else _Unlogged()
        with logger as scalars:
            while self.progress.epoch < self.config.optim.epochs and not self._should_stop(stop):
                self._train_epoch(scalars, stop)
                if self.progress.batch == 0:  # the epoch ran to its end
                    self._end_epoch(scalars)
            if self.group.any(stop.is_set()):
                self._save_state()
                if self.group.is_main:
                    log.warning("interrupted: state saved in %s; continue with --resume", self.out_dir)
                raise KeyboardInterrupt
            if self._validated_at != self.progress.iteration:  # stopped by max_steps or nothing to train
                self._validate(scalars)
            if self._saved_at != self.progress.iteration:
                self._save_state()
        self.group.check_in_step(self.model)
        done = self.progress
        return TrainResult(self.out_dir, done.epoch, done.iteration, self.metrics, done.best_metric)

    def _train_epoch(self, scalars: ScalarLogger, stop: StopFlag) -> None:
        progress, run = self.progress, self.config.train
        self.sampler.set_epoch(progress.epoch, start_batch=progress.batch)
        bar = tqdm(
            desc=f"epoch {progress.epoch + 1}/{self.config.optim.epochs}",
            initial=progress.batch, total=self.sampler.batches_per_epoch,
            disable=not (self.options.progress and self.group.is_main), unit="it", dynamic_ncols=True,
        )
        loss_sum, steps, images, started = torch.zeros((), device=self.device), 0, 0, time.perf_counter()
        for batch in self.loader:
            loss_sum += train_step(self.stepped, batch, self.loss_fn, self.optimizer, self.scaler)
            lr = self.optimizer.param_groups[0]["lr"]
            self.scheduler.step()
            progress.iteration += 1
            progress.batch += 1
            bar.update()
            steps, images = steps + 1, images + len(batch["image"]) * self.group.size
            stopping = self._should_stop(stop)
            if steps == run.log_interval or progress.batch >= self.sampler.batches_per_epoch or stopping:
                elapsed = time.perf_counter() - started
                loss = float(self.group.mean(loss_sum)) / steps
                scalars.log(progress.iteration, progress.epoch, {
                    "train/loss": loss, "train/lr": lr, "train/images_per_s": images / elapsed,
                })
                bar.set_postfix(loss=f"{loss:.3g}", lr=f"{lr:.2e}")
                loss_sum.zero_()
                steps, images, started = 0, 0, time.perf_counter()
            if stopping:
                break
        bar.close()
        if progress.batch >= self.sampler.batches_per_epoch:
            progress.epoch, progress.batch = progress.epoch + 1, 0

    def _end_epoch(self, scalars: ScalarLogger) -> None:
        epoch, run = self.progress.epoch, self.config.train
        last_epoch = epoch == self.config.optim.epochs
        if last_epoch or (run.val_interval > 0 and epoch % run.val_interval == 0):
            self._validate(scalars)
        if run.checkpoint_interval > 0 and epoch % run.checkpoint_interval == 0 and self.group.is_main:
            save_checkpoint(self.model, self.out_dir / epoch_checkpoint_name(epoch), self._meta())
        if run.state_interval > 0 and epoch % run.state_interval == 0:
            self._save_state()

    def _validate(self, scalars: ScalarLogger) -> None:
        """Validate in the main process (the others wait) and keep ``best.pt``."""
        self._validated_at = self.progress.iteration
        if not self.group.is_main:
            self.group.barrier()
            return
        with _threads(self.config.train.threads * self.group.size):  # the other processes' cores are idle
            self.metrics = validate(self.model, self.config, self.device)
        self.group.barrier()
        progress = self.progress
        scalars.log(progress.iteration, progress.epoch, {f"val/{k}": v for k, v in self.metrics.items()})
        value = self.metrics[self.primary]
        log.info("epoch %d, iteration %d: %s", progress.epoch, progress.iteration,
                 ", ".join(f"{k} {v:.2f}" for k, v in self.metrics.items()))
        if progress.best_metric is None or value > progress.best_metric:
            progress.best_metric, progress.best_epoch = value, progress.epoch
            save_checkpoint(self.model, self.out_dir / BEST_WEIGHTS, self._meta())

    def _keep_best_of_a_later_epoch(self) -> None:
        """After a resume from a state older than ``best.pt`` (states saved every ``state_interval`` epochs,
        weights at every validation), the best so far is ``best.pt``'s score, so that a lower one never
        replaces it."""
        best = self.out_dir / BEST_WEIGHTS
        if not best.is_file():
            return
        meta = read_checkpoint_meta(best)
        scored = meta.get("metrics", {}).get(self.primary)
        progress = self.progress
        if scored is not None and (progress.best_metric is None or scored > progress.best_metric):
            progress.best_metric, progress.best_epoch = float(scored), int(meta.get("epoch", 0))

    def _save_state(self) -> None:
        self._saved_at = self.progress.iteration
        if not self.group.is_main:
            return
        save_state(
            self.out_dir / LAST_STATE, self.model, self.optimizer, self.scheduler, self.scaler,
            self.progress, self.config.to_dict(),
        )

    def _meta(self) -> dict[str, object]:
        meta = {
            "skeleton": self.model.spec.skeleton.name,
            "epoch": self.progress.epoch,
            "iteration": self.progress.iteration,
            "metrics": dict(self.metrics),
            "config": self.config.to_dict(),
        }
        if self.epochs_before is not None:
            meta[EPOCHS_IN_ALL_KEY] = self.epochs_before + self.progress.epoch
        return meta

    def _position(self) -> tuple[int, int, int]:
        return self.progress.epoch, self.progress.batch, self.progress.iteration

    def _should_stop(self, stop: StopFlag) -> bool:
        """Ctrl-C was pressed, ``max_steps`` steps are done or ``max_minutes`` have passed (in any of the
        processes: they stop on the same step)."""
        steps, minutes = self.options.max_steps, self.options.max_minutes
        return self.group.any(
            stop.is_set()
            or (steps is not None and self.progress.iteration >= steps)
            or (minutes is not None and time.monotonic() - self.started >= 60.0 * minutes)
        )


class _Unlogged:
    """Stands in for the :class:`ScalarLogger` in the processes that do not log."""

    def log(self, step: int, epoch: int, values: dict[str, float]) -> None:
        pass

    def __enter__(self) -> _Unlogged:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass


def _warn_config_changes(stored: dict[str, dict[str, object]], current: dict[str, dict[str, object]]) -> None:
    changed = [
        f"{section}.{key}: {stored.get(section, {}).get(key)!r} -> {value!r}"
        for section, values in current.items()
        for key, value in values.items()
        if stored.get(section, {}).get(key) != value
    ]
    if changed:
        log.warning("resuming with a changed config: %s", "; ".join(changed))


@contextlib.contextmanager
def _threads(count: int) -> Iterator[None]:
    """torch's intra-op thread count set to ``count`` during a run (0 leaves it), restored afterwards."""
    previous = torch.get_num_threads()
    if count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def _algorithms(deterministic: bool, device: torch.device) -> Iterator[None]:
    """Deterministic kernels during a run when asked (restored afterwards), else cuDNN autotuning."""
    previous = torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark
    torch.use_deterministic_algorithms(deterministic)
    torch.backends.cudnn.benchmark = not deterministic and device.type == "cuda"
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0])
        torch.backends.cudnn.benchmark = previous[1]
