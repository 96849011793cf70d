"""OpenVINO on the CPU for a pose model, with the crop workers of :class:`pose.runtime.OnnxForward`.

Optional: ``pip install "edite-pose[openvino]"``. It reads the same cached ONNX export as ONNX Runtime and
compiles one static-shape model per share size (the first batch of a new size waits for its compile, about
as long as the ONNX export; :meth:`OpenVinoForward.prepare` does it ahead). The compiled model has one
single-threaded stream per worker, and each worker runs its share of the crops on its own stream.
``precision="bf16"`` runs in bfloat16 where the CPU has bfloat16 instructions (AVX-512 BF16 or AMX), in
float32 elsewhere.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pose.base import Closeable
from pose.runtime import cache_dir, cached_export_path, share_sizes

PRECISIONS = ("f32", "bf16")


def openvino_available() -> bool:
    """True when ``openvino`` (and ``onnx``, for the export it reads) can be imported."""
    try:
        import onnx  # noqa: F401
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


class OpenVinoForward(Closeable):
    """``(B, 3, H, W)`` float32 crops -> ``(B, K, H/4, W/4)`` heatmaps by OpenVINO, crops shared by workers.

    :meth:`close` stops the worker threads and drops the compiled models.

    Args:
        model: the eval-mode pose model (with ``spec``); it is not modified.
        precision: ``"f32"`` or ``"bf16"`` (OpenVINO's inference precision hint).
        threads: worker threads, one OpenVINO stream each (default: ``torch.get_num_threads()``).
        cache: directory for the ONNX export (default :func:`pose.runtime.cache_dir`).
    """

    def __init__(
        self, model: nn.Module, precision: str = "f32", threads: int | None = None, cache: Path | None = None
    ) -> None:
        if precision not in PRECISIONS:
            choices = ", ".join(PRECISIONS)
            raise ValueError(f"unknown OpenVINO precision {precision!r}; choose one of {choices}")
        import openvino

        self._core = openvino.Core()
        self._path = cached_export_path(model, cache or cache_dir())
        self._input_hw = tuple(model.spec.input_size)
        self._output_shape = (model.spec.num_keypoints, *model.spec.heatmap_size)
        self._precision = precision
        self._workers = max(1, threads or torch.get_num_threads())
        self._requests: dict[int, list] = {}  # share size -> one infer request per worker
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="openvino-crops")

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self._ensure_open()
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if not len(batch):
            return np.zeros((0, *self._output_shape), np.float32)
        sizes = share_sizes(len(batch), self._workers)
        shares = np.split(batch, np.cumsum(sizes)[:-1])
        requests = [self._requests_for(len(share))[index] for index, share in enumerate(shares)]
        if len(shares) == 1:
            outputs = [_infer(requests[0], shares[0])]
        else:
            outputs = list(self._pool.map(_infer, requests, shares))
        return outputs[0] if len(outputs) == 1 else np.concatenate(outputs)

    def prepare(self, batch_size: int) -> None:
        """Compile now the models that a batch of ``batch_size`` crops will use."""
        self._ensure_open()
        for size in set(share_sizes(batch_size, self._workers)):
            self._requests_for(size)

    def _close(self) -> None:
        """Stop the worker threads (after the calls in flight), drop the compiled models."""
        self._pool.shutdown(wait=True)
        self._requests, self._core = {}, None

    def _requests_for(self, size: int) -> list:
        """One infer request per worker, of the model compiled for ``size`` crops (compiled on a miss)."""
        if size not in self._requests:
            network = self._core.read_model(str(self._path))
            network.reshape({"x": [size, 3, *self._input_hw]})
            settings = {
                "INFERENCE_PRECISION_HINT": self._precision,
                "NUM_STREAMS": self._workers,
                "INFERENCE_NUM_THREADS": self._workers,
            }
            compiled = self._core.compile_model(network, "CPU", settings)
            self._requests[size] = [compiled.create_infer_request() for _ in range(self._workers)]
        return self._requests[size]


def _infer(request, batch: np.ndarray) -> np.ndarray:
    return np.array(request.infer({0: batch})[0], copy=True)  # the request reuses its output buffer
