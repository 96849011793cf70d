"""OpenVINO on the CPU for a pose model, with crop workers (:mod:`pose.crop_workers`).

A dependency of the app; without its wheel (``pip install openvino``) the runtime is simply not a candidate.
It reads the same cached ONNX export as ONNX Runtime. A model compiled for a fixed batch size runs each
share; compiling one takes seconds, so a new share size runs on the dynamic-batch model (compiled at once)
until its own is compiled in the background (:meth:`OpenVinoForward.prepare` compiles ahead). Each compiled
model has one single-threaded stream and one infer request per worker: the calling thread starts every share
on its own request at once (``start_async``) and waits for them, and OpenVINO runs them side by side on its
streams. ``precision="bf16"`` runs in bfloat16 where the CPU has bfloat16 instructions (AVX-512 BF16 or
AMX), in float32 elsewhere.

Threads and OpenVINO's Python layer: the first ``Tensor.data`` of a process initialises a C++ static that
lets go of the GIL and takes it back; two threads making that first call at once deadlock (one holds the GIL
and waits for the static, the other holds the static and waits for the GIL). Worker threads each calling
``infer`` did that at their first batch (``python tests/benchmarks/openvino_first_use.py``). So no two
threads of ours call into OpenVINO for one batch, and every :class:`OpenVinoForward` makes that first call
as it is built, under a lock.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pose.crop_workers import CropWorkers
from pose.runtime import cache_dir, cached_export_path

PRECISIONS = ("f32", "bf16")
_FIRST_USE_LOCK = threading.Lock()
"""Held while a forward pass makes OpenVINO's first ``Tensor.data`` call (module doc)."""


def openvino_available() -> bool:
    """True when ``openvino`` (and ``onnx``, for the export it reads) can be imported."""
    try:
        import onnx  # noqa: F401
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


class OpenVinoForward(CropWorkers):
    """``(B, 3, H, W)`` float32 crops -> ``(B, K, H/4, W/4)`` heatmaps by OpenVINO, crops shared by workers.

    :meth:`close` waits for a compile in flight and drops the compiled models.

    Args:
        model: the eval-mode pose model (with ``spec``); it is not modified.
        precision: ``"f32"`` or ``"bf16"`` (OpenVINO's inference precision hint).
        threads: workers, one OpenVINO stream and infer request each (default: ``torch.get_num_threads()``).
        cache: directory for the ONNX export (default :func:`pose.runtime.cache_dir`).
    """

    def __init__(
        self, model: nn.Module, precision: str = "f32", threads: int | None = None, cache: Path | None = None
    ) -> None:
        if precision not in PRECISIONS:
            choices = ", ".join(PRECISIONS)
            raise ValueError(f"unknown OpenVINO precision {precision!r}; choose one of {choices}")
        import openvino

        with _FIRST_USE_LOCK:  # once per process would do; it costs microseconds beside a compile
            _ = openvino.Tensor(np.zeros(1, np.float32)).data
        self._core = openvino.Core()
        self._path = cached_export_path(model, cache or cache_dir())
        self._input_hw = tuple(model.spec.input_size)
        self._precision = precision
        workers = max(1, threads or torch.get_num_threads())
        super().__init__("openvino", (model.spec.num_keypoints, *model.spec.heatmap_size), workers, None)

    def _compile(self, batch: int | None) -> list:
        """One infer request per worker of the model compiled for ``batch`` crops (-1: any batch size)."""
        network = self._core.read_model(str(self._path))
        network.reshape({"x": [-1 if batch is None else batch, 3, *self._input_hw]})
        settings = {
            "INFERENCE_PRECISION_HINT": self._precision,
            "NUM_STREAMS": self._workers,
            "INFERENCE_NUM_THREADS": self._workers,
        }
        compiled = self._core.compile_model(network, "CPU", settings)
        return [compiled.create_infer_request() for _ in range(self._workers)]

    def _run_shares(self, models: list[list], shares: list[np.ndarray]) -> list[np.ndarray]:
        """Share ``i`` on infer request ``i`` of its model, all started at once: OpenVINO runs them side by
        side on its streams, and only this thread calls into OpenVINO (module doc)."""
        requests = [model[worker] for worker, model in enumerate(models)]
        started = []
        try:
            for request, share in zip(requests, shares, strict=True):
                request.start_async({0: share})
                started.append(request)
        finally:  # never leave a request running: its next call would fail
            for request in started:
                request.wait()
        # copies: a request reuses its output buffer
        return [np.array(request.get_output_tensor(0).data, copy=True) for request in requests]

    def _close(self) -> None:
        super()._close()
        self._core = None
