"""Frame sources: one contract over every implementation, then what each kind promises on its own."""

from __future__ import annotations

import itertools
import socket
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from support import REPO_ROOT

from app.core.sources import (
    CameraSource,
    FrameSource,
    ImageSource,
    SourceError,
    StreamSource,
    VideoFileSource,
    is_url,
    make_source,
    open_source,
)

CLIP = REPO_ROOT / "assets" / "samples" / "pedestrians.mp4"
VFR_CLIP = REPO_ROOT / "tests" / "data" / "app" / "vfr_12frames.mp4"


class EndlessCapture:
    """A camera that delivers a new 48x64 frame whenever asked, numbered in its first pixel."""

    def __init__(self, index: int) -> None:
        self.count = 0
        self.released = False

    def isOpened(self) -> bool:
        return True

    def read(self):
        self.count += 1
        image = np.zeros((48, 64, 3), np.uint8)
        image[0, 0, 0] = self.count % 256
        return True, image

    def get(self, prop: int) -> float:
        return 30.0 if prop == cv2.CAP_PROP_FPS else 0.0

    def release(self) -> None:
        self.released = True


def _write_images(folder: Path, names: list[str]) -> list[np.ndarray]:
    folder.mkdir(exist_ok=True)
    images = []
    for value, name in enumerate(names):
        image = np.full((40, 30, 3), 10 * value, np.uint8)
        cv2.imwrite(str(folder / name), image)
        images.append(image)
    return images


@pytest.fixture(params=["video", "vfr-video", "image", "images", "camera"])
def source(request, tmp_path) -> FrameSource:
    kind = request.param
    if kind == "video":
        return VideoFileSource(CLIP)
    if kind == "vfr-video":
        return VideoFileSource(VFR_CLIP)
    if kind == "image":
        _write_images(tmp_path, ["one.png"])
        return ImageSource(tmp_path / "one.png")
    if kind == "images":
        _write_images(tmp_path / "seq", ["a1.png", "a2.png", "a3.png", "a4.png"])
        return ImageSource(tmp_path / "seq", fps=5.0)
    return CameraSource(3, capture_factory=EndlessCapture)


# -- the contract every source keeps -------------------------------------------------------------------
def test_source_contract(source: FrameSource):
    with pytest.raises(SourceError, match="not open"):
        _ = source.info
    with source as opened:
        assert opened is source
        info = source.info
        assert info.size[0] > 0 and info.size[1] > 0
        assert info.fps is None or info.fps > 0
        assert info.is_live == (info.frame_count is None)
        frames = []
        while len(frames) < 5 and (frame := source.read()) is not None:
            frames.append(frame)
        assert frames, "a source delivers at least one frame"
        for i, frame in enumerate(frames):
            assert frame.index == i
            assert frame.image.dtype == np.uint8 and frame.image.ndim == 3 and frame.image.shape[2] == 3
            assert frame.size == info.size
        times = [frame.timestamp_s for frame in frames]
        assert times[0] >= 0 and all(b > a for a, b in itertools.pairwise(times))
        if not info.is_live:
            assert source.dropped_frames == 0
            rest = list(source)
            assert len(frames) + len(rest) == info.frame_count
            assert source.read() is None
    source.close()  # closing twice is harmless
    with pytest.raises(SourceError, match="not open"):
        source.read()


# -- video files ---------------------------------------------------------------------------------------
def test_video_timestamps_come_from_the_container():
    with VideoFileSource(VFR_CLIP) as source:
        times = [round(frame.timestamp_s, 3) for frame in source]
    # 10 fps with a 0.6 s pause after frame 5; a nominal-fps clock (7.06 fps) would put frame 6 at 0.85 s.
    assert times == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6]


def test_video_reports_size_rate_and_count():
    with VideoFileSource(CLIP) as source:
        assert source.size == (640, 480)
        assert source.fps == pytest.approx(10.0)
        assert source.frame_count == 50
        assert not source.is_live


def test_missing_video_names_the_file(tmp_path):
    missing = tmp_path / "nope.mp4"
    with pytest.raises(SourceError, match=r"cannot open video '.*nope\.mp4': no such file"):
        VideoFileSource(missing).open()


