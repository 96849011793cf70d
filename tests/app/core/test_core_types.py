"""Frozen results and configs at the boundaries: shapes checked, arrays read-only, settings validated."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError

import numpy as np
import pytest

from app.core.config import DetectorConfig, PipelineConfig, RenderConfig, SmootherConfig, TrackerConfig
from app.core.types import STAGES, Frame, FrameResult


def _result(people: int = 2, **changes) -> FrameResult:
    fields = {
        "frame_index": 3, "timestamp_s": 0.1, "image_hw": (48, 64),
        "boxes": np.zeros((people, 4)), "box_scores": np.ones(people), "track_ids": np.arange(1, people + 1),
        "keypoints": np.zeros((people, 17, 2)), "scores": np.ones((people, 17)),
        "keypoints_smooth": np.zeros((people, 17, 2)), "timings_ms": {"pose": 5.0},
    }
    return FrameResult(**{**fields, **changes})


def test_frame_result_normalises_types_and_freezes_arrays():
    result = _result()
    assert result.boxes.dtype == np.float32 and result.track_ids.dtype == np.int64
    assert result.num_people == 2
    with pytest.raises(ValueError, match="read-only"):
        result.keypoints[0, 0, 0] = 1.0
    with pytest.raises(FrozenInstanceError):
        result.frame_index = 4
    assert list(result.timings_ms) == list(STAGES)
    assert result.timings_ms["pose"] == 5.0 and result.timings_ms["detect"] == 0.0


def test_frame_result_rejects_mismatched_rows_and_shapes():
    with pytest.raises(ValueError, match="track_ids"):
        _result(track_ids=np.arange(3))
    with pytest.raises(ValueError, match="keypoints"):
        _result(keypoints=np.zeros((2, 17, 3)))


def test_with_timings_replaces_only_named_stages():
    result = _result().with_timings(read=1.5, render=2.0)
    timings = result.timings_ms
    assert (timings["read"], timings["render"], timings["pose"]) == (1.5, 2.0, 5.0)
    with pytest.raises(ValueError, match="unknown timing stage"):
        result.with_timings(decode=1.0)


def test_empty_result_of_a_frame():
    frame = Frame(image=np.zeros((48, 64, 3), np.uint8), index=7, timestamp_s=0.7)
    empty = FrameResult.empty(frame)
    assert frame.size == (64, 48)
    assert (empty.frame_index, empty.timestamp_s, empty.image_hw, empty.num_people) == (7, 0.7, (48, 64), 0)
    assert empty.keypoints.shape == (0, 17, 2)


@pytest.mark.parametrize("bad", [
    lambda: DetectorConfig(detect_every=0),
    lambda: DetectorConfig(confidence=1.5),
    lambda: DetectorConfig(keypoint_box_padding=0.9),
    lambda: TrackerConfig(max_age_s=0),
    lambda: TrackerConfig(confirm_hits=0),
    lambda: SmootherConfig(strength=2.0),
    lambda: RenderConfig(keypoints="fuzzy"),
])
def test_configs_refuse_invalid_settings(bad):
    with pytest.raises(ValueError, match="must be"):
        bad()


def test_pipeline_config_is_plain_json_data():
    data = PipelineConfig().to_dict()
    assert json.loads(json.dumps(data)) == data
    assert set(data) == {"model", "detector", "tracker", "smoother", "render"}
