"""``abuse_validate.py FOLDER EXPRESSION``: exit 0 when EXPRESSION (Python, over ``d`` = FOLDER) is true.

The helpers below read what one case of ``abuse.sh`` left in its folder: ``out.csv`` (every row whole),
``out.meta.json``, ``out.mp4`` (decoded with PyAV, H.264), or the partial files a killed run leaves.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import av

from app.core.sinks import COLUMNS


def _rows(path: Path) -> list[list[str]]:
    text = path.read_text()
    assert text.endswith("\n"), f"{path.name} does not end with a whole line"
    header, *rows = list(csv.reader(text.splitlines()))
    assert tuple(header) == COLUMNS, f"{path.name}: wrong header"
    assert all(len(row) == len(COLUMNS) for row in rows), f"{path.name}: a row is cut"
    return rows


def csv_frames(d: Path, name: str = "out.csv") -> int:
    """Distinct frames in the CSV, after checking every row is whole."""
    return len({row[0] for row in _rows(d / name)})


def meta(d: Path) -> dict:
    return json.loads((d / "out.meta.json").read_text())  # strict JSON: Infinity would not parse back


def outcome(d: Path, ended: str, signal: str | None = None) -> bool:
    recorded = meta(d)["outcome"]
    return recorded["ended"] == ended and recorded["signal"] == signal


def _decode(path: Path) -> tuple[str, list[float], float, tuple[int, int]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times = [float(frame.pts * frame.time_base) for frame in container.decode(stream)]
        size = (stream.codec_context.width, stream.codec_context.height)
        duration = (container.duration or 0) / av.time_base  # None in a killed run's partial file
        return stream.codec_context.name, times, duration, size


def video_frames(d: Path, name: str = "out.mp4") -> int:
    codec, times, _, _ = _decode(d / name)
    assert codec == "h264", f"{name} is {codec}, not h264"
    return len(times)


def video_size(d: Path) -> tuple[int, int]:
    return _decode(d / "out.mp4")[3]


def h264_like_source(d: Path, frames: int, duration_s: float) -> bool:
    """H.264 with the source's frame count and a duration within one frame of it."""
    codec, times, duration, _ = _decode(d / "out.mp4")
    return codec == "h264" and len(times) == frames and abs(duration - duration_s) <= duration_s / frames


def said_once(d: Path, word: str) -> bool:
    return sum(word in line for line in (d / "stderr").read_text().splitlines()) == 1


def no_partials(d: Path) -> bool:
    return not list(d.glob("*.partial-*"))


def killed_partials_valid(d: Path) -> bool:
    """After SIGKILL: no final files, the partial CSV whole up to its last line, the partial MP4 playable."""
    (partial_csv,) = d.glob("out.partial-*.csv")
    (partial_mp4,) = d.glob("out.partial-*.mp4")
    return (not (d / "out.csv").exists() and csv_frames(d, partial_csv.name) >= 60
            and video_frames(d, partial_mp4.name) >= 20)


if __name__ == "__main__":
    folder, expression = Path(sys.argv[1]), sys.argv[2]
    sys.exit(0 if eval(expression, globals(), {"d": folder}) else 1)
