"""Checkpoint averaging: the mean of one run's last epochs, refused across models."""

from __future__ import annotations

import pytest
import torch

from pose.train.averaging import average_checkpoints, last_epoch_checkpoints


def _checkpoint(path, epoch: int, weight: float, batches: int, shape=(2, 3)):
    state = {"conv.weight": torch.full(shape, weight), "bn.num_batches_tracked": torch.tensor(batches)}
    meta = {"model": "m", "epoch": epoch, "metrics": {"AP": 10.0 * epoch}}
    torch.save({"state_dict": state, "meta": meta}, path)
    return path


def test_the_mean_of_the_weights_and_the_last_integer_buffers(tmp_path):
    weights = {1: 1.0, 2: 2.0, 3: 6.0}
    paths = [_checkpoint(tmp_path / f"epoch_00{e}.pt", e, w, 100 * e) for e, w in weights.items()]
    content = average_checkpoints(paths)
    torch.testing.assert_close(content["state_dict"]["conv.weight"], torch.full((2, 3), 3.0))
    assert content["state_dict"]["bn.num_batches_tracked"].item() == 300
    assert content["meta"]["averaged_epochs"] == [1, 2, 3] and content["meta"]["model"] == "m"
    assert "metrics" not in content["meta"]  # the last epoch's scores do not describe the mean


def test_checkpoints_of_another_model_are_refused(tmp_path):
    first = _checkpoint(tmp_path / "epoch_001.pt", 1, 1.0, 1)
    other = _checkpoint(tmp_path / "epoch_002.pt", 2, 1.0, 1, shape=(3, 3))
    with pytest.raises(ValueError, match=r"epoch_001\.pt' holds another model"):
        average_checkpoints([first, other])
    with pytest.raises(ValueError, match="no checkpoints"):
        average_checkpoints([])


def test_the_last_epoch_checkpoints_oldest_first(tmp_path):
    for epoch in (1, 2, 9, 10, 11):
        _checkpoint(tmp_path / f"epoch_{epoch:03d}.pt", epoch, 1.0, 1)
    _checkpoint(tmp_path / "best.pt", 9, 1.0, 1)
    _checkpoint(tmp_path / "average_epochs_9-11.pt", 11, 1.0, 1)
    assert [path.name for path in last_epoch_checkpoints(tmp_path, 3)] == [
        "epoch_009.pt", "epoch_010.pt", "epoch_011.pt"
    ]
    with pytest.raises(ValueError, match="holds 5 epoch checkpoints, fewer than the 6"):
        last_epoch_checkpoints(tmp_path, 6)
    with pytest.raises(ValueError, match="cannot average 0"):
        last_epoch_checkpoints(tmp_path, 0)
