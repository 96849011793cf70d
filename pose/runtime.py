"""How a pose model's forward pass runs: ``(B, 3, H, W)`` float32 batch -> ``(B, K, H/4, W/4)`` heatmaps.

:func:`build_forward` returns a :class:`Forward` on numpy arrays (call, ``prepare``, ``close``) for one of
these runtimes:

* ``"eager"``: the model as it is (the reference; training validation uses it, weights may change).
* ``"torch"``: a rewritten copy for inference (:func:`pose.models.inference.prepare_for_inference`:
  BatchNorms folded, slow grouped convs replaced); same outputs up to float rounding.
* ``"onnx"``: that copy, with the graph folds of :mod:`pose.models.fold`, exported to ONNX (DKA convs
  stacked, :class:`StackedKernelAggregation`) and run by ONNX Runtime on the CPU, the crops shared out over
  worker threads (:class:`OnnxForward`). Exports are cached on disk by a hash of the weights
  (``$EDITE_POSE_CACHE`` or ``~/.cache/edite-pose``), so only the first start pays the export.
* ``"openvino"`` / ``"openvino-bf16"``: the same export run by OpenVINO in float32 / bfloat16, with the same
  crop workers (:mod:`pose.runtime_openvino`).
* ``"auto"``: on the CPU, the fastest of the available runtimes on this machine, timed once and cached
  (:func:`select_runtime`, :mod:`pose.runtime_autotune`; an app can have the trials run in the background:
  :mod:`pose.runtime_tuning`); on a GPU, ``"torch"``.

Measured by ``python main.py bench`` (model-only section); numbers in README "Performance".
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch import nn

from pose.base import Closeable, RuntimeInfo
from pose.crop_workers import CropWorkers
from pose.models.dynamic_conv import KernelAggregation
from pose.models.fold import EXPORT_GRAPH_VERSION, prepare_for_export
from pose.models.inference import StackedKernelAggregation, prepare_for_inference

logger = logging.getLogger(__name__)

RUNTIMES = ("auto", "eager", "torch", "onnx", "openvino", "openvino-bf16")
CPU_ONLY = ("onnx", "openvino", "openvino-bf16")
CACHE_KEEP = 8
"""Exports kept in the cache (the most recently written); older ones are deleted."""
ONNX_OPSET = 17
_EXPORT_LOCK = threading.Lock()
"""``torch.onnx.export`` keeps global state, so two threads must not export at once (the background runtime
trials of :mod:`pose.runtime_tuning` export while the app builds its first runtime)."""


class Forward(Protocol):
    """A pose model's forward pass on numpy arrays, as :func:`build_forward` returns it."""

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """``(B, 3, H, W)`` float32 normalised RGB -> ``(B, K, H/4, W/4)`` float32 heatmaps."""
        ...

    def prepare(self, batch_size: int) -> None:
        """Build now what a batch of ``batch_size`` crops will need (sessions, compiled models)."""
        ...

    def close(self) -> None:
        """Free its threads, sessions and model copy; idempotent; calls after it raise ``RuntimeError``."""
        ...


def onnx_available() -> bool:
    """True when both ``onnx`` (the exporter needs it) and ``onnxruntime`` can be imported."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_runtime(runtime: str, device: torch.device) -> str:
    """``"auto"`` -> ``"onnx"`` on CPU when available, else ``"torch"`` (a guess that needs no model; see
    :func:`select_runtime` for the timed choice); other names are checked."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}")
    if runtime in CPU_ONLY and device.type != "cpu":
        raise ValueError(f"runtime {runtime!r} runs on the CPU only, not on {device}: use 'torch' or 'auto'")
    if runtime == "onnx" and not onnx_available():
        raise ValueError("runtime 'onnx' needs onnx and onnxruntime: pip install onnx onnxruntime")
    if runtime.startswith("openvino"):
        from pose.runtime_openvino import openvino_available

        if not openvino_available():
            raise ValueError(f"runtime {runtime!r} needs OpenVINO: pip install openvino")
    if runtime == "auto":
        return "onnx" if device.type == "cpu" and onnx_available() else "torch"
    return runtime


def select_runtime(model: nn.Module, runtime: str, device: torch.device) -> RuntimeInfo:
    """``runtime`` checked, with ``"auto"`` on the CPU replaced by the fastest accurate runtime for ``model``
    on this machine (timed on first use, then read from the cache: :func:`pose.runtime_autotune.autotune`),
    with its milliseconds per crop; forced runtimes have none."""
    resolved = resolve_runtime(runtime, device)
    if runtime != "auto" or device.type != "cpu":
        return RuntimeInfo(resolved)
    from pose.runtime_autotune import autotune

    choice = autotune(model)
    return RuntimeInfo(choice.runtime, choice.ms_per_crop)


def build_forward(model: nn.Module, runtime: str, device: torch.device, dtype: torch.dtype) -> Forward:
    """The forward pass of ``model`` (eval mode, already on ``device``/``dtype``) for ``runtime``
    (``"auto"`` as :func:`resolve_runtime` guesses it)."""
    runtime = resolve_runtime(runtime, device)
    if runtime == "onnx":
        return OnnxForward(model)
    if runtime.startswith("openvino"):
        from pose.runtime_openvino import OpenVinoForward

        return OpenVinoForward(model, precision="bf16" if runtime.endswith("bf16") else "f32")
    return TorchForward(model if runtime == "eager" else prepare_for_inference(model), device, dtype)


