"""train: train a pose model on a COCO-format keypoint dataset (the paper's recipe, from a TOML config)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pose.train.config import TrainConfig
    from pose.train.engine import TrainResult

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130
DEFAULT_RUNS_DIR = Path("runs")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="CONFIG",
                        help="a TOML config file, the name of a shipped one in pose/train/configs "
                             "(e.g. edite_hrnet_s_coco_256x192), or a run's saved config.json")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help=f"run folder for checkpoints and logs (default {DEFAULT_RUNS_DIR}/CONFIG_NAME, "
                             "or the folder of a saved config.json)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its last.pt (weights, optimizer, schedule, "
                             "RNG); --config OUT/config.json continues it with its own config")
    parser.add_argument("--device", default="auto",
                        help="auto (CUDA when available), cpu, cuda or cuda:N (default auto)")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="data-loading processes (config: train.workers)")
    parser.add_argument("--data-root", metavar="DIR", help="dataset folder (config: data.root)")
    parser.add_argument("--max-steps", type=int, metavar="N",
                        help="stop after N optimizer steps in total, then validate (smoke runs)")
    parser.add_argument("--max-minutes", type=float, metavar="M",
                        help="stop once M minutes have passed (checked between steps), then validate and "
                             "save (a time budget, e.g. on a lent GPU)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", dest="overrides",
                        help="override one config value, e.g. --set train.batch_size=16 (repeatable)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (e.g. for log files)")


def build_config(args: argparse.Namespace) -> TrainConfig:
    """The config file updated by ``--workers``, ``--data-root`` and ``--set`` (applied in that order)."""
    from pose.train.config import load_config, parse_override

    overrides = {}
    if args.workers is not None:
        overrides["train.workers"] = args.workers
    if args.data_root is not None:
        overrides["data.root"] = args.data_root
    overrides.update(parse_override(text) for text in args.overrides)
    return load_config(args.config, overrides)


def run(args: argparse.Namespace) -> int:
    from pose.estimator import resolve_device
    from pose.train.engine import RunOptions, train

    if args.max_steps is not None and args.max_steps < 1:
        print(f"error: --max-steps must be >= 1, got {args.max_steps}", file=sys.stderr)
        return EXIT_ERROR
    if args.max_minutes is not None and not 0 < args.max_minutes < float("inf"):
        print(f"error: --max-minutes must be a number > 0, got {args.max_minutes}", file=sys.stderr)
        return EXIT_ERROR
    try:
        device = resolve_device(args.device)
    except RuntimeError as error:  # CUDA asked for but absent
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    out_dir = args.out or _default_out_dir(Path(args.config))
    try:
        options = RunOptions(out_dir=out_dir, device=str(device), resume=args.resume,
                             max_steps=args.max_steps, max_minutes=args.max_minutes,
                             progress=not args.no_progress)
        result = train(build_config(args), options)
    except (ValueError, OSError, RuntimeError) as error:  # ConfigError, DatasetError, a process failed...
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"interrupted: continue with --resume --out {out_dir}", file=sys.stderr)
        return EXIT_INTERRUPTED
    _print_summary(result)
    return 0


def _default_out_dir(config: Path) -> Path:
    """A saved run config's own folder, else ``runs/<config name>``."""
    return config.parent if config.suffix == ".json" else DEFAULT_RUNS_DIR / config.stem


def _print_summary(result: TrainResult) -> None:
    print(f"trained {result.epoch} epochs, {result.iteration} iterations: {result.out_dir}")
    if result.metrics:
        print("last validation: " + ", ".join(f"{k} {v:.2f}" for k, v in result.metrics.items()))
    from pose.train.engine import BEST_WEIGHTS

    best = result.out_dir / BEST_WEIGHTS
    if result.best_metric is not None and best.is_file():
        print(f"best {result.best_metric:.2f}: {best}")
