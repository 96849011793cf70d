"""The distillation dataset: footage parsing, COCO writing, and a build with a fake teacher that the
training pipeline's own reader accepts."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from fake_teacher import PERSON_COLOUR, RedBlobTeacher

from pose.skeleton import COCO
from pose.train.datasets import load_person_samples
from pose.train.distill.build import BuildConfig, build_dataset, cut_out, is_real_frame, load_backgrounds
from pose.train.distill.coco import CocoWriter
from pose.train.distill.proposals import LabelConfig, PersonLabel
from pose.train.distill.sources import Footage, parse_footage


def test_parse_footage_with_and_without_a_frame_range():
    assert parse_footage("clip.mp4", every=3) == Footage(Path("clip.mp4"), 0, None, 3)
    assert parse_footage("a@b/clip.mp4@10:50") == Footage(Path("a@b/clip.mp4"), 10, 50, 1)
    assert parse_footage("clip.mp4@:20") == Footage(Path("clip.mp4"), 0, 20, 1)
    with pytest.raises(ValueError, match="START:STOP"):
        parse_footage("clip.mp4@x:y")
    with pytest.raises(ValueError, match="every"):
        parse_footage("clip.mp4", every=0)


def write_video(path: Path, frames: list[np.ndarray]) -> Path:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def scene_with_person(x: int, width: int = 160, height: int = 120) -> np.ndarray:
    frame = np.full((height, width, 3), 90, np.uint8)
    frame[20:100, x : x + 24] = PERSON_COLOUR
    return frame


def test_footage_frames_honour_range_and_step(tmp_path):
    video = write_video(tmp_path / "clip.avi", [scene_with_person(10 + i) for i in range(10)])
    indices = [index for index, _ in Footage(video, start=2, stop=9, every=3).frames()]
    assert indices == [2, 5, 8]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        next(Footage(tmp_path / "missing.mp4").frames())


def test_coco_writer_output_is_read_by_the_training_dataset(tmp_path):
    writer = CocoWriter(tmp_path, "train")
    image_id = writer.add_image(np.zeros((100, 80, 3), np.uint8), "frame_0")
    keypoints = np.zeros((17, 3), np.float32)
    keypoints[:5] = [(30, 20, 2), (32, 18, 2), (28, 18, 2), (35, 19, 0), (25, 19, 2)]
    writer.add_person(image_id, keypoints, np.array([20, 10, 30, 80]), area=1500.0)
    content = json.loads(writer.write().read_text())
    annotation = content["annotations"][0]
    assert annotation["num_keypoints"] == 4 and annotation["keypoints"][9:12] == [0, 0, 0]
    assert annotation["bbox"] == [20, 10, 30, 80] and annotation["area"] == 1500.0
    assert content["categories"][0]["keypoints"] == list(COCO.keypoints)
    samples = load_person_samples(tmp_path / "annotations/train.json", tmp_path / "images", COCO,
                                  aspect_ratio=0.75)
    assert len(samples) == 1 and samples[0].visible.sum() == 4


def test_cut_out_aligns_mask_and_keypoints_with_the_box():
    frame = np.zeros((50, 60, 3), np.uint8)
    frame[10:30, 20:30] = 200
    keypoints = np.zeros((17, 3), np.float32)
    keypoints[0] = (25, 12, 2)
    mask = np.full((20, 10), 255, np.uint8)
    label = PersonLabel(keypoints, np.array([18, 8, 14, 24], np.float32), mask, (20, 10), 0.9)
    person, cut_mask, moved = cut_out(frame, label)
    assert person.shape[:2] == cut_mask.shape == (25, 15)
    assert cut_mask[2:22, 2:12].min() == 255 and cut_mask.sum() == 255 * 200
    np.testing.assert_allclose(moved[0], (7, 4, 2))


def test_build_splits_by_footage_and_adds_composites(tmp_path):
    train = write_video(tmp_path / "train.avi", [scene_with_person(20 + 10 * i) for i in range(4)])
    held = write_video(tmp_path / "held.avi", [scene_with_person(100), np.full((120, 160, 3), 90, np.uint8)])
    background = tmp_path / "scene.png"
    cv2.imwrite(str(background), np.full((90, 120, 3), (0, 200, 0), np.uint8))
    config = BuildConfig(label=LabelConfig(min_height=20), pastes_per_person=2)
    train_summary, held_summary = build_dataset(
        tmp_path / "data", [Footage(train)], [Footage(held)], RedBlobTeacher(),
        load_backgrounds([background]), config,
    )
    assert (train_summary.frames_labelled, train_summary.persons, train_summary.composites) == (4, 4, 8)
    assert (held_summary.frames_read, held_summary.frames_labelled, held_summary.persons) == (2, 1, 1)
    assert held_summary.composites == 0
    train_json = json.loads((tmp_path / "data/annotations/train.json").read_text())
    held_json = json.loads((tmp_path / "data/annotations/holdout.json").read_text())
    assert len(train_json["images"]) == 4 + 8
    assert all(image["file_name"].startswith("train/") for image in train_json["images"])
    assert [image["file_name"][-16:] for image in held_json["images"]] == ["_held_000000.jpg"]
    frames_json = json.loads((tmp_path / "data/annotations/train_frames.json").read_text())
    assert len(frames_json["images"]) == 4 and len(frames_json["annotations"]) == 4
    record = json.loads((tmp_path / "data/dataset.json").read_text())
    assert [split["split"] for split in record["splits"]] == ["train", "holdout"]
    samples = load_person_samples(tmp_path / "data/annotations/train.json", tmp_path / "data/images", COCO,
                                  aspect_ratio=0.75)
    assert len(samples) == 12


def test_build_refuses_without_held_out_footage(tmp_path):
    with pytest.raises(ValueError, match="held-out"):
        build_dataset(tmp_path, [Footage(tmp_path / "a.mp4")], [], RedBlobTeacher(), [], BuildConfig())


def test_composites_are_told_from_frames_by_their_name_ending_whatever_the_footage_is_called():
    frame = Footage(Path("clips/copy_paste.mp4")).frame_name(7)
    assert frame == "clips_copy_paste_000007"
    assert is_real_frame({"file_name": f"train/{frame}.jpg"})
    assert not is_real_frame({"file_name": f"train/{frame}_p3_paste1.jpg"})
