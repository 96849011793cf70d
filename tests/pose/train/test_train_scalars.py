"""Scalar logs: long-format CSV always; TensorBoard events through torch's SummaryWriter when installed."""

from __future__ import annotations

import csv
import sys
import types

from pose.train.scalars import CSV_COLUMNS, ScalarLogger


def _rows(path):
    with path.open() as handle:
        return list(csv.reader(handle))


def test_csv_is_long_format_and_appends_on_resume(tmp_path):
    with ScalarLogger(tmp_path, tensorboard=False) as scalars:
        scalars.log(10, 0, {"train/loss": 0.5, "train/lr": 2e-3})
    with ScalarLogger(tmp_path, tensorboard=False) as scalars:
        scalars.log(20, 1, {"val/AP": 61.25})
    rows = _rows(tmp_path / "scalars.csv")
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [row[:4] for row in rows[1:]] == [
        ["10", "0", "train/loss", "0.5"], ["10", "0", "train/lr", "0.002"], ["20", "1", "val/AP", "61.25"],
    ]


class _FakeWriter:
    """Records what torch.utils.tensorboard.SummaryWriter would be asked to write."""

    last: _FakeWriter | None = None

    def __init__(self, log_dir: str) -> None:
        self.log_dir, self.scalars, self.closed = log_dir, [], False
        _FakeWriter.last = self

    def add_scalar(self, tag, value, step, walltime=None):
        self.scalars.append((tag, value, step))

    def close(self):
        self.closed = True


def test_tensorboard_gets_the_same_scalars_when_available(tmp_path, monkeypatch):
    fake_module = types.SimpleNamespace(SummaryWriter=_FakeWriter)
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", fake_module)
    with ScalarLogger(tmp_path) as scalars:
        assert scalars.tensorboard_enabled
        scalars.log(3, 0, {"train/loss": 0.25})
    writer = _FakeWriter.last
    assert writer.log_dir == str(tmp_path / "tb")
    assert writer.scalars == [("train/loss", 0.25, 3)] and writer.closed


def test_without_tensorboard_only_the_csv_is_written(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails
    with ScalarLogger(tmp_path) as scalars:
        assert not scalars.tensorboard_enabled
        scalars.log(1, 0, {"train/loss": 1.0})
    assert len(_rows(tmp_path / "scalars.csv")) == 2
