"""Crop workers: the CPU runtimes' way to run a batch, whole crops shared out over workers side by side.

This model's thousands of small operators leave a runtime's own intra-op threads little to split, while
whole crops on separate cores run side by side (``python tests/benchmarks/onnx_workers.py``). Each worker
runs its share through a model compiled by the runtime (ONNX Runtime: on a thread of ours; OpenVINO: on a
stream of its own). A model compiled for one batch size runs faster, and OpenVINO compiles only fixed
shapes well, but compiling one takes seconds; so a generic model that takes any batch size is compiled at
once, and the first time a share size is seen its own model is compiled on a background thread while the
generic one runs it: a new crowd size never stalls a frame.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from pose.base import Closeable

logger = logging.getLogger(__name__)


def share_sizes(batch_size: int, workers: int) -> list[int]:
    """Crops per worker for a batch of ``batch_size`` (>= 1): as even as possible, larger shares first."""
    workers = min(workers, batch_size)
    base, extra = divmod(batch_size, workers)
    return [base + 1] * extra + [base] * (workers - extra)


class CropWorkers(Closeable):
    """``(B, 3, H, W)`` float32 crops -> ``(B, K, H/4, W/4)`` heatmaps, the crops shared by workers.

    Subclasses say how their runtime compiles a model (:meth:`_compile`) and runs a share (:meth:`_infer`,
    on a worker thread), or runs the shares side by side itself (:meth:`_run_shares`). :meth:`close` stops
    the threads (after the calls and the compile in flight) and drops the models.

    Args:
        name: the runtime's name, the prefix of the threads (``"onnx-crops_0"``, ``"onnx-specialise_0"``).
        output_shape: ``(K, H/4, W/4)``, one crop's heatmaps.
        workers: worker threads (>= 1).
        specialise_up_to: share sizes up to this many crops get a model of their own; None: every size;
            0: none (the generic model runs everything).
    """

    def __init__(
        self, name: str, output_shape: tuple[int, int, int], workers: int, specialise_up_to: int | None
    ) -> None:
        self._output_shape = output_shape
        self._workers = max(1, workers)
        self._specialise_up_to = specialise_up_to
        self._generic = self._compile(None)
        self._specialised: dict[int, object] = {}
        self._building: dict[int, Future] = {}
        self._name = name
        self._builder = None
        if specialise_up_to != 0:
            self._builder = ThreadPoolExecutor(1, thread_name_prefix=f"{name}-specialise")
        self._pool: ThreadPoolExecutor | None = None  # made by the first batch shared out on threads

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self._ensure_open()
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if not len(batch):  # no runtime can reshape to an empty batch
            return np.zeros((0, *self._output_shape), np.float32)
        shares = np.split(batch, np.cumsum(share_sizes(len(batch), self._workers))[:-1])
        models = [self._model_for(len(share)) for share in shares]
        return np.concatenate(self._run_shares(models, shares))

    def prepare(self, batch_size: int) -> None:
        """Compile now, and wait for, the models that a batch of ``batch_size`` crops will use (benchmarks
        call this so that no background compile overlaps their timing)."""
        self._ensure_open()
        for size in set(share_sizes(batch_size, self._workers)):
            self._model_for(size)
            if size in self._building:
                self._building[size].result()
                self._model_for(size)

    def _close(self) -> None:
        for pool in (self._builder, self._pool):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        self._generic, self._specialised, self._building = None, {}, {}

    def _model_for(self, size: int) -> object:
        """The model compiled for ``size`` crops if ready, else the generic one (starting the compile)."""
        if size in self._specialised:
            return self._specialised[size]
        building = self._building.get(size)
        if building is None:
            limit = self._specialise_up_to
            if self._builder is not None and (limit is None or size <= limit):
                self._building[size] = self._builder.submit(self._compile, size)
        elif building.done():
            try:
                self._specialised[size] = building.result()
                return self._specialised[size]
            except Exception as error:  # any compile failure leaves the generic model in use
                logger.warning("no model compiled for %d crops (%s); using the generic one", size, error)
                self._specialised[size] = self._generic
        return self._generic

    def _compile(self, batch: int | None) -> object:
        """The runtime's model for ``batch`` crops (None: any batch size), ready for every worker."""
        raise NotImplementedError

    def _run_shares(self, models: list[object], shares: list[np.ndarray]) -> list[np.ndarray]:
        """Share ``i`` through ``models[i]`` on worker ``i``, side by side: on the worker threads, each
        running :meth:`_infer` (a runtime that runs several requests at once itself overrides this)."""
        if len(shares) == 1:
            return [self._infer(models[0], 0, shares[0])]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix=f"{self._name}-crops")
        return list(self._pool.map(self._infer, models, range(len(shares)), shares))

    def _infer(self, model: object, worker: int, share: np.ndarray) -> np.ndarray:
        """``share`` through ``model`` on worker ``worker`` (0-based), as ``(n, K, H/4, W/4)`` float32."""
        raise NotImplementedError
