"""How a pose model's forward pass runs: ``(B, 3, H, W)`` float32 batch -> ``(B, K, H/4, W/4)`` heatmaps.

:func:`build_forward` returns a callable on numpy arrays for one of these runtimes:

* ``"eager"``: the model as it is (the reference; training validation uses it, weights may change).
* ``"torch"``: a rewritten copy for inference (:func:`pose.models.inference.prepare_for_inference`:
  BatchNorms folded, slow grouped convs replaced); same outputs up to float rounding.
* ``"onnx"``: that copy exported to ONNX (DKA convs stacked, :class:`StackedKernelAggregation`) and run by
  ONNX Runtime on the CPU, one session for every batch size. Exports are cached on disk by a hash of the
  weights (``$EDITE_POSE_CACHE`` or ``~/.cache/edite-pose``), so only the first start pays the export.
* ``"auto"``: ``"onnx"`` on the CPU when ``onnxruntime`` and ``onnx`` are installed, else ``"torch"``.

Measured by ``python main.py bench`` (model-only section); numbers in README "Performance".
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pose.models.dynamic_conv import KernelAggregation
from pose.models.inference import StackedKernelAggregation, prepare_for_inference

logger = logging.getLogger(__name__)

RUNTIMES = ("auto", "eager", "torch", "onnx")
CACHE_KEEP = 8
"""Exports kept in the cache (the most recently written); older ones are deleted."""
ONNX_OPSET = 17
Forward = Callable[[np.ndarray], np.ndarray]
"""``(B, 3, H, W)`` float32 normalised RGB -> ``(B, K, H/4, W/4)`` float32 heatmaps."""


def onnx_available() -> bool:
    """True when both ``onnx`` (the exporter needs it) and ``onnxruntime`` can be imported."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_runtime(runtime: str, device: torch.device) -> str:
    """``"auto"`` -> ``"onnx"`` on CPU when available, else ``"torch"``; other names are checked."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}")
    if runtime == "onnx" and device.type != "cpu":
        raise ValueError(f"runtime 'onnx' runs on the CPU only, not on {device}: use 'torch' or 'auto'")
    if runtime == "onnx" and not onnx_available():
        raise ValueError("runtime 'onnx' needs onnx and onnxruntime: pip install onnx onnxruntime")
    if runtime == "auto":
        return "onnx" if device.type == "cpu" and onnx_available() else "torch"
    return runtime


def build_forward(model: nn.Module, runtime: str, device: torch.device, dtype: torch.dtype) -> Forward:
    """The forward pass of ``model`` (eval mode, already on ``device``/``dtype``) for ``runtime``."""
    runtime = resolve_runtime(runtime, device)
    if runtime == "onnx":
        return OnnxForward(model)
    module = model if runtime == "eager" else prepare_for_inference(model)

    def forward(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            inputs = torch.from_numpy(batch).to(device, dtype, non_blocking=True)
            return module(inputs).float().cpu().numpy()

    return forward


def _stack_dynamic_kernels(model: nn.Module) -> None:
    """Replace every DKA kernel aggregation by its static-kernel equivalent, in place (for export)."""
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, KernelAggregation):
                setattr(parent, name, StackedKernelAggregation(child))


def _weights_digest(model: nn.Module) -> str:
    """SHA-256 over the class name, parameter/buffer names, shapes and values (float32 bytes)."""
    digest = hashlib.sha256(type(model).__name__.encode())
    for name, tensor in model.state_dict().items():
        digest.update(f"{name}{tuple(tensor.shape)}{tensor.dtype}".encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:24]


def cache_dir() -> Path:
    """Where ONNX exports are kept: ``$EDITE_POSE_CACHE`` or ``~/.cache/edite-pose``, plus ``onnx/``."""
    root = os.environ.get("EDITE_POSE_CACHE") or Path.home() / ".cache" / "edite-pose"
    return Path(root) / "onnx"


def export_onnx(model: nn.Module, input_hw: tuple[int, int]) -> bytes:
    """ONNX bytes of the inference-prepared ``model``, dynamic batch axis (input ``x``, output ``y``)."""
    prepared = prepare_for_inference(model).float().cpu()
    _stack_dynamic_kernels(prepared)
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


class OnnxForward:
    """ONNX Runtime on the CPU for a pose model, with the thread count torch uses when it is built.

    Args:
        model: the eval-mode pose model (with ``spec.input_size``); it is not modified.
        threads: intra-op threads (default: ``torch.get_num_threads()``).
        cache: directory for exported models (default :func:`cache_dir`).
    """

    def __init__(self, model: nn.Module, threads: int | None = None, cache: Path | None = None) -> None:
        import onnxruntime

        input_hw = tuple(model.spec.input_size)
        name = f"{model.spec.name}-{input_hw[0]}x{input_hw[1]}-{_weights_digest(model)}.onnx"
        path = (cache or cache_dir()) / name
        if path.is_file():
            data = path.read_bytes()
        else:
            logger.info("exporting %s to ONNX (once per weights; cached in %s)", model.spec.name, path.parent)
            data = export_onnx(model, input_hw)
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_bytes(data)
            temporary.replace(path)
            _prune(path.parent)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle threads sleep instead of spinning: on a busy 2-core CPU spinning made batch 12 take 1.7x as
        # long (1146 vs 665 ms, 2 threads, next to a training run); on a quiet machine it costs little.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self._session.run(None, {"x": np.ascontiguousarray(batch, dtype=np.float32)})[0]
