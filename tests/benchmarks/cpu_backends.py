"""CPU backends tried for the pose model beside the ONNX Runtime float32 path the app uses, and why they lost.

    python tests/benchmarks/cpu_backends.py [--model edite_hrnet_s] [--input 128 96] [--batches 1 2]
        [--compile] [--openvino] [--no-folds] [--app-only]

Prints median milliseconds per forward pass, one thread, random weights (the cost does not depend on them):
ONNX Runtime float32 (the app's graph: BN folded, DKA stacked; also with other session settings: extended
instead of all graph optimisations, the parallel executor, denormals flushed), ONNX Runtime after static INT8
quantisation of the convs (QDQ, per-channel weights, calibrated on random crops: timing only), and optionally
torch.compile (inductor; several minutes to compile) and OpenVINO in float32 and bfloat16 (``pip install
openvino``). Also prints how many operators ONNX Runtime keeps after its optimisations at batch 1, and how
many of them are NCHWc layout reorders. ``--no-folds`` exports the graph without the folds of
``pose.models.fold`` (the graph before issue 17); ``--app-only`` skips the losing session settings and INT8.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from onnxruntime import ExecutionMode, GraphOptimizationLevel, InferenceSession, SessionOptions

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from onnx_workers import median_ms

from pose.models.inference import prepare_for_inference
from pose.models.registry import create_model
from pose.runtime import export_onnx, stack_dynamic_kernels

Forward = Callable[[np.ndarray], object]


SESSION_VARIANTS: dict[str, dict[str, object]] = {
    "": {},
    ", extended optimisations": {"graph_optimization_level": GraphOptimizationLevel.ORT_ENABLE_EXTENDED},
    ", parallel executor": {"execution_mode": ExecutionMode.ORT_PARALLEL, "inter_op_num_threads": 2},
    ", denormals as zero": {},  # a session config entry, see SESSION_CONFIG
}
"""ONNX Runtime session settings tried beside the app's (the first): name suffix -> ``SessionOptions``
attributes. Extended optimisations leave out the NCHWc layouts; the parallel executor runs HRNet's branches
side by side."""
SESSION_CONFIG = {", denormals as zero": {"session.set_denormal_as_zero": "1"}}
"""Session config entries (``add_session_config_entry``) of the variants that need them."""


def ort_session(path: Path, batch: int, optimized_copy: Path | None = None, variant: str = ""):
    """A single-threaded session for a fixed ``batch``, with the settings of ``variant`` (a key of
    :data:`SESSION_VARIANTS`)."""
    options = SessionOptions()
    options.intra_op_num_threads = 1
    options.add_free_dimension_override_by_name("batch", batch)
    if optimized_copy is not None:
        options.optimized_model_filepath = str(optimized_copy)
    for name, value in SESSION_VARIANTS[variant].items():
        setattr(options, name, value)
    for key, value in SESSION_CONFIG.get(variant, {}).items():
        options.add_session_config_entry(key, value)
    return InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def quantised_copy(source: Path, target: Path, input_hw: tuple[int, int]) -> None:
    """Static INT8 QDQ quantisation of the convs, calibrated on 8 random crops."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class RandomCrops(CalibrationDataReader):
        def __init__(self) -> None:
            rng = np.random.default_rng(0)
            self._items = iter([{"x": rng.standard_normal((1, 3, *input_hw), np.float32)} for _ in range(8)])

        def get_next(self):
            return next(self._items, None)

    prepared = target.with_suffix(".pre.onnx")
    quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
    quantize_static(
        str(prepared), str(target), RandomCrops(), quant_format=QuantFormat.QDQ, per_channel=True,
        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, op_types_to_quantize=["Conv"],
    )


