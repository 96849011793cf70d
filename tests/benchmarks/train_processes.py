"""Training images/s of the real run per layout: processes x threads and batch size, same data.

Each layout (``PROCESSESxTHREADS:BATCH``) runs ``main.py train`` on a labelled set (e.g. the one ``main.py
distill`` writes) with the shipped LSPET recipe, logs images/s every few steps, and is stopped with Ctrl-C
once enough were logged (so no validation runs); the first log row (start-up, first batches) is left out of
the median. Data loading is in the measurement. Pause any other training while it runs. Not collected
by pytest.

    python tests/benchmarks/train_processes.py --data-root data/lspet_yolo [--layouts 1x1:16 1x2:64 2x1:64]
        [--input-size 256 192]
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from pose.runtime_autotune import cpu_name  # noqa: E402  (needs the repository root on sys.path)

CONFIG = REPO_ROOT / "pose" / "train" / "distill" / "configs" / "edite_hrnet_s_lspet_128x96.toml"
LOG_EVERY = 4
"""Steps between two images/s rows."""


def images_per_s(
    data_root: Path, processes: int, threads: int, batch: int, rows: int, out: Path,
    input_size: tuple[int, int] | None = None,
) -> list[float]:
    """The images/s rows of a run with ``processes`` x ``threads`` at ``batch`` (and ``(height, width)``
    ``input_size``, else the recipe's), stopped after ``rows`` + 1 rows."""
    command = [
        sys.executable, str(REPO_ROOT / "main.py"), "train", "--config", str(CONFIG), "--out", str(out),
        "--device", "cpu", "--no-progress", "--data-root", str(data_root),
        "--set", "data.train_annotations=annotations/train.json", "--set", "data.train_images=images",
        "--set", "data.val_annotations=annotations/val.json", "--set", "data.val_images=images",
        "--set", f"train.processes={processes}", "--set", f"train.threads={threads}",
        "--set", f"train.batch_size={batch}",
        "--set", f"train.log_interval={LOG_EVERY}",
    ]
    if input_size is not None:
        command += ["--set", f"model.input_size=[{input_size[0]}, {input_size[1]}]"]
    run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    scalars = out / "scalars.csv"
    values: list[float] = []
    while len(values) < rows + 1 and run.poll() is None:
        time.sleep(1.0)
        if scalars.is_file():
            with scalars.open() as handle:
                values = [float(row["value"]) for row in csv.DictReader(handle)
                          if row["tag"] == "train/images_per_s"]
    if run.poll() is not None:
        raise RuntimeError(f"the run ended early: {run.stderr.read().strip().splitlines()[-1:]}")
    run.send_signal(signal.SIGINT)
    run.wait()
    return values[1:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, required=True,
                        help="folder with annotations/train.json, annotations/val.json and images/")
    parser.add_argument("--layouts", nargs="+", default=["1x1:16", "1x2:64", "2x1:64"],
                        help="PROCESSESxTHREADS:BATCH per layout (default: the recipes of sessions 4, 5 "
                             "and 6: 1x1:16 1x2:64 2x1:64)")
    parser.add_argument("--input-size", type=int, nargs=2, metavar=("HEIGHT", "WIDTH"),
                        help="network input size (default: the recipe's, 128 96)")
    parser.add_argument("--rows", type=int, default=5,
                        help=f"images/s rows per layout, {LOG_EVERY} steps each")
    args = parser.parse_args()
    size = "x".join(map(str, args.input_size)) if args.input_size else "its input size"
    print(f"{cpu_name()}, {os.cpu_count()} cpus, {CONFIG.name} at {size}, "
          f"load average {os.getloadavg()[0]:.1f} at start")
    for layout in args.layouts:
        shape, batch = layout.split(":")
        processes, threads = (int(part) for part in shape.split("x"))
        with tempfile.TemporaryDirectory() as out:
            rates = images_per_s(args.data_root, processes, threads, int(batch), args.rows, Path(out) / "run",
                                 args.input_size)
        rows = ", ".join(f"{rate:.1f}" for rate in rates)
        print(f"{processes} process(es) x {threads} thread(s), batch {batch}: median "
              f"{statistics.median(rates):.2f} images/s ({rows})")
    print(f"load average {os.getloadavg()[0]:.1f} at end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
