"""Command-line entry point: ``python main.py [gui|run|eval|train|distill|bench|info] ...``.

Argument parsing only. Each subcommand lives in its own module that defines ``add_arguments(parser)``
and ``run(args) -> int`` and imports its heavy dependencies inside ``run``, so ``main.py run`` never
loads Qt and ``main.py gui`` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import re
import sys

from pose import LOG_FORMAT

THREAD_ENVIRONMENT = {
    "GOMP_SPINCOUNT": "10000",
    "OPENBLAS_NUM_THREADS": "1",
}
"""Defaults for idle helper threads, set before torch and numpy load (a value in the environment wins; a
program importing ``app.core`` itself keeps its own). Threads that busy-wait after their work take the
cores from the pose model's ONNX Runtime crop workers:

* ``GOMP_SPINCOUNT``: torch's OpenMP threads (the detector) spin for GNU OpenMP's default 300,000 iterations,
  milliseconds, after each parallel region; 10,000 is a fraction of a millisecond.
* ``OPENBLAS_NUM_THREADS``: numpy's OpenBLAS only ever sees small matrices here (the smoother's 68x68), where
  a second thread saves nothing; numpy 1.26's OpenBLAS threads then spin (torch uses MKL, unaffected).

Measured with ``python main.py bench --quick --no-others --models edite_hrnet_s --people 1 6`` on 2 cores,
1 person, detector every frame: GOMP 300,000 -> 10,000: 57 -> 51 ms per frame (the eager model alone, batch 1:
114 -> 94 ms); then with numpy 1.26 (the ``distill`` extra's), OpenBLAS default -> 1 thread: 70 -> 53 ms."""


def _default_thread_environment() -> None:
    for name, value in THREAD_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


_default_thread_environment()

SUBCOMMANDS: dict[str, str] = {
    "gui": "app.gui.cli",
    "run": "app.core.cli.run",
    "eval": "app.core.cli.eval",
    "train": "app.core.cli.train",
    "distill": "app.core.cli.distill",
    "bench": "app.core.cli.bench",
    "info": "app.core.cli.info",
}
DEFAULT_SUBCOMMAND = "gui"
COMMAND_LIKE = re.compile(r"[a-z][a-z_-]*")
"""A default-command SOURCE that reads as a mistyped command (``main.py trian``) when no such file exists."""


def _summary(docstring: str | None) -> str:
    """A command's help line: the first paragraph of its module docstring, on one line."""
    paragraph = (docstring or "").strip().split("\n\n", 1)[0]
    return " ".join(paragraph.replace("``", "").split())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edite-pose",
        description="Real-time multi-person pose estimation with EDite-HRNet.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        summary = _summary(module.__doc__)
        sub = commands.add_parser(name, help=summary, description=summary)
        module.add_arguments(sub)
        sub.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    defaulted = not any(arg in SUBCOMMANDS for arg in argv) and not {"-h", "--help"} & set(argv)
    if defaulted:
        argv.insert(0, DEFAULT_SUBCOMMAND)
    parser = build_parser()
    args = parser.parse_args(argv)
    source = args.source if defaulted else None
    if source and COMMAND_LIKE.fullmatch(source) and not os.path.exists(source):
        parser.error(f"unknown command {source!r}: choose one of {', '.join(SUBCOMMANDS)} (or name a video, "
                     "image or folder that exists)")
    args.argv = argv  # the command line as given, for the records a command writes (distill's dataset.json)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format=LOG_FORMAT,
    )
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
