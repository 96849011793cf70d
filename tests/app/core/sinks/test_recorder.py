"""Video recorder: H.264 read back with PyAV (codec, frames, times, duration), padding, fallback, drops."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

import av
import cv2
import numpy as np
import pytest

from app.core.errors import SinkError
from app.core.sinks import VideoRecorder, encoders
from app.core.sinks import recorder as recorder_module
from app.core.sinks.recorder import even_size, fit_frame
from app.core.types import Frame, FrameResult, PipelineInfo, RunInfo, SourceInfo

SIZE = (96, 64)  # width, height


def _info(fps: float | None = 12.0, live: bool = False) -> RunInfo:
    source = SourceInfo(spec="test", kind="camera" if live else "video", size=SIZE, fps=fps,
                        frame_count=None if live else 10, is_live=live)
    pipeline = PipelineInfo(model="m", weights=None, weights_sha256=None, device="cpu", flip=True, half=False,
                            runtime="onnx", runtime_ms_per_crop=4.5, runtime_tuning=False,
                            detector="d", detector_description="d", detector_is_fallback=False,
                            detector_notice=None, detect_every=1, redetect_score=0.35,
                            min_pose_score=0.2, scores_from_weights=False)
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


def _probe(path) -> tuple[str, int, float, tuple[int, int], list[float]]:
    """Read a recording back with PyAV: codec, decoded frames, duration (s), size, frame times (s)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times = [float(frame.pts * frame.time_base) for frame in container.decode(stream)]
        codec, size = stream.codec_context.name, (stream.codec_context.width, stream.codec_context.height)
        duration = container.duration / av.time_base
    return codec, len(times), duration, size, times


def test_mp4_is_h264_with_the_source_timestamps_and_duration(tmp_path):
    # Variable frame rate: the gaps (0.1 s, then 0.25 s, ...) must survive, as the CSV's time_s has them.
    times = [0.0, 0.1, 0.35, 0.4, 0.9, 1.0]
    path = tmp_path / "vfr.mp4"
    with VideoRecorder(path).open(_info(fps=10.0)) as recorder:
        for index, t in enumerate(times):
            recorder.write(*_frame(index, t))
    assert (recorder.codec, recorder.encoder) == ("H.264", "libx264")
    codec, frames, duration, size, seen = _probe(path)
    assert (codec, frames, size) == ("h264", len(times), SIZE)
    assert seen == pytest.approx(times, abs=1e-4)
    assert abs(duration - (times[-1] + 0.1)) <= 0.1  # within one frame of the source's length


def test_falls_back_to_mp4v_only_when_pyav_cannot_encode_and_says_so_once(tmp_path, monkeypatch, caplog):
    def no_encoder(path, fps, size):
        raise av.error.EncoderNotFoundError(0, "libx264")

    monkeypatch.setattr(encoders, "PyAvEncoder", no_encoder)
    caplog.set_level(logging.WARNING, logger="app.core.sinks.encoders")
    with VideoRecorder(tmp_path / "out.mp4").open(_info()) as recorder:
        for index in range(3):
            recorder.write(*_frame(index))
    assert (recorder.codec, recorder.encoder) == ("MPEG-4 Part 2", "mp4v")
    warnings = [message for message in caplog.messages if "PyAV cannot open an H.264 encoder" in message]
    assert len(warnings) == 1 and "mp4v" in warnings[0]
    assert _read_back(tmp_path / "out.mp4")[0] == 3


def test_odd_sizes_are_padded_not_cropped_and_said_once(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="app.core.sinks.recorder")
    info = _info()
    info = replace(info, source=replace(info.source, size=(17, 13)))
    image = np.zeros((13, 17, 3), np.uint8)
    image[:, -1] = 255  # the last column and row must survive (cropping to 16x12 would lose them)
    image[-1, :] = 255
    path = tmp_path / "odd.mp4"
    with VideoRecorder(path).open(info) as recorder:
        for index in range(3):
            frame = Frame(image=image, index=index, timestamp_s=index / 12)
            recorder.write(frame, FrameResult.empty(frame), annotated=image)
    assert recorder.size == (18, 14) and even_size((17, 13)) == (18, 14)
    padded = [message for message in caplog.messages if "padded" in message]
    assert padded == ["recording 17x13 padded to 18x14 (H.264 needs even sizes)"]
    with av.open(str(path)) as container:
        decoded = next(container.decode(video=0)).to_ndarray(format="bgr24")
    assert decoded.shape == (14, 18, 3)
    assert decoded[6, 16:].mean() > 200 and decoded[12, 2:10].mean() > 200  # the edge pixels repeated


def test_live_recording_keeps_real_time(tmp_path):
    # Processed at 0, 0.1 and 0.5 s: the file shows frame 1 until 0.5 s, as it happened.
    path = tmp_path / "live.mp4"
    with VideoRecorder(path).open(_info(fps=10.0, live=True)) as recorder:
        for index, t in enumerate([3.0, 3.1, 3.5]):  # a camera's clock need not start at 0
            recorder.write(*_frame(index, t))
    assert recorder.frames_written == 3
    assert _probe(path)[4] == pytest.approx([0.0, 0.1, 0.5], abs=1e-4)


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


def test_an_image_of_another_shape_is_letterboxed_not_stretched():
    tall = np.full((40, 10, 3), 200, np.uint8)
    fitted = fit_frame(tall, (40, 20), (40, 20))  # a 10x40 image in a 40x20 recording
    assert fitted.shape == (20, 40, 3)
    columns = np.flatnonzero(fitted[10, :, 0] == 200)
    assert (columns.min(), columns.max()) == (17, 21)  # 5 px wide, centred
    assert (fitted[:, :17] == 0).all() and (fitted[:, 22:] == 0).all()


def test_live_recording_drops_and_counts_when_the_writer_falls_behind(tmp_path, monkeypatch):
    class StuckEncoder:
        """Blocks in write() until let go, like a slow disk."""

        codec = encoder = "stuck"

        def __init__(self) -> None:
            self.entered, self.go = threading.Event(), threading.Event()

        def write(self, image, timestamp_s) -> int:
            self.entered.set()
            assert self.go.wait(5)
            return 1

        def close(self) -> None:
            pass

    stuck = StuckEncoder()
    monkeypatch.setattr(recorder_module, "open_encoder", lambda path, fps, size, real_time: stuck)
    recorder = VideoRecorder(tmp_path / "slow.mp4", queue_frames=1).open(_info(fps=10.0, live=True))
    recorder.write(*_frame(0, 0.0))
    assert stuck.entered.wait(5)  # the writer thread is busy with frame 0
    recorder.write(*_frame(1, 0.1))  # waits in the queue
    recorder.write(*_frame(2, 0.2))  # no room: dropped and counted
    assert recorder.dropped_frames == 1
    stuck.go.set()
    recorder.close()
    assert recorder.frames_written == 2


@pytest.mark.parametrize(("name", "message"), [("out.xyz", "use a .mp4, .m4v, .mov, .avi"),
                                               ("nope/out.mp4", "does not exist")])
def test_bad_output_path_is_named(tmp_path, name, message):
    with pytest.raises(SinkError, match=message):
        VideoRecorder(tmp_path / name).open(_info())


def test_a_run_with_no_frame_leaves_no_empty_file_and_keeps_an_earlier_one(tmp_path):
    path = tmp_path / "earlier.mp4"
    path.write_bytes(b"an earlier recording")
    VideoRecorder(path).open(_info()).close()
    assert path.read_bytes() == b"an earlier recording"
    assert [p.name for p in tmp_path.iterdir()] == ["earlier.mp4"]
