"""Scalar logs: ``scalars.csv`` always, TensorBoard event files when the ``tensorboard`` package is installed.

The CSV is long-format (``step, epoch, tag, value, wall_time``), one row per value, so new tags never
change its columns; it is appended to on resume.
"""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

log = logging.getLogger(__name__)

CSV_NAME = "scalars.csv"
CSV_COLUMNS = ("step", "epoch", "tag", "value", "wall_time")


class ScalarLogger:
    """Writes scalars to ``out_dir/scalars.csv`` and, if possible, TensorBoard files in ``out_dir/tb``.

    Args:
        out_dir: run folder.
        tensorboard: try to write TensorBoard files (needs the ``tensorboard`` package).
    """

    def __init__(self, out_dir: Path, tensorboard: bool = True) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.csv_path = out_dir / CSV_NAME
        new_file = not self.csv_path.exists()
        self._file = self.csv_path.open("a", newline="", encoding="utf-8")
        self._csv = csv.writer(self._file)
        if new_file:
            self._csv.writerow(CSV_COLUMNS)
        self._tensorboard = _open_tensorboard(out_dir / "tb") if tensorboard else None

    @property
    def tensorboard_enabled(self) -> bool:
        return self._tensorboard is not None

    def log(self, step: int, epoch: int, values: Mapping[str, float]) -> None:
        """Record ``values`` (tag -> number) at iteration ``step``."""
        now = time.time()
        for tag, value in values.items():
            self._csv.writerow((step, epoch, tag, f"{float(value):.8g}", f"{now:.3f}"))
            if self._tensorboard is not None:
                self._tensorboard.add_scalar(tag, float(value), step, walltime=now)
        self._file.flush()

    def close(self) -> None:
        self._file.close()
        if self._tensorboard is not None:
            self._tensorboard.close()

    def __enter__(self) -> ScalarLogger:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def _open_tensorboard(folder: Path) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        log.info("tensorboard is not installed: scalars go to %s only (pip install tensorboard)", CSV_NAME)
        return None
    return SummaryWriter(log_dir=str(folder))
