"""create_detector: names, options, the whole-frame detector, and the offline fallback of "yolo" / "auto".

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
from offline_network import network_unreachable  # noqa: F401  (autouse: no test here reaches the network)
from support import REPO_ROOT

from detectors import DETECTOR_NAMES, PersonDetector, create_detector
from detectors.hog import HogDetector


@pytest.fixture
def real_online_probe(monkeypatch):
    """ultralytics decides online/offline by DNS, not by the YOLO_OFFLINE shortcut set in tests/conftest.py;
    and a download retry would sleep, which fails the test instead."""
    monkeypatch.delenv("YOLO_OFFLINE", raising=False)

    def no_back_off(seconds):
        raise AssertionError(f"a download was retried after sleeping {seconds} s")

    monkeypatch.setattr(time, "sleep", no_back_off)


@pytest.mark.parametrize("name", ["yolo", "auto"])
def test_offline_missing_weights_are_reported_in_one_line_and_the_fallback_is_used(
    name, tmp_path, caplog, real_online_probe
):
    with caplog.at_level(logging.WARNING, logger="detectors"):
        detector = create_detector(name, weights_dir=str(tmp_path), device="cpu")
    assert isinstance(detector, HogDetector) and detector.is_fallback
    notice = detector.notice
    assert notice is not None and "\n" not in notice
    assert "'yolo11n.pt'" in notice and "offline" in notice and str(tmp_path) in notice
    assert "HOG fallback" in notice
    assert [record.getMessage() for record in caplog.records] == [notice]
    assert list(tmp_path.iterdir()) == []


def test_a_failing_download_is_tried_once_and_reported(tmp_path, monkeypatch, real_online_probe):
    """DNS answers (so ultralytics thinks it is online) but the download cannot connect."""
    import ultralytics.utils

    monkeypatch.setattr(ultralytics.utils, "is_online", lambda: True)
    detector = create_detector("yolo", weights_dir=str(tmp_path))
    assert detector.is_fallback and "could not be downloaded" in detector.notice
    assert not (tmp_path / "yolo11n.pt").exists()


def test_unknown_weights_names_and_unreadable_files_fall_back_with_the_reason(tmp_path):
    unknown = create_detector("yolo", weights="my_model.pt", weights_dir=str(tmp_path))
    assert unknown.is_fallback and "'my_model.pt' not found" in unknown.notice
    (tmp_path / "yolo11n.pt").write_bytes(b"not a checkpoint")
    broken = create_detector("auto", weights_dir=str(tmp_path))
    assert broken.is_fallback and "could not be loaded" in broken.notice


def test_auto_uses_yolo_when_its_weights_are_at_hand(tmp_path):
    from ultralytics import YOLO

    YOLO("yolo11n.yaml").save(tmp_path / "yolo11n.pt")  # random weights, saved as the default file name
    detector = create_detector("auto", weights_dir=str(tmp_path), device="cpu")
    assert detector.name == "yolo" and not detector.is_fallback and detector.notice is None
    assert detector.description == "YOLO yolo11n.pt (cpu)"
    assert detector(np.zeros((240, 320, 3), np.uint8)).xyxy.shape[1] == 4
    by_path = create_detector("yolo", weights=tmp_path / "yolo11n.pt", device="cpu")  # a Path works too
    assert by_path.name == "yolo" and by_path.notice is None


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
