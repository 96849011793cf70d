"""SlipWatch: a person has slipped when their score is low and has fallen since their detector frame, or
when their followed crop lost them."""

from __future__ import annotations

import numpy as np

from app.core.slip_watch import SlipWatch


def _slipped(watch: SlipWatch, scores: dict[int, float], detected: bool = False, lost: tuple[int, ...] = (),
             threshold: float = 0.3) -> bool:
    ids, means = np.array(list(scores), int), np.array(list(scores.values()))
    return watch.slipped(ids, means, lost, threshold, detected)


def test_a_fall_below_the_threshold_is_a_slip_and_steady_weakness_is_not():
    watch = SlipWatch(fall=0.05)
    assert not _slipped(watch, {1: 0.6, 2: 0.2}, detected=True)
    assert not _slipped(watch, {1: 0.5, 2: 0.18})  # 1 fell but stays above 0.3; 2 is weak but steady
    assert _slipped(watch, {1: 0.25, 2: 0.2})
    assert _slipped(watch, {1: 0.6, 2: 0.1})


def test_a_detector_frame_moves_the_anchor_and_a_newcomer_anchors_on_its_first_frame():
    watch = SlipWatch(fall=0.05)
    _slipped(watch, {1: 0.6}, detected=True)
    assert not _slipped(watch, {1: 0.2}, detected=True)
    assert not _slipped(watch, {1: 0.2, 3: 0.15})
    assert _slipped(watch, {1: 0.2, 3: 0.05})


def test_a_track_lost_from_its_followed_crop_slips_once():
    watch = SlipWatch()
    _slipped(watch, {1: 0.6, 2: 0.6}, detected=True)
    assert _slipped(watch, {1: 0.6}, lost=(2,))  # the crop followed from 2's keypoints found nobody
    assert not _slipped(watch, {1: 0.6}, detected=True, lost=(2,))  # the detector did not find 2 either
    assert not _slipped(watch, {1: 0.6}, lost=(2,))  # so 2 waits for the schedule
    assert not _slipped(watch, {1: 0.6}, detected=True, lost=(1, 2))  # lost on a detector frame: gone


def test_forgotten_and_reset_tracks_start_again():
    watch = SlipWatch(fall=0.05)
    _slipped(watch, {1: 0.6, 2: 0.6}, detected=True)
    _slipped(watch, {1: 0.6}, detected=True, lost=(2,))
    watch.forget([1, 2])
    assert not _slipped(watch, {1: 0.1})  # a new track with ID 1 anchors at 0.1
    assert _slipped(watch, {1: 0.1}, lost=(2,))
    watch.reset()
    assert not _slipped(watch, {2: 0.1})
    assert _slipped(watch, {}, lost=(2,))
