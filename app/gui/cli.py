"""gui: open the desktop app (the default command), optionally with a video, image, folder or camera."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", nargs="?", metavar="SOURCE",
                        help="video file, image, folder of images, or camera index to open and play")
    parser.add_argument("--settings", metavar="FILE",
                        help="keep the settings in this INI file instead of the user's (e.g. for demos)")


def run(args: argparse.Namespace) -> int:
    from app.gui.app import run_app

    return run_app(args.source, args.settings)
