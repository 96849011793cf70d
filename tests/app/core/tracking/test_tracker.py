"""Tracker: people crossing or briefly hidden keep their IDs; ages in seconds; IDs counted per tracker."""

from __future__ import annotations

import numpy as np
import pytest
from scripted_people import ARMS_UP, STANDING, Scene, ScriptedPerson, relay, walking

from app.core.config import TrackerConfig
from app.core.tracking.tracker import Tracker, pose_centre


def _observe(scene: Scene, t: float, rng: np.random.Generator, noise_px: float = 2.0):
    """Boxes, keypoints, scores of the people visible at t, and which scene person each row is."""
    people = [(i, p) for i, p in enumerate(scene.people) if p.visible(t)]
    order = rng.permutation(len(people))  # detectors return people in no particular order
    people = [people[j] for j in order]
    boxes = np.array([p.box_at(t) for _, p in people]).reshape(-1, 4)
    keypoints = np.array([p.keypoints(t) + rng.normal(0, noise_px, (17, 2)) for _, p in people])
    keypoints = keypoints.reshape(-1, 17, 2)
    scores = np.full((len(people), 17), 0.9)
    return boxes, keypoints, scores, [i for i, _ in people]


def _track(
    scene: Scene, frames: int, config: TrackerConfig | None = None, seed: int = 0
) -> dict[int, set[int]]:
    """Run a tracker over the scene; the set of IDs each scene person was reported under."""
    tracker, rng = Tracker(config), np.random.default_rng(seed)
    ids: dict[int, set[int]] = {i: set() for i in range(len(scene.people))}
    for index in range(frames):
        t = scene.time_of(index)
        boxes, keypoints, scores, who = _observe(scene, t, rng)
        update = tracker.update(t, boxes, keypoints, scores)
        for row, person in enumerate(who):
            if update.confirmed[row]:
                ids[person].add(int(update.ids[row]))
    return ids


def _assert_one_id_each(ids: dict[int, set[int]]) -> None:
    """Every person was reported under exactly one ID, and no two people share one."""
    assert all(len(person_ids) == 1 for person_ids in ids.values()), ids
    assert len(set.union(*ids.values())) == len(ids), ids


def _crossing(template_b: np.ndarray, hidden_s: tuple[float, float] | None = None) -> Scene:
    """A walks right, B walks left, 10 px lower; they meet at t = 2.75 s in the middle of the frame."""
    a = ScriptedPerson(walking((100, 240), (80, 0)))
    b = ScriptedPerson(walking((540, 250), (-80, 0)), template=template_b)
    if hidden_s is not None:
        b.visible = lambda t: not hidden_s[0] <= t <= hidden_s[1]
    return Scene([a, b], fps=10.0)


@pytest.mark.parametrize("template_b", [STANDING, ARMS_UP], ids=["same-pose", "different-pose"])
def test_two_people_crossing_keep_their_ids(template_b):
    _assert_one_id_each(_track(_crossing(template_b), frames=60))


@pytest.mark.parametrize("template_b", [STANDING, ARMS_UP], ids=["same-pose", "different-pose"])
def test_person_hidden_behind_another_while_crossing_keeps_id(template_b):
    # B is invisible for 0.7 s (7 frames) while passing behind A, then reappears on the other side.
    _assert_one_id_each(_track(_crossing(template_b, hidden_s=(2.4, 3.1)), frames=60))


@pytest.mark.parametrize("seed", range(5))
def test_crossing_survives_noise_and_detection_order(seed):
    _assert_one_id_each(_track(_crossing(STANDING, hidden_s=(2.5, 2.9)), frames=60, seed=seed))


@pytest.mark.parametrize("fps", [10.0, 30.0])
def test_max_age_is_in_seconds_not_frames(fps):
    config = TrackerConfig(max_age_s=1.0)
    short_gap = ScriptedPerson(walking((300, 240), (20, 0)), visible=lambda t: not 1.0 <= t < 1.8)
    long_gap = ScriptedPerson(walking((300, 240), (20, 0)), visible=lambda t: not 1.0 <= t < 2.5)
    frames = int(4 * fps)
    assert _track(Scene([short_gap], fps=fps), frames, config) == {0: {1}}
    ids = _track(Scene([long_gap], fps=fps), frames, config)[0]
    assert len(ids) == 2  # the track ended; the person came back under a new ID


def test_new_track_is_confirmed_after_enough_hits():
    tracker = Tracker(TrackerConfig(confirm_hits=3))
    first = ScriptedPerson(walking((100, 240), (0, 0)))
    late = ScriptedPerson(walking((400, 240), (0, 0)))
    rng = np.random.default_rng(0)
    boxes, keypoints, scores, _ = _observe(Scene([first]), 0.0, rng)
    assert tracker.update(0.0, boxes, keypoints, scores).confirmed.tolist() == [True]  # the very first frame
    confirmed_late = []
    for index in range(1, 5):
        t = index / 10
        boxes, keypoints, scores, who = _observe(Scene([first, late]), t, rng)
        update = tracker.update(t, boxes, keypoints, scores)
        confirmed_late.append(bool(update.confirmed[who.index(1)]))
    assert confirmed_late == [False, False, True, True]


