"""Screenshot of ``python main.py gui CLIP`` on a virtual X screen (Xvfb), captured from the X server.

Starts Xvfb (unless ``--display`` names a running one), runs the real command ``python main.py gui CLIP`` with
its own settings file, waits, grabs the whole X screen with FFmpeg's x11grab into a PNG, and closes the app.
Not collected by pytest.

    python tests/benchmarks/gui_screenshot.py [CLIP] [--out gui.png] [--wait 40] [--model edite_hrnet_s]
        [--weights FILE] [--detector hog] [--flip] [--threads 1]

Without trained weights a model's keypoint scores are near zero; then the pose-score and keypoint-score
floors are set to 0 so that its (meaningless) skeletons are drawn. With ``--weights`` the app's defaults are
kept.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from app.core.config import PipelineConfig  # noqa: E402  (needs the repository root on sys.path)
from app.gui.settings import AppSettings  # noqa: E402

DEFAULT_CLIP = REPO_ROOT / "assets" / "samples" / "pedestrians.mp4"
SCREEN = (1600, 1000)
X_START_TIMEOUT_S = 10.0


def settings_for(args: argparse.Namespace) -> PipelineConfig:
    config = PipelineConfig()
    model = replace(config.model, name=args.model, weights=args.weights, device="cpu", flip=args.flip)
    config = replace(config, model=model, detector=replace(config.detector, name=args.detector))
    if args.weights is None:  # random weights score ~0: draw whatever they output
        config = replace(config, detector=replace(config.detector, min_pose_score=0.0),
                         render=replace(config.render, min_score=0.0))
    return config


def start_xvfb(display: str) -> subprocess.Popen:
    screen = f"{SCREEN[0]}x{SCREEN[1]}x24"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", screen, "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    socket = Path(f"/tmp/.X11-unix/X{display.lstrip(':')}")
    deadline = time.monotonic() + X_START_TIMEOUT_S
    while not socket.exists():
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"Xvfb {display} did not start (is {socket} taken by another server?)")
        time.sleep(0.1)
    return server


def grab_screen(display: str, out: Path) -> None:
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "x11grab", "-video_size", f"{SCREEN[0]}x{SCREEN[1]}",
         "-i", display, "-frames:v", "1", str(out)],
        check=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", nargs="?", default=str(DEFAULT_CLIP), help="video to open (default: sample)")
    parser.add_argument("--out", default="gui_screenshot.png", help="PNG to write")
    parser.add_argument("--wait", type=float, default=40.0, help="seconds between launch and capture")
    parser.add_argument("--model", default="edite_hrnet_s")
    parser.add_argument("--weights", default=None)
    parser.add_argument("--detector", default="hog", choices=("auto", "yolo", "hog", "none"))
    parser.add_argument("--flip", action="store_true", help="flip test on (twice the pose cost)")
    parser.add_argument("--threads", type=int, default=None, help="OMP_NUM_THREADS for the app")
    parser.add_argument("--display", default=None, help="use this running X display instead of a new Xvfb")
    args = parser.parse_args()

    out = Path(args.out).resolve()
    display = args.display or ":97"
    server = None if args.display else start_xvfb(display)
    with tempfile.TemporaryDirectory() as folder:
        settings_path = Path(folder) / "settings.ini"
        settings = AppSettings.at(settings_path)
        settings.set_pipeline_config(settings_for(args))
        settings.sync()
        env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
        if args.threads:
            env["OMP_NUM_THREADS"] = str(args.threads)
        command = [sys.executable, "main.py", "gui", args.clip, "--settings", str(settings_path)]
        print("running:", " ".join(command), f"(DISPLAY={display})")
        app = subprocess.Popen(command, cwd=REPO_ROOT, env=env)
        try:
            time.sleep(args.wait)  # a demo script, not a test: give the app time to draw frames
            if app.poll() is not None:
                raise SystemExit(f"the app exited early with code {app.returncode}")
            grab_screen(display, out)
        finally:
            app.terminate()
            app.wait()
            if server is not None:
                server.terminate()
                server.wait()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