def compiled_forward(model: torch.nn.Module) -> Callable[[int], Forward]:
    """torch.compile (inductor) of the inference-prepared model: static shapes, DKA convs stacked."""
    prepared = prepare_for_inference(model)
    stack_dynamic_kernels(prepared)
    compiled = torch.compile(prepared, dynamic=False)

    def make(batch: int) -> Forward:
        def forward(x: np.ndarray) -> object:
            with torch.inference_mode():
                return compiled(torch.from_numpy(x))

        return forward

    return make


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="edite_hrnet_s")
    parser.add_argument("--input", nargs=2, type=int, default=[128, 96], metavar=("H", "W"))
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--compile", action="store_true", help="also torch.compile (slow to compile)")
    parser.add_argument("--openvino", action="store_true", help="also OpenVINO (pip install openvino)")
    parser.add_argument("--no-folds", action="store_true", help="export without pose.models.fold's folds")
    parser.add_argument("--app-only", action="store_true", help="skip other session settings and INT8")
    args = parser.parse_args()
    torch.set_num_threads(1)
    input_hw = tuple(args.input)
    model = create_model(args.model, input_size=input_hw).eval()
    folder = Path(tempfile.mkdtemp(prefix="cpu-backends-"))
    float_path, int8_path = folder / "float32.onnx", folder / "int8.onnx"
    float_path.write_bytes(export_onnx(model, input_hw, folds=not args.no_folds))
    if not args.app_only:
        quantised_copy(float_path, int8_path, input_hw)

    optimized = folder / "optimized.onnx"
    ort_session(float_path, 1, optimized)
    import onnx

    counts = collections.Counter(node.op_type for node in onnx.load(str(optimized)).graph.node)
    reorders = counts["ReorderInput"] + counts["ReorderOutput"]
    graph = "unfolded graph" if args.no_folds else "folded graph"
    print(f"{args.model} at {input_hw[0]}x{input_hw[1]}, {graph}: ONNX Runtime keeps {sum(counts.values())} "
          f"operators at batch 1, {reorders} of them NCHWc layout reorders")

    def onnxruntime_forward(path: Path, variant: str = "") -> Callable[[int], Forward]:
        def make(batch: int) -> Forward:
            session = ort_session(path, batch, variant=variant)
            return lambda x: session.run(None, {"x": x})

        return make

    suffixes = [""] if args.app_only else list(SESSION_VARIANTS)
    variants: dict[str, Callable[[int], Forward]] = {
        f"onnxruntime float32{suffix}": onnxruntime_forward(float_path, suffix) for suffix in suffixes
    }
    if not args.app_only:
        variants["onnxruntime int8 (QDQ)"] = onnxruntime_forward(int8_path)
    if args.compile:
        variants["torch.compile (inductor)"] = compiled_forward(model)
    if args.openvino:
        import openvino

        core = openvino.Core()

        def openvino_forward(precision: str) -> Callable[[int], Forward]:
            def make(batch: int) -> Forward:
                network = core.read_model(str(float_path))
                network.reshape({"x": [batch, 3, *input_hw]})
                settings = {"INFERENCE_NUM_THREADS": 1, "INFERENCE_PRECISION_HINT": precision}
                request = core.compile_model(network, "CPU", settings).create_infer_request()
                return lambda x: request.infer({0: x})

            return make

        version = openvino.__version__.split("-")[0]
        for precision in ("f32", "bf16"):  # bf16 runs as f32 where the CPU has no bf16 instructions
            variants[f"openvino {version} {precision}"] = openvino_forward(precision)

    header = "".join(f"{f'batch {b}':>10}" for b in args.batches)
    print(f"{'backend':<44}{header}   (median ms, 1 thread)")
    for name, make in variants.items():
        cells = []
        for size in args.batches:
            batch = np.random.default_rng(size).standard_normal((size, 3, *input_hw), np.float32)
            cells.append(median_ms(make(size), batch, repeats=20))
        print(f"{name:<44}" + "".join(f"{ms:10.1f}" for ms in cells), flush=True)


if __name__ == "__main__":
    main()
