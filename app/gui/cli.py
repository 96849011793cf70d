"""gui: open the desktop app (the default command), optionally with a video, image, folder or camera."""

from __future__ import annotations

import argparse

from app.core.cli.trust_flag import add_trust_weights

EXIT_NO_DISPLAY = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", nargs="?", metavar="SOURCE",
                        help="video file, image, folder of images, or camera index to open and play")
    parser.add_argument("--settings", metavar="FILE",
                        help="keep the settings in this INI file instead of the user's (e.g. for demos)")
    add_trust_weights(parser)


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from app.gui.qt_platform import platform_problem

    problem = platform_problem(os.environ)  # before Qt loads: its message names neither cause nor fix
    if problem:
        print(f"edite-pose gui: {problem}", file=sys.stderr)
        return EXIT_NO_DISPLAY
    from app.gui.app import run_app

    return run_app(args.source, args.settings, trust_weights=args.trust_weights)
