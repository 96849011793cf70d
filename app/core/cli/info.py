"""info: parameters, GMACs and CPU latency of a pose model, beside the figures its paper prints, and
the runtime the app uses on this machine (timed once per machine and weights, then cached:
pose.runtime_autotune)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pose.models.spec import PaperFigures

EXIT_USAGE = 2
RUNTIME_CHOICES = ("auto", "onnx", "openvino", "openvino-bf16", "torch", "eager")
"""``--runtime`` values of run, bench and info: :data:`pose.runtime.RUNTIMES` (not imported here, so that
parsing arguments does not load torch)."""
_INPUT_PATTERN = re.compile(r"^(\d+)x(\d+)$")
PAPER_NOTE = (
    "note: papers truncate (1.187 M params is printed 1.1 M) and their tools count each module once; "
    "GMACs here count every executed conv/matmul, fuse layers that run twice included."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="registered model name (see the error for the list)")
    parser.add_argument("--input", default=None,
                        help="input size HxW, e.g. 256x192 (default: the shipped weights' size, as the app "
                             "runs them; the model's own without shipped weights)")
    parser.add_argument("--device", default="cpu", help="device for the latency run: cpu (default) or cuda")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: PyTorch's choice)")
    parser.add_argument("--repeats", type=int, default=20, help="timed forward passes (default 20)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed forward passes first (default 10)")
    parser.add_argument("--runtime", default="auto", choices=RUNTIME_CHOICES,
                        help="CPU runtime to report (default auto: the one the app picks on this machine, "
                             "with the shipped weights; the first run times them all, about a minute)")
    parser.add_argument("--json", action="store_true", help="end the output with one JSON object")


def add_runtime_argument(parser: argparse.ArgumentParser) -> None:
    """``--runtime`` as run and bench take it."""
    parser.add_argument("--runtime", default="auto", choices=RUNTIME_CHOICES,
                        help="how the pose model runs on the CPU (default auto: the fastest accurate runtime "
                             "on this machine, timed on first use and cached; see main.py info)")


@dataclass(frozen=True)
class ModelInfo:
    """Everything ``info`` reports about one model at one input size."""

    model: str
    input_size: tuple[int, int]
    params: int
    macs: int
    latency_ms: float
    latency_p90_ms: float
    threads: int
    device: str
    paper: PaperFigures | None
    runtime: RuntimeReport | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "model": self.model,
            "input": f"{self.input_size[0]}x{self.input_size[1]}",
            "params": self.params,
            "params_m": round(self.params / 1e6, 4),
            "gflops": round(self.macs / 1e9, 4),
            "latency_ms": round(self.latency_ms, 2),
            "latency_p90_ms": round(self.latency_p90_ms, 2),
            "threads": self.threads,
            "device": self.device,
            "paper_params_m": None if self.paper is None else self.paper.params_m,
            "paper_gflops": None if self.paper is None else self.paper.gflops,
            "paper_source": None if self.paper is None else self.paper.source,
            "runtime": None if self.runtime is None else self.runtime.name,
            "runtime_ms_per_crop": None if self.runtime is None else round(self.runtime.ms_per_crop, 2),
        }


@dataclass(frozen=True)
class RuntimeReport:
    """The CPU runtime and its milliseconds per crop, with how it was chosen and the weights it ran."""

    name: str
    ms_per_crop: float
    how: str
    weights: str


def parse_input_size(text: str) -> tuple[int, int]:
    """``"256x192"`` -> ``(256, 192)`` (height, width); raises ValueError naming the expected form."""
    match = _INPUT_PATTERN.match(text.strip())
    if not match:
        raise ValueError(f"--input {text!r} is not HxW, e.g. 256x192")
    return int(match.group(1)), int(match.group(2))


def _fail(message: str) -> int:
    print(f"edite-pose info: {message}", file=sys.stderr)
    return EXIT_USAGE


def _format_text(info: ModelInfo) -> str:
    height, width = info.input_size
    if info.paper is None:
        paper_heading, paper_params, paper_gflops = f"paper: none recorded at {height}x{width}", "", ""
    else:
        paper_heading = f"paper ({info.paper.source})"
        paper_params = f"{info.paper.params_m} M"
        paper_gflops = f"{info.paper.gflops} G (printed as GFLOPs)"
    rows = [
        f"model        {info.model}",
        f"input        {height}x{width} (H x W), batch 1",
        f"{'':13}{'measured':>12}   {paper_heading}",
        f"{'parameters':13}{info.params / 1e6:>10.3f} M   {paper_params}",
        f"{'GMACs':13}{info.macs / 1e9:>10.3f} G   {paper_gflops}",
        f"{'latency':13}{info.latency_ms:>9.1f} ms   median of the eager PyTorch model; p90 "
        f"{info.latency_p90_ms:.1f} ms ({info.device}, threads: {info.threads})",
        PAPER_NOTE,
    ]
    if info.runtime is not None:
        report = info.runtime
        rows.insert(-1, f"{'runtime':13}{report.name}: {report.ms_per_crop:.1f} ms per crop ({report.how}; "
                        f"{report.weights}; threads: {info.threads})")
    return "\n".join(row.rstrip() for row in rows)


def _runtime_report(
    model_name: str, weights: str | None, input_size: tuple[int, int], runtime: str, repeats: int
) -> RuntimeReport:
    """The runtime the app would use for ``model_name`` with ``weights`` (None: random ones) on this CPU
    (``"auto"``) or a forced one, timed on the calibration crops."""
    from pose.models import create_model
    from pose.runtime_autotune import autotune, time_runtime

    model = create_model(model_name, weights=weights, input_size=input_size)
    described = f"weights {Path(weights).name}" if weights else "random weights"
    if runtime == "auto":
        choice = autotune(model)
        others = ", ".join(f"{trial.runtime} {trial.ms_per_crop:.1f}" for trial in choice.trials
                           if trial.runtime != choice.runtime and trial.ms_per_crop is not None)
        how = "chosen on this machine" + (", cached" if choice.cached else "")
        how += f"; {others}" if others else ""
        return RuntimeReport(choice.runtime, choice.ms_per_crop, how, described)
    trial = time_runtime(model, runtime, repeats)
    if trial.ms_per_crop is None:
        raise ValueError(f"--runtime {runtime}: {trial.note}")
    how = "forced by --runtime" + ("" if trial.accepted else f", {trial.note}")
    return RuntimeReport(runtime, trial.ms_per_crop, how, described)


def run(args: argparse.Namespace) -> int:
    import torch

    from app.core.weights import resolve_weights
    from pose.models import create_model, list_models
    from pose.models.complexity import count_macs, count_parameters, measure_latency

    if args.model not in list_models():
        return _fail(f"unknown model {args.model!r}; choose one of: {', '.join(list_models())}")
    if args.device not in ("cpu", "cuda") or (args.device == "cuda" and not torch.cuda.is_available()):
        return _fail(f"device {args.device!r} is not available here; use cpu")
    if args.repeats < 1:
        return _fail(f"--repeats must be at least 1, got {args.repeats}")
    if args.threads is not None and args.threads < 1:
        return _fail(f"--threads must be at least 1, got {args.threads}")
    if args.threads:
        torch.set_num_threads(args.threads)
    model = create_model(args.model, device=args.device)
    default_spec = model.spec
    try:
        weights, weights_size = resolve_weights(args.model, None)
        default_size = weights_size or default_spec.input_size
        input_size = default_size if args.input is None else parse_input_size(args.input)
        model.spec = default_spec.at_input_size(*input_size)
    except ValueError as error:
        return _fail(str(error))
    latency = measure_latency(model, input_size, warmup=args.warmup, repeats=args.repeats)
    runtime = None
    if args.device == "cpu":
        try:
            runtime = _runtime_report(args.model, weights, input_size, args.runtime, args.repeats)
        except ValueError as error:
            return _fail(str(error))
    info = ModelInfo(
        model=args.model,
        input_size=input_size,
        params=count_parameters(model),
        macs=count_macs(model, input_size),
        latency_ms=latency.median_ms,
        latency_p90_ms=latency.p90_ms,
        threads=latency.threads,
        device=latency.device,
        paper=default_spec.paper_at(input_size),
        runtime=runtime,
    )
    print(_format_text(info))
    if args.json:
        print(json.dumps(info.as_json()))
    return 0
