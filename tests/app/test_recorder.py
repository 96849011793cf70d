"""Video recorder: one recorded frame per processed frame, readable afterwards, live timing, back-pressure."""

from __future__ import annotations

import logging
import threading

import cv2
import numpy as np
import pytest

from app.core.errors import SinkError
from app.core.sinks import VideoRecorder
from app.core.sinks import recorder as recorder_module
from app.core.types import Frame, FrameResult, PipelineInfo, RunInfo, SourceInfo

SIZE = (96, 64)  # width, height


def _info(fps: float | None = 12.0, live: bool = False) -> RunInfo:
    source = SourceInfo(spec="test", kind="camera" if live else "video", size=SIZE, fps=fps,
                        frame_count=None if live else 10, is_live=live)
    pipeline = PipelineInfo(model="m", weights=None, weights_sha256=None, device="cpu", flip=True, half=False,
                            detector="d", detector_description="d", detector_is_fallback=False,
                            detector_notice=None, detect_every=1)
    return RunInfo(source=source, pipeline=pipeline)


def _frame(index: int, timestamp_s: float | None = None) -> tuple[Frame, FrameResult]:
    image = np.full((SIZE[1], SIZE[0], 3), (index * 20) % 256, np.uint8)
    frame = Frame(image=image, index=index, timestamp_s=index / 12 if timestamp_s is None else timestamp_s)
    return frame, FrameResult.empty(frame)


def _read_back(path) -> tuple[int, float, tuple[int, int]]:
    capture = cv2.VideoCapture(str(path))
    frames = 0
    while capture.read()[0]:
        frames += 1
    fps = capture.get(cv2.CAP_PROP_FPS)
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    capture.release()
    return frames, fps, size


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_records_one_frame_per_processed_frame(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    with VideoRecorder(path).open(_info()) as recorder:
        for index in range(10):
            frame, result = _frame(index)
            recorder.write(frame, result, annotated=frame.image)
    assert recorder.frames_written == 10
    assert _read_back(path) == (10, pytest.approx(12.0), SIZE)


def test_mp4_uses_h264_or_says_which_fallback(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="app.core.sinks.recorder")
    recorder = VideoRecorder(tmp_path / "out.mp4").open(_info())
    recorder.close()
    assert (recorder.fourcc, recorder.codec) in {("avc1", "H.264"), ("mp4v", "MPEG-4 Part 2")}
    warned = any("no H.264 encoder" in message for message in caplog.messages)
    assert warned == (recorder.fourcc != "avc1")


def test_live_recording_keeps_real_time(tmp_path):
    # Processed at 0, 0.1 and 0.5 s at 10 fps: slots 0, 1 and 5, so frame 1 is held for slots 2-4.
    path = tmp_path / "live.mp4"
    with VideoRecorder(path).open(_info(fps=10.0, live=True)) as recorder:
        for index, t in enumerate([0.0, 0.1, 0.5]):
            frame, result = _frame(index, t)
            recorder.write(frame, result, annotated=frame.image)
    assert recorder.frames_written == 6
    assert _read_back(path)[0] == 6


def test_file_stays_playable_when_the_run_fails(tmp_path):
    path = tmp_path / "crash.mp4"
    with pytest.raises(RuntimeError, match="boom"), VideoRecorder(path).open(_info()) as recorder:
        for index in range(4):
            recorder.write(*_frame(index))
        raise RuntimeError("boom")
    assert _read_back(path)[0] == 4


def test_frames_of_another_size_are_resized(tmp_path):
    path = tmp_path / "resized.mp4"
    with VideoRecorder(path).open(_info()) as recorder:
        image = np.zeros((SIZE[1] * 2, SIZE[0] * 2, 3), np.uint8)
        frame = Frame(image=image, index=0, timestamp_s=0.0)
        recorder.write(frame, FrameResult.empty(frame), annotated=image)
    assert _read_back(path) == (1, pytest.approx(12.0), SIZE)


def test_live_recording_drops_and_counts_when_the_writer_falls_behind(tmp_path, monkeypatch):
    class StuckWriter:
        """Blocks in write() until let go, like a slow disk."""

        def __init__(self) -> None:
            self.entered, self.go = threading.Event(), threading.Event()

        def write(self, image) -> None:
            self.entered.set()
            assert self.go.wait(5)

        def release(self) -> None:
            pass

    stuck = StuckWriter()
    monkeypatch.setattr(recorder_module, "open_writer", lambda path, fps, size: (stuck, "test", "stuck"))
    recorder = VideoRecorder(tmp_path / "slow.mp4", queue_frames=1).open(_info(fps=10.0, live=True))
    recorder.write(*_frame(0, 0.0))
    assert stuck.entered.wait(5)  # the writer thread is busy with frame 0
    recorder.write(*_frame(1, 0.1))  # waits in the queue
    recorder.write(*_frame(2, 0.2))  # no room: dropped and counted
    assert recorder.dropped_frames == 1
    stuck.go.set()
    recorder.close()
    assert recorder.frames_written == 2


@pytest.mark.parametrize(("name", "message"), [("out.mkv", "use a .mp4"), ("nope/out.mp4", "does not exist")])
def test_bad_output_path_is_named(tmp_path, name, message):
    with pytest.raises(SinkError, match=message):
        VideoRecorder(tmp_path / name).open(_info())
