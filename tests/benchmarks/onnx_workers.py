"""How :class:`pose.runtime.OnnxForward` spends the CPU: ONNX Runtime's intra-op threads vs whole crops on
worker threads, and the generic dynamic-batch session vs sessions specialised to one batch size.

    python tests/benchmarks/onnx_workers.py [--model edite_hrnet_s] [--input 128 96] [--batches 1 2 4 6 12]

Prints the median milliseconds per forward pass of each variant and batch (random weights: the cost does
not depend on them).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pose.models.registry import create_model
from pose.runtime import OnnxForward, export_onnx


def intra_op_forward(data: bytes, threads: int, specialised: bool = False):
    """Plain ONNX Runtime: one session that splits each operator over ``threads`` threads; ``specialised``:
    one session per batch size, its batch dimension fixed."""
    import onnxruntime

    def session(batch: int | None):
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if batch is not None:
            options.add_free_dimension_override_by_name("batch", batch)
        return onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])

    sessions = {}

    def forward(batch: np.ndarray) -> np.ndarray:
        size = len(batch) if specialised else None
        if size not in sessions:
            sessions[size] = session(size)
        return sessions[size].run(None, {"x": batch})[0]

    return forward


def median_ms(forward, batch: np.ndarray, repeats: int, settle_s: float = 0.0) -> float:
    """Median milliseconds of ``forward(batch)`` after 3 warm-up calls and ``settle_s`` seconds of waiting
    (time for background work, such as specialised ONNX sessions being built, to finish)."""
    for _ in range(3):
        forward(batch)
    time.sleep(settle_s)
    forward(batch)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        forward(batch)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds) * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="edite_hrnet_s")
    parser.add_argument("--input", nargs=2, type=int, default=[128, 96], metavar=("H", "W"))
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 2, 4, 6, 12])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    model = create_model(args.model, input_size=tuple(args.input)).eval()
    data = export_onnx(model, tuple(args.input))
    variants = {
        "intra-op, 1 thread": intra_op_forward(data, 1),
        "intra-op, 1 thread, specialised": intra_op_forward(data, 1, specialised=True),
        f"intra-op, {args.threads} threads": intra_op_forward(data, args.threads),
        f"{args.threads} crop workers, generic": OnnxForward(model, args.threads, specialise=False),
        f"{args.threads} crop workers, specialised": OnnxForward(model, args.threads),
    }
    print(f"{args.model} at {args.input[0]}x{args.input[1]}: median ms per forward pass")
    print(f"{'variant':<34}" + "".join(f"{f'batch {b}':>10}" for b in args.batches))
    for name, forward in variants.items():
        cells = []
        for size in args.batches:
            batch = np.random.default_rng(size).standard_normal((size, 3, *args.input), np.float32)
            cells.append(median_ms(forward, batch, args.repeats, settle_s=3.0))
        print(f"{name:<34}" + "".join(f"{ms:10.1f}" for ms in cells), flush=True)


if __name__ == "__main__":
    main()