def test_tentative_track_missed_once_ends():
    tracker = Tracker(TrackerConfig(confirm_hits=3))
    rng = np.random.default_rng(0)
    still = Scene([ScriptedPerson(walking((100, 240), (0, 0)))])
    tracker.update(0.0, *_observe(still, 0.0, rng)[:3])
    newcomer = Scene([still.people[0], ScriptedPerson(walking((400, 240), (0, 0)))])
    tentative = tracker.update(0.1, *_observe(newcomer, 0.1, rng)[:3])
    assert set(tentative.ids.tolist()) == {1, 2}
    gone = tracker.update(0.2, *_observe(still, 0.2, rng)[:3])
    assert gone.ended == (2,)
    assert gone.lost == ()


def test_a_person_found_twice_keeps_their_id_when_the_copy_matches_better():
    """A stale detector box gives one person a second, tentative track a few pixels off; when only one pose
    is left and it sits nearer the copy, the confirmed track still takes it (issue: vtest, #47 -> #50)."""
    tracker = Tracker(TrackerConfig(confirm_hits=3))
    person = Scene([ScriptedPerson(walking((300, 240), (0, 0)))])
    boxes, keypoints, scores, _ = _observe(person, 0.0, np.random.default_rng(0), noise_px=0.0)
    shift = np.array([8.0, 0.0])  # pixels: the copy is nearer the last pose
    shifted = (boxes + np.tile(shift, 2), keypoints + shift, scores)
    assert tracker.update(0.0, boxes, keypoints, scores).ids.tolist() == [1]
    twice = tracker.update(0.1, np.concatenate([boxes, shifted[0]]), np.concatenate([keypoints, shifted[1]]),
                           np.concatenate([scores, scores]))
    assert twice.ids.tolist() == [1, 2] and twice.confirmed.tolist() == [True, False]
    once = tracker.update(0.2, *shifted)
    assert once.ids.tolist() == [1] and once.confirmed.tolist() == [True] and once.ended == (2,)


def test_confirmed_track_missing_is_lost_then_ended():
    tracker = Tracker(TrackerConfig(max_age_s=0.5))
    scene = Scene([ScriptedPerson(walking((100, 240), (0, 0)))])
    rng = np.random.default_rng(0)
    tracker.update(0.0, *_observe(scene, 0.0, rng)[:3])
    nobody = (np.zeros((0, 4)), np.zeros((0, 17, 2)), np.zeros((0, 17)))
    assert tracker.update(0.5, *nobody).lost == (1,)  # unseen for exactly max_age_s: still alive
    assert tracker.active_ids == (1,)
    finished = tracker.update(0.6, *nobody)
    assert finished.ended == (1,)
    assert tracker.active_ids == ()


def test_each_tracker_counts_its_own_ids():
    scene = relay()
    rng = np.random.default_rng(0)
    first, second = Tracker(), Tracker()
    for index in range(6):
        t = scene.time_of(index)
        observed = _observe(scene, t, rng)[:3]
        a, b = first.update(t, *observed), second.update(t, *observed)
        assert a.ids.tolist() == b.ids.tolist()
    assert sorted(a.ids.tolist()) == [3, 4] and a.confirmed.all()
    first.reset()
    assert first.active_ids == ()
    t = scene.time_of(6)
    observed = _observe(scene, t, rng)[:3]
    assert sorted(first.update(t, *observed).ids.tolist()) == [1, 2]
    assert sorted(second.update(t, *observed).ids.tolist()) == [3, 4]


def test_empty_frames_are_fine():
    update = Tracker().update(0.0, np.zeros((0, 4)), np.zeros((0, 17, 2)), np.zeros((0, 17)))
    assert update.ids.shape == (0,) and update.confirmed.shape == (0,)


@pytest.mark.parametrize(("iou_weight", "min_similarity"), [(0.0, 0.2), (1.0, 0.5)],
                         ids=["keypoints-only", "boxes-only"])
def test_a_fast_walker_keeps_one_id_by_either_similarity_alone(iou_weight, min_similarity):
    # 20 px per frame, a third of the box width: each similarity term must count on its own, and boxes alone
    # match at 0.5 only when the prediction moves them along x (not y).
    scene = Scene([ScriptedPerson(walking((60, 240), (200, 0)))], fps=10.0)
    tracker = Tracker(TrackerConfig(iou_weight=iou_weight, min_similarity=min_similarity))
    rng = np.random.default_rng(0)
    times = map(scene.time_of, range(15))
    ids = [tracker.update(t, *_observe(scene, t, rng)[:3]).ids.tolist() for t in times]
    assert ids == [[1]] * 15


def test_pose_centre_weighs_confident_keypoints_and_falls_back_to_the_box():
    box = np.array([0.0, 0.0, 100.0, 200.0])
    keypoints = np.array([[10.0, 20.0], [30.0, 60.0], [500.0, 500.0]])
    scores = np.array([0.9, 0.3, 0.1])
    np.testing.assert_allclose(pose_centre(box, keypoints, scores, min_score=0.2), [15.0, 30.0])
    np.testing.assert_allclose(pose_centre(box, keypoints, scores, min_score=0.95), [50.0, 100.0])
