"""Overlay: drawn on a copy, keypoints coloured by confidence, weak ones left out, boxes labelled, trails."""

from __future__ import annotations

import numpy as np
from scripted_people import pose_in_box

from app.core.config import RenderConfig
from app.core.render import Renderer, confidence_colour, track_colour
from app.core.types import Frame, FrameResult

BOX = np.array([100.0, 40.0, 180.0, 240.0])


def _result(
    scores: np.ndarray | None = None, box: np.ndarray = BOX, t: float = 0.0, index: int = 0
) -> FrameResult:
    keypoints = pose_in_box(box)[None]
    frame = Frame(image=np.zeros((300, 400, 3), np.uint8), index=index, timestamp_s=t)
    return FrameResult(
        frame_index=frame.index, timestamp_s=t, image_hw=(300, 400), boxes=box[None], box_scores=[0.9],
        track_ids=[4], keypoints=keypoints, scores=np.full((1, 17), 0.95) if scores is None else scores[None],
        keypoints_smooth=keypoints,
    )


def test_draws_on_a_copy():
    image = np.zeros((300, 400, 3), np.uint8)
    drawn = Renderer().draw(image, _result())
    assert drawn is not image and drawn.shape == image.shape and drawn.dtype == np.uint8
    assert not image.any()
    assert drawn.any()


def test_nothing_to_draw_gives_an_identical_copy():
    image = np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    frame = Frame(image=image, index=0, timestamp_s=0.0)
    drawn = Renderer().draw(image, FrameResult.empty(frame))
    assert drawn is not image
    np.testing.assert_array_equal(drawn, image)


def test_keypoints_are_coloured_by_confidence_and_weak_ones_left_out():
    scores = np.full(17, 0.95)
    scores[0], scores[15] = 0.35, 0.1  # nose barely above min_score, left ankle below it
    config = RenderConfig(boxes=False, min_score=0.3)
    drawn = Renderer(config).draw(np.zeros((300, 400, 3), np.uint8), _result(scores))
    keypoints = pose_in_box(BOX).round().astype(int)
    confident_bgr = drawn[keypoints[9, 1], keypoints[9, 0]]  # left wrist, 0.95
    weak_bgr = drawn[keypoints[0, 1], keypoints[0, 0]]  # nose, 0.35
    assert tuple(confident_bgr) == confidence_colour(0.95, 0.3)
    assert tuple(weak_bgr) == confidence_colour(0.35, 0.3)
    assert confident_bgr[1] > confident_bgr[2] and weak_bgr[2] > weak_bgr[1]  # green vs red
    ankle = keypoints[15]
    assert not drawn[ankle[1] - 2: ankle[1] + 3, ankle[0] - 2: ankle[0] + 3].any()  # not drawn at all


def test_box_is_drawn_in_the_track_colour_with_its_id():
    drawn = Renderer(RenderConfig(skeleton=False)).draw(np.zeros((300, 400, 3), np.uint8), _result())
    assert tuple(drawn[200, 100]) == track_colour(4)  # left edge of the box
    label_area = drawn[20:40, 100:130]
    assert (label_area == track_colour(4)).all(axis=2).any()  # the label background above the box


def test_trails_follow_each_person():
    renderer = Renderer(RenderConfig(trails=True, skeleton=False, boxes=False, trail_s=1.0))
    blank = np.zeros((300, 400, 3), np.uint8)
    for step in range(5):
        moved = BOX + np.array([30.0, 0.0, 30.0, 0.0]) * step
        drawn = renderer.draw(blank, _result(box=moved, t=step * 0.1, index=step))
    feet_y = int(BOX[3])
    assert drawn[feet_y, 140:260].any(axis=1).all()  # the path walked from x=140 to x=260
    without = Renderer(RenderConfig(trails=False, skeleton=False, boxes=False)).draw(blank, _result())
    assert not without.any()
