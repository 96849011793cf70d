"""Training throughput (images/s): optimizer steps of each model, and the augmentation pipeline alone.

The step measurement feeds a fixed batch of real augmented crops from tests/data/coco_tiny to
``pose.train.engine.train_step`` (forward, JointsMSELoss, backward, Adam), so it is the model's cost; the
pipeline measurement runs ``TopDownTrainingSet`` (read, flip / half-body / scale / rotation, warp,
targets) in one process, so it is the per-worker data cost. Report the load average with the numbers: on
a shared CPU they move with it.

    python tests/benchmarks/train_throughput.py --models edite_hrnet_s edite_hrnet_l --batch 8 --steps 5
    python tests/benchmarks/train_throughput.py --device cuda --batch 32 --steps 200
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402

from pose.estimator import resolve_device  # noqa: E402
from pose.models.registry import create_model  # noqa: E402
from pose.skeleton import COCO  # noqa: E402
from pose.train.config import AugmentConfig  # noqa: E402
from pose.train.datasets import load_person_samples  # noqa: E402
from pose.train.engine import train_step  # noqa: E402
from pose.train.loader import TopDownTrainingSet  # noqa: E402
from pose.train.loss import JointsMSELoss  # noqa: E402

TINY = REPO_ROOT / "tests" / "data" / "coco_tiny"


def training_set(input_size: tuple[int, int]) -> TopDownTrainingSet:
    spec = create_model("edite_hrnet_tiny", input_size=input_size).spec
    samples = load_person_samples(TINY / "person_keypoints.json", TINY, COCO, aspect_ratio=spec.aspect_ratio)
    return TopDownTrainingSet(samples, spec, COCO, AugmentConfig(), seed=0)


def real_batch(dataset: TopDownTrainingSet, batch_size: int) -> dict[str, torch.Tensor]:
    """``batch_size`` augmented crops (cycling over the fixture's people)."""
    items = [dataset[(i // len(dataset), i % len(dataset))] for i in range(batch_size)]
    return {key: torch.stack([torch.from_numpy(item[key]) for item in items]) for key in items[0]}


def step_throughput(
    name: str, batch: dict[str, torch.Tensor], args: argparse.Namespace
) -> tuple[float, float]:
    """(seconds per step, images per second) of ``args.steps`` timed steps after ``args.warmup``."""
    device = resolve_device(args.device)
    torch.manual_seed(0)
    model = create_model(name, input_size=tuple(args.input_size)).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    scaler = torch.amp.GradScaler(device.type, enabled=args.amp and device.type == "cuda")
    loss_fn = JointsMSELoss()
    batch = {key: value.to(device) for key, value in batch.items()}
    for _ in range(args.warmup):
        train_step(model, batch, loss_fn, optimizer, scaler)
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(args.steps):
        train_step(model, batch, loss_fn, optimizer, scaler)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - started) / args.steps
    return seconds, len(batch["image"]) / seconds


def pipeline_throughput(dataset: TopDownTrainingSet, count: int) -> float:
    """Augmented samples per second in one process."""
    started = time.perf_counter()
    for i in range(count):
        dataset[(1 + i // len(dataset), i % len(dataset))]
    return count / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=["edite_hrnet_s", "edite_hrnet_l"])
    parser.add_argument("--batch", type=int, default=8, help="images per step (the recipe uses 32 per GPU)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per model")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    parser.add_argument("--input-size", type=int, nargs=2, default=[256, 192], metavar=("H", "W"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    parser.add_argument("--amp", action="store_true", help="float16 autocast (CUDA only), as training does")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    dataset = training_set(tuple(args.input_size))
    batch = real_batch(dataset, args.batch)
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} CPUs; "
          f"torch threads {torch.get_num_threads()}; torch {torch.__version__}")
    print(f"augmentation pipeline: {pipeline_throughput(dataset, 40):.1f} samples/s per worker process")
    print(f"{'model':<18} {'device':<6} {'input':<8} {'batch':>5} {'s/step':>8} {'images/s':>9}")
    for name in args.models:
        seconds, rate = step_throughput(name, batch, args)
        size = "x".join(map(str, args.input_size))
        print(f"{name:<18} {args.device:<6} {size:<8} {args.batch:>5} {seconds:>8.2f} {rate:>9.2f}")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