def test_file_that_is_not_a_video_is_refused(tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n" * 100)
    with pytest.raises(SourceError, match="not a video file"):
        VideoFileSource(fake).open()


def test_truncated_video_fails_after_its_good_frames(tmp_path):
    truncated = tmp_path / "cut.mp4"
    data = CLIP.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    frames = []
    with VideoFileSource(truncated) as source, pytest.raises(SourceError, match="truncated"):
        for frame in source:
            frames.append(frame)
    assert 0 < len(frames) < 50


# -- images --------------------------------------------------------------------------------------------
def test_image_folder_plays_in_natural_order_at_the_given_rate(tmp_path):
    images = _write_images(tmp_path, ["f10.png", "f2.png", "f1.png"])
    with ImageSource(tmp_path, fps=4.0) as source:
        frames = list(source)
    assert [int(frame.image[0, 0, 0]) for frame in frames] == [int(images[i][0, 0, 0]) for i in (2, 1, 0)]
    assert [frame.timestamp_s for frame in frames] == [0.0, 0.25, 0.5]


def _write_sized(folder: Path, sizes: list[tuple[int, int]]) -> None:
    folder.mkdir(exist_ok=True)
    for index, (height, width) in enumerate(sizes):
        cv2.imwrite(str(folder / f"p{index}.png"), np.full((height, width, 3), index, np.uint8))


def test_a_folder_is_one_scene_until_an_image_changes_size(tmp_path):
    _write_sized(tmp_path, [(40, 30), (40, 30), (50, 30), (50, 30), (40, 30)])
    with ImageSource(tmp_path) as source:
        assert [frame.new_scene for frame in source] == [False, False, True, False, True]


def test_photos_make_every_image_a_new_scene_but_the_first(tmp_path):
    _write_sized(tmp_path, [(40, 30)] * 3)
    with make_source(tmp_path, photos=True).open() as source:
        assert [frame.new_scene for frame in source] == [False, True, True]
        assert source.fps == 1.0  # one photo a second unless a rate is given
    with ImageSource(tmp_path, photos=True) as source:  # reopened: the first image is no new scene again
        assert [frame.new_scene for frame in source] == [False, True, True]


@pytest.mark.parametrize("spec", [0, "rtsp://127.0.0.1:8554/cam", str(CLIP)])
def test_only_images_can_be_photos(spec):
    with pytest.raises(SourceError, match="is a video, camera or stream: only an image or a folder of"):
        make_source(spec, photos=True)


def test_empty_folder_and_unreadable_image_are_named(tmp_path):
    with pytest.raises(SourceError, match="holds no images"):
        ImageSource(tmp_path).open()
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(SourceError, match=r"cannot read image '.*broken\.png'"):
        ImageSource(tmp_path).open()


# -- cameras -------------------------------------------------------------------------------------------
def test_camera_that_does_not_open_is_named():
    class Closed(EndlessCapture):
        def isOpened(self) -> bool:
            return False

    with pytest.raises(SourceError, match="cannot open camera 5"):
        CameraSource(5, capture_factory=Closed).open()


def test_real_camera_index_without_camera_is_named():
    with pytest.raises(SourceError, match="cannot open camera 97"):
        CameraSource(97).open()


class GatedCapture(EndlessCapture):
    """A camera that delivers a frame only when the test says so; the first frame is free (read on open)."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.permits = threading.Semaphore(1)
        self.calls = threading.Condition()
        self.read_calls = 0

    def read(self):
        with self.calls:
            self.read_calls += 1
            self.calls.notify_all()
        self.permits.acquire()
        return super().read()

    def deliver(self, frames: int) -> None:
        """Let ``frames`` frames through, returning once the capture thread has stored each of them."""
        for _ in range(frames):
            with self.calls:
                target = self.read_calls + 1
            self.permits.release()
            with self.calls:
                assert self.calls.wait_for(lambda target=target: self.read_calls >= target, timeout=5)


def test_camera_hands_over_the_latest_frame_and_counts_drops():
    captures: list[GatedCapture] = []

    def factory(index: int) -> GatedCapture:
        captures.append(GatedCapture(index))
        return captures[-1]

    with CameraSource(0, capture_factory=factory) as camera:
        assert camera.read().image[0, 0, 0] == 1
        captures[0].deliver(4)  # four frames arrive while the consumer is busy
        frame = camera.read()
        assert frame.image[0, 0, 0] == 5  # the newest one
        assert frame.index == 1
        assert camera.dropped_frames == frame.dropped_frames == 3
        captures[0].permits.release()  # let the capture thread finish
    assert captures[0].released


def test_camera_that_stops_delivering_raises():
    class Unplugged(EndlessCapture):
        def read(self):
            return (False, None) if self.count else super().read()

    with CameraSource(0, capture_factory=Unplugged) as camera:
        camera.read()
        with pytest.raises(SourceError, match="stopped delivering"):
            camera.read()


# -- choosing the source -------------------------------------------------------------------------------
def test_make_source_picks_the_implementation(tmp_path):
    (tmp_path / "still.jpg").write_bytes(b"")
    assert isinstance(make_source(0), CameraSource)
    assert isinstance(make_source("1"), CameraSource)
    assert isinstance(make_source(tmp_path), ImageSource)
    assert isinstance(make_source(str(tmp_path / "still.jpg")), ImageSource)
    assert isinstance(make_source(str(CLIP)), VideoFileSource)


# -- URLs and awkward paths (issue 14) -------------------------------------------------------------------
@pytest.mark.parametrize(("spec", "live"), [("rtsp://127.0.0.1:8554/cam", True),
                                            ("RTSP://user:pw@host/a", True),
                                            ("http://127.0.0.1:8000/clip.mp4", False),
                                            ("https://example.invalid/x", False)])
def test_urls_are_streams_kept_as_typed(spec, live):
    source = make_source(spec)
    assert isinstance(source, StreamSource) and source.spec == spec and source.url == spec
    assert source._is_live(frame_count=100) is live


@pytest.mark.parametrize("spec", ["clip.mp4", "C:/videos/a.mp4", "file.rtsp", "notascheme://x", "rtsp:/one"])
def test_paths_are_not_urls(spec):
    assert not is_url(spec)


def test_a_refused_loopback_stream_names_the_url():
    port = _free_loopback_port()
    with pytest.raises(SourceError, match=f"cannot open stream 'http://127.0.0.1:{port}/x.mp4': no answer"):
        open_source(f"http://127.0.0.1:{port}/x.mp4")


def _free_loopback_port() -> int:
    with socket.socket() as probe:  # bound then closed: nothing listens there afterwards
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_300_character_name_is_one_clear_error(tmp_path):
    with pytest.raises(SourceError, match="file name is too long"):
        open_source(tmp_path / ("v" * 300 + ".mp4"))
    with pytest.raises(SourceError, match="file name is too long"):
        VideoFileSource(tmp_path / ("v" * 300 + ".mp4")).open()
