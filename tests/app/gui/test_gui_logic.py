"""The Qt-free parts of the GUI: pacing, rate meters, click selection, settings round trip, and which parts
of the pipeline a settings change rebuilds (the model catalogue: test_catalog.py)."""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pytest

from app.core.config import DetectorConfig, ModelConfig, PipelineConfig, RenderConfig, SmootherConfig
from app.core.types import FrameResult
from app.gui.app import forget_opencv_qt
from app.gui.mailbox import Mailbox
from app.gui.pacing import RateMeter, WatchClock
from app.gui.selection import track_at
from app.gui.settings import config_from_dict


class ManualClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_watch_clock_anchors_media_time_to_the_wall_clock():
    clock = ManualClock()
    watch = WatchClock(clock)
    watch.start(media_s=2.0)
    assert watch.wait_s(2.1) == pytest.approx(0.1)
    clock.now += 0.35  # media time now 2.35
    assert watch.wait_s(2.1) == 0.0
    assert watch.is_stale(2.1, frame_interval_s=0.1)  # 2.2 is due too: 2.1 can go
    assert watch.is_stale(2.2, frame_interval_s=0.1)
    assert not watch.is_stale(2.3, frame_interval_s=0.1)  # 2.4 is not due yet: show 2.3
    watch.stop()
    assert not watch.started


def test_rate_meter_counts_events_over_its_window():
    meter = RateMeter(window_s=1.0)
    assert meter.rate(0.0) is None
    for step in range(21):
        meter.add(step * 0.1)  # 10 per second
    assert meter.rate(2.0) == pytest.approx(10.0)
    meter.add(2.1, count=3)  # a camera frame and the two it dropped
    assert meter.rate(2.1) > 10.0
    meter.reset()
    assert meter.rate(3.0) is None


def test_mailbox_keeps_only_the_newest_item_and_says_when_to_notify():
    box: Mailbox[int] = Mailbox()
    assert box.put(1) is True
    assert box.put(2) is False  # the reader was already told
    assert box.take() == 2
    assert box.take() is None


def _result(boxes: list[list[float]], ids: list[int]) -> FrameResult:
    count = len(ids)
    return FrameResult(
        frame_index=0, timestamp_s=0.0, image_hw=(100, 200), boxes=np.array(boxes, np.float32).reshape(-1, 4),
        box_scores=np.ones(count), track_ids=np.array(ids), keypoints=np.zeros((count, 17, 2)),
        scores=np.zeros((count, 17)), keypoints_smooth=np.zeros((count, 17, 2)),
    )


def test_a_click_selects_the_smallest_box_around_it():
    result = _result([[0, 0, 100, 100], [40, 40, 60, 60], [150, 0, 190, 90]], [4, 7, 9])
    assert track_at(result, 50, 50) == 7  # inside both: the smaller, front box
    assert track_at(result, 10, 10) == 4
    assert track_at(result, 170, 50) == 9
    assert track_at(result, 120, 50) is None
    assert track_at(_result([], []), 5, 5) is None


def test_settings_round_trip_and_tolerate_other_versions():
    config = PipelineConfig(model=ModelConfig(name="dite_hrnet_18", flip=False),
                            smoother=SmootherConfig(strength=0.8), render=RenderConfig(trails=True))
    assert config_from_dict(config.to_dict()) == config
    data = config.to_dict()
    data["tracker"]["a_setting_from_the_future"] = 1
    del data["detector"]
    assert config_from_dict(data) == replace(config, detector=DetectorConfig())
    data["smoother"]["strength"] = 7.0
    with pytest.raises(ValueError, match="strength"):
        config_from_dict(data)


def test_opencv_qt_paths_are_dropped_before_qt_starts(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM_PLUGIN_PATH", "/site-packages/cv2/qt/plugins")
    monkeypatch.setenv("QT_QPA_FONTDIR", "/usr/share/fonts/mine")
    forget_opencv_qt()
    assert "QT_QPA_PLATFORM_PLUGIN_PATH" not in os.environ
    assert os.environ["QT_QPA_FONTDIR"] == "/usr/share/fonts/mine"
