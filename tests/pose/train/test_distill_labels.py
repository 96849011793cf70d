"""Labelling frames with a fake teacher: windows, erasing found persons, de-duplication, masks, boxes."""

import numpy as np
import pytest
from fake_teacher import RedBlobTeacher, paint_person

from pose.train.distill.mapping import BLAZEPOSE_TO_COCO
from pose.train.distill.proposals import (
    LabelConfig,
    PersonLabel,
    deduplicate,
    detector_windows,
    label_frame,
    tile_windows,
)


def test_tile_windows_cover_the_image_with_half_overlap():
    windows = tile_windows((300, 200), tiles=2)
    assert windows[0] == (0, 0, 300, 200)
    assert windows[1:] == [(0, 0, 200, 133), (100, 0, 300, 133), (0, 67, 200, 200), (100, 67, 300, 200)]
    assert tile_windows((300, 200), tiles=0) == [(0, 0, 300, 200)]


def test_detector_windows_are_padded_and_clipped():
    windows = detector_windows(np.array([[10, 10, 30, 50], [0, 0, 2, 2]]), (40, 60), padding=1.5)
    assert windows == [(5, 0, 35, 60)]  # the 2x2 box is too small to look at


def test_every_person_is_labelled_once_by_erasing_found_people():
    frame = np.zeros((240, 320, 3), np.uint8)
    paint_person(frame, 20, 20, 80, 200)
    paint_person(frame, 200, 40, 240, 140)
    teacher = RedBlobTeacher()
    labels = label_frame(frame, teacher, LabelConfig(min_height=10, people_per_window=3, tiles=2))
    boxes = sorted(tuple(np.round(label.box).astype(int)) for label in labels)
    assert len(labels) == 2
    assert boxes[0][:2] == (20, 20) and boxes[1][:2] == (200, 40)
    for label in labels:
        assert label.num_keypoints == 17
        assert label.mask is not None and label.mask.max() == 255
        x, y, w, h = label.box
        inside = label.keypoints[:, :2]
        assert (inside[:, 0] >= x).all() and (inside[:, 0] <= x + w).all()
        assert (inside[:, 1] >= y).all() and (inside[:, 1] <= y + h).all()


def test_keypoints_from_a_tile_are_in_frame_pixels():
    frame = np.zeros((200, 300, 3), np.uint8)
    paint_person(frame, 220, 120, 260, 190)
    config = LabelConfig(min_height=10, people_per_window=1, tiles=2)
    labels = label_frame(frame, RedBlobTeacher(), config)
    whole = label_frame(frame, RedBlobTeacher(), LabelConfig(min_height=10, people_per_window=1))
    assert len(labels) == 1 and len(whole) == 1
    np.testing.assert_allclose(labels[0].keypoints, whole[0].keypoints, atol=1.0)


def test_low_visibility_persons_are_dropped():
    frame = np.zeros((200, 200, 3), np.uint8)
    paint_person(frame, 50, 20, 120, 180)
    assert label_frame(frame, RedBlobTeacher(visibility=0.3), LabelConfig(min_height=10)) == []


def test_small_persons_are_dropped():
    frame = np.zeros((200, 200, 3), np.uint8)
    paint_person(frame, 50, 20, 70, 50)
    assert label_frame(frame, RedBlobTeacher(), LabelConfig(min_height=48)) == []


def test_a_detector_decides_where_the_teacher_looks():
    frame = np.zeros((200, 300, 3), np.uint8)
    paint_person(frame, 20, 20, 60, 180)
    paint_person(frame, 200, 20, 240, 180)
    teacher = RedBlobTeacher()
    config = LabelConfig(min_height=10)
    labels = label_frame(frame, teacher, config, detector=lambda _: np.array([[200, 20, 240, 180]]))
    assert teacher.calls == 1
    assert len(labels) == 1 and labels[0].box[0] == pytest.approx(200, abs=1)


def make_label(box: tuple[float, float, float, float], keypoints: int, score: float = 0.9) -> PersonLabel:
    points = np.zeros((17, 3), np.float32)
    points[:keypoints, 2] = 2
    return PersonLabel(points, np.array(box, np.float32), None, (0, 0), score)


def test_deduplicate_keeps_the_label_with_most_keypoints():
    full = make_label((0, 0, 100, 200), 17)
    partial = make_label((0, 0, 100, 100), 9)  # the upper half of the same person, from a tile
    other = make_label((300, 0, 100, 200), 12)
    assert deduplicate([partial, full, other], max_iou=0.5, max_ios=0.8) == [full, other]


def test_deduplicate_breaks_keypoint_ties_by_score_and_keeps_people_apart():
    weak, strong = make_label((10, 10, 50, 100), 12, 0.6), make_label((12, 10, 50, 100), 12, 0.8)
    beside = make_label((60, 10, 50, 100), 12, 0.7)  # touches neither: kept, ranked between them
    assert deduplicate([weak, beside, strong], max_iou=0.5, max_ios=0.8) == [strong, beside]
    assert deduplicate([], max_iou=0.5, max_ios=0.8) == []


def test_mapping_uses_the_eye_centres():
    assert BLAZEPOSE_TO_COCO[1:3] == (2, 5)
