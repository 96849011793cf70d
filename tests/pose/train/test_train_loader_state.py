"""Reproducible data order and augmentation, and the RNG part of the resumable state."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest
import torch
from support import REPO_ROOT

from pose.models.spec import ModelSpec
from pose.skeleton import COCO
from pose.train.config import AugmentConfig
from pose.train.datasets import DatasetError, load_person_samples
from pose.train.loader import EpochSampler, TopDownTrainingSet, build_train_loader
from pose.train.state import capture_rng_states, restore_rng_states

TINY = REPO_ROOT / "tests" / "data" / "coco_tiny"
SPEC = ModelSpec(name="test").at_input_size(128, 96)


@pytest.fixture(scope="module")
def samples():
    return load_person_samples(TINY / "person_keypoints.json", TINY, COCO, aspect_ratio=SPEC.aspect_ratio)


def test_sampler_yields_whole_batches_in_a_seeded_order_per_epoch():
    sampler = EpochSampler(num_samples=10, batch_size=3, seed=7)
    sampler.set_epoch(0)
    first = list(sampler)
    assert len(first) == len(sampler) == 9 and all(epoch == 0 for epoch, _ in first)
    assert len({index for _, index in first}) == 9
    assert list(sampler) == first
    sampler.set_epoch(1)
    assert [i for _, i in sampler] != [i for _, i in first]


def test_sampler_resumes_inside_an_epoch():
    sampler = EpochSampler(num_samples=10, batch_size=3, seed=7)
    sampler.set_epoch(4)
    full = list(sampler)
    sampler.set_epoch(4, start_batch=2)
    assert list(sampler) == full[6:]
    assert len(sampler) == 3


def test_data_parallel_shares_deal_out_every_batch_once():
    whole = EpochSampler(num_samples=20, batch_size=6, seed=7)
    shares = [EpochSampler(num_samples=20, batch_size=6, seed=7, share=rank, shares=2) for rank in (0, 1)]
    for sampler in (whole, *shares):
        sampler.set_epoch(3, start_batch=1)
    batches = np.array([index for _, index in whole]).reshape(-1, 6)
    dealt = [np.array([index for _, index in sampler]).reshape(-1, 3) for sampler in shares]
    assert len(shares[0]) == 6 and [len(part) for part in dealt] == [2, 2]
    for batch, first, second in zip(batches, *dealt, strict=True):
        assert sorted(batch) == sorted([*first, *second])
    with pytest.raises(ValueError, match="shares must divide"):
        EpochSampler(num_samples=20, batch_size=6, seed=7, share=0, shares=4)


def test_batch_larger_than_the_dataset_is_an_error():
    with pytest.raises(DatasetError, match="batch size 8 is larger than the 5 training samples"):
        EpochSampler(num_samples=5, batch_size=8, seed=0)


def test_augmentation_depends_only_on_seed_epoch_and_index(samples):
    dataset = TopDownTrainingSet(samples, SPEC, COCO, AugmentConfig(), seed=3)
    first = dataset[(0, 1)]
    again = dataset[(0, 1)]
    for key in ("image", "heatmaps", "target_weight"):
        np.testing.assert_array_equal(first[key], again[key])
    assert not np.array_equal(first["image"], dataset[(1, 1)]["image"])
    plain = TopDownTrainingSet(samples, SPEC, COCO, None, seed=3)
    np.testing.assert_array_equal(plain[(0, 1)]["image"], plain[(5, 1)]["image"])


def test_loader_batches_do_not_depend_on_worker_count(samples):
    dataset = TopDownTrainingSet(samples, SPEC, COCO, AugmentConfig(), seed=3)
    batches = {}
    for workers in (0, 1):
        loader, sampler = build_train_loader(dataset, batch_size=2, workers=workers, seed=3)
        sampler.set_epoch(2)
        batches[workers] = [batch["image"] for batch in loader]
    assert len(batches[0]) == 2
    for a, b in zip(batches[0], batches[1], strict=True):
        assert torch.equal(a, b)


def test_unreadable_image_is_named(samples, tmp_path):
    broken = [replace(samples[0], image_path=tmp_path / "gone.jpg")]
    with pytest.raises(DatasetError, match=r"cannot read image '.*gone.jpg'"):
        TopDownTrainingSet(broken, SPEC, COCO, None)[(0, 0)]


def test_rng_states_round_trip():
    states = capture_rng_states()
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.rand(5), np.random.rand(5), random.random()
    restore_rng_states(states)
    assert torch.equal(torch.rand(3), expected[0])
    np.testing.assert_array_equal(np.random.rand(3), expected[1])
    assert random.random() == expected[2]