class TorchForward(Closeable):
    """``module`` run by torch on ``device`` in ``dtype``: the ``"eager"`` and ``"torch"`` runtimes."""

    def __init__(self, module: nn.Module, device: torch.device, dtype: torch.dtype) -> None:
        self._module: nn.Module | None = module
        self._device, self._dtype = device, dtype

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self._ensure_open()
        with torch.inference_mode():
            inputs = torch.from_numpy(batch).to(self._device, self._dtype, non_blocking=True)
            return self._module(inputs).float().cpu().numpy()

    def prepare(self, batch_size: int) -> None:
        """Nothing to build ahead: torch takes any batch size as it comes."""

    def _close(self) -> None:
        self._module = None  # frees the inference-prepared copy


def stack_dynamic_kernels(model: nn.Module) -> None:
    """Replace every DKA kernel aggregation by its static-kernel equivalent, in place (for export)."""
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, KernelAggregation):
                setattr(parent, name, StackedKernelAggregation(child))


def weights_digest(model: nn.Module) -> str:
    """SHA-256 over the class name, parameter/buffer names, shapes and values (float32 bytes)."""
    digest = hashlib.sha256(type(model).__name__.encode())
    for name, tensor in model.state_dict().items():
        digest.update(f"{name}{tuple(tensor.shape)}{tensor.dtype}".encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:24]


def cache_root() -> Path:
    """The app's cache of model exports: ``$EDITE_POSE_CACHE``, else ``~/.cache/edite-pose``."""
    return Path(os.environ.get("EDITE_POSE_CACHE") or Path.home() / ".cache" / "edite-pose")


def cache_dir() -> Path:
    """Where ONNX exports of pose models are kept: ``onnx/`` in :func:`cache_root`."""
    return cache_root() / "onnx"


def export_onnx(model: nn.Module, input_hw: tuple[int, int], folds: bool = True) -> bytes:
    """ONNX bytes of the inference-prepared ``model``, with the graph folds of :mod:`pose.models.fold` unless
    ``folds`` is False; dynamic batch axis (input ``x``, output ``y``)."""
    prepared = (prepare_for_export(model) if folds else prepare_for_inference(model).float()).cpu()
    stack_dynamic_kernels(prepared)
    buffer = io.BytesIO()
    example = torch.zeros(2, 3, *input_hw)
    with torch.no_grad():
        torch.onnx.export(
            prepared, (example,), buffer, dynamo=False, opset_version=ONNX_OPSET,
            input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
        )
    return buffer.getvalue()


def _prune(directory: Path, keep: int = CACHE_KEEP) -> None:
    """Delete all but the ``keep`` most recently written exports in ``directory``."""
    exports = sorted(directory.glob("*.onnx"), key=lambda file: file.stat().st_mtime, reverse=True)
    for stale in exports[keep:]:
        stale.unlink(missing_ok=True)


class OnnxForward(CropWorkers):
    """ONNX Runtime on the CPU for a pose model, with crop workers (:mod:`pose.crop_workers`).

    Every worker runs its share through a single-threaded session (sessions allow concurrent ``run`` calls
    and release the GIL). Shares of up to :attr:`SPECIALISED_UP_TO` crops get a session with the batch
    dimension fixed (ONNX Runtime folds the shape arithmetic away), built in the background; the generic
    dynamic-batch session runs them until then, and runs the larger shares. ``python
    tests/benchmarks/onnx_workers.py`` measures both. :meth:`close` stops the threads and drops the sessions.

    Args:
        model: the eval-mode pose model (with ``spec.input_size``); it is not modified.
        threads: worker threads (default: ``torch.get_num_threads()``).
        cache: directory for exported models (default :func:`cache_dir`).
        specialise: build the fixed-size sessions (off: the generic session runs everything).
    """

    SPECIALISED_UP_TO = 4
    """Shares of up to this many crops get a specialised session: faster than the generic one for small
    batches, slower for large ones (``python tests/benchmarks/onnx_workers.py`` measures where they cross)."""

    def __init__(
        self, model: nn.Module, threads: int | None = None, cache: Path | None = None, specialise: bool = True
    ) -> None:
        self._model_bytes = cached_export_path(model, cache or cache_dir()).read_bytes()
        output_shape = (model.spec.num_keypoints, *model.spec.heatmap_size)
        super().__init__("onnx", output_shape, threads or torch.get_num_threads(),
                         self.SPECIALISED_UP_TO if specialise else 0)

    def _compile(self, batch: int | None):
        """A single-threaded session; with ``batch``, specialised to that batch size."""
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        if batch is not None:
            options.add_free_dimension_override_by_name("batch", batch)
        return onnxruntime.InferenceSession(self._model_bytes, options, providers=["CPUExecutionProvider"])

    def _infer(self, model, worker: int, share: np.ndarray) -> np.ndarray:
        return model.run(None, {"x": share})[0]


def cached_export_path(model: nn.Module, cache: Path) -> Path:
    """The ONNX export of ``model`` in ``cache``, exporting (and pruning the cache) on a miss."""
    input_hw = tuple(model.spec.input_size)
    graph = f"g{EXPORT_GRAPH_VERSION}"
    name = f"{model.spec.name}-{input_hw[0]}x{input_hw[1]}-{graph}-{weights_digest(model)}.onnx"
    path = cache / name
    with _EXPORT_LOCK:
        if path.is_file():
            return path
        logger.info("exporting %s to ONNX (once per weights; cached in %s)", model.spec.name, cache)
        data = export_onnx(model, input_hw)
        cache.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(data)
        temporary.replace(path)
        _prune(cache)
    return path
