"""Training data as a torch ``Dataset`` and a resumable, worker-independent ``DataLoader``.

Reproducibility by construction: the shuffled order of epoch ``e`` comes from ``(seed, e)`` and the
augmentation of sample ``i`` in epoch ``e`` from ``(seed, e, i)``. Neither depends on the number of
workers nor on global random state, so a run resumed at any iteration sees exactly the batches an
uninterrupted run would have seen.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from pose.models.spec import ModelSpec
from pose.skeleton import Skeleton
from pose.train.augmentation import make_example, plan_crop
from pose.train.config import AugmentConfig
from pose.train.datasets import DatasetError, PersonSample

SampleKey = tuple[int, int]
"""``(epoch, sample index)``: what the sampler yields and the dataset is indexed with."""


class TopDownTrainingSet(Dataset):
    """Augmented crops and heatmap targets for a list of :class:`PersonSample`.

    Indexed by :data:`SampleKey`; an item is a dict of ``image (3, H, W)``, ``heatmaps (K, H/4, W/4)`` and
    ``target_weight (K,)`` float32 arrays (see :class:`~pose.train.augmentation.TrainingExample`).
    """

    def __init__(
        self,
        samples: Sequence[PersonSample],
        spec: ModelSpec,
        skeleton: Skeleton,
        augment: AugmentConfig | None,
        seed: int = 0,
    ) -> None:
        self.samples = samples
        self.spec = spec
        self.skeleton = skeleton
        self.augment = augment
        self.changes = augment.photometric if augment is not None else None
        self.seed = seed

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key: SampleKey) -> dict[str, np.ndarray]:
        epoch, index = key
        sample = self.samples[index]
        image = cv2.imread(str(sample.image_path), cv2.IMREAD_COLOR)
        if image is None:
            raise DatasetError(f"cannot read image '{sample.image_path}': missing or not an image file")
        rng = np.random.default_rng([self.seed, epoch, index])
        plan = plan_crop(
            sample.center, sample.size, sample.keypoints, sample.visible, image.shape[1],
            self.skeleton, self.spec.aspect_ratio, self.augment, rng,
        )
        example = make_example(image, plan, self.spec, self.changes, rng)
        return {"image": example.image, "heatmaps": example.heatmaps, "target_weight": example.target_weight}


class EpochSampler(Sampler[SampleKey]):
    """Yields the keys of full batches of one epoch in a seeded order, optionally from a given batch on.

    Only whole batches are yielded (``drop_last``): ``len(self) == num_batches * batch_size`` keys, fewer
    after :meth:`set_epoch` with ``start_batch > 0``. With ``shares > 1`` (data-parallel processes) every
    batch of ``batch_size`` keys is dealt out: this sampler yields keys ``share``, ``share + shares``... of
    each, ``batch_size / shares`` per batch; the processes' samplers together yield each batch once.
    """

    def __init__(self, num_samples: int, batch_size: int, seed: int, share: int = 0, shares: int = 1) -> None:
        if num_samples < batch_size:
            raise DatasetError(
                f"batch size {batch_size} is larger than the {num_samples} training samples; "
                "lower [train] batch_size"
            )
        if batch_size % shares or not 0 <= share < shares:
            raise ValueError(f"share {share} of {shares} of a batch of {batch_size}: shares must divide it")
        self.num_samples = num_samples
        self.batch_size = batch_size
        self.seed = seed
        self.share, self.shares = share, shares
        self.epoch = 0
        self.start_batch = 0

    @property
    def batches_per_epoch(self) -> int:
        return self.num_samples // self.batch_size

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        """Select the epoch to iterate, skipping its first ``start_batch`` batches (for resuming)."""
        self.epoch = epoch
        self.start_batch = start_batch

    @property
    def share_size(self) -> int:
        """Keys of each batch that this sampler yields."""
        return self.batch_size // self.shares

    def __len__(self) -> int:
        return (self.batches_per_epoch - self.start_batch) * self.share_size

    def __iter__(self) -> Iterator[SampleKey]:
        order = np.random.default_rng([self.seed, self.epoch]).permutation(self.num_samples)
        begin, end = self.start_batch * self.batch_size, self.batches_per_epoch * self.batch_size
        for index in order[begin:end].reshape(-1, self.batch_size)[:, self.share::self.shares].reshape(-1):
            yield self.epoch, int(index)


def build_train_loader(
    dataset: TopDownTrainingSet, batch_size: int, workers: int, seed: int, pin_memory: bool = False,
    share: int = 0, shares: int = 1,
) -> tuple[DataLoader, EpochSampler]:
    """A DataLoader over ``dataset`` and the sampler that selects its epoch (``sampler.set_epoch``); with
    ``shares > 1`` it loads share ``share`` of every batch (see :class:`EpochSampler`)."""
    sampler = EpochSampler(len(dataset), batch_size, seed, share, shares)
    loader = DataLoader(
        dataset,
        batch_size=sampler.share_size,
        sampler=sampler,
        drop_last=True,
        num_workers=workers,
        persistent_workers=workers > 0,
        pin_memory=pin_memory,
        worker_init_fn=_init_worker,
        # Forked workers inherit OpenCV's and torch's thread pools mid-state and can hang in their first
        # OpenCV call (seen here in cv2.setNumThreads); spawned workers start clean.
        multiprocessing_context="spawn" if workers > 0 else None,
        generator=torch.Generator().manual_seed(seed),
    )
    return loader, sampler


def _init_worker(worker_id: int) -> None:
    """One OpenCV thread per worker: the workers already run in parallel."""
    cv2.setNumThreads(1)
