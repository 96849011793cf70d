"""YOLO on OpenVINO (detectors.yolo_openvino): the real export of the bundled YOLO11n-pose weights finds the
same people as torch, is made once per weights file and cached, and a failed export falls back to torch under
runtime "auto" only. Nothing is downloaded (tests/detectors/offline_network.py)."""

from __future__ import annotations

import logging
import os

import cv2
import numpy as np
import pytest
from offline_network import network_unreachable  # noqa: F401  (autouse: no test here reaches the network)
from support import REPO_ROOT

from detectors import yolo_openvino
from detectors.trusted_weights import bundled_yolo11n_pose
from detectors.yolo import YoloConfig, YoloDetector
from pose.geometry import iou_matrix

SAMPLE = REPO_ROOT / "tests" / "data" / "coco_tiny" / "basketball1.jpg"


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    """One export of the bundled weights, shared by the tests of this module."""
    return tmp_path_factory.mktemp("yolo-openvino")


def _detector(export_dir, **options) -> YoloDetector:
    return YoloDetector(YoloConfig(weights=str(bundled_yolo11n_pose()), device="cpu", image_size=640,
                                   export_dir=export_dir, **options))


def _refuse_export(*args, **kwargs):
    raise RuntimeError("export refused by the test\nsecond line of the report")


def test_openvino_finds_the_people_torch_finds(export_dir):
    frame = cv2.imread(str(SAMPLE))
    on_openvino, on_torch = _detector(export_dir), _detector(export_dir, runtime="torch")
    assert (on_openvino.runtime, on_torch.runtime) == ("openvino", "torch")
    assert on_openvino.description.endswith("(cpu, OpenVINO)") and on_torch.description.endswith("(cpu)")

    found, expected = on_openvino(frame), on_torch(frame)
    assert len(expected) >= 2 and len(found) == len(expected)
    overlaps = iou_matrix(found.xyxy, expected.xyxy)
    assert np.all(overlaps.max(axis=1) > 0.95)  # the same boxes, up to float rounding
    np.testing.assert_allclose(found.scores, expected.scores[overlaps.argmax(axis=1)], atol=0.03)


def test_the_export_is_made_once_per_weights_file_and_reused(export_dir, monkeypatch):
    _detector(export_dir)
    assert [path.name for path in export_dir.iterdir()] == [yolo_openvino.export_name(bundled_yolo11n_pose())]
    monkeypatch.setattr(yolo_openvino, "load_yolo", _refuse_export)  # any new export would fail
    assert _detector(export_dir).runtime == "openvino"


def test_a_new_library_version_exports_again(monkeypatch):
    weights = bundled_yolo11n_pose()
    name = yolo_openvino.export_name(weights)
    monkeypatch.setattr(yolo_openvino.importlib.metadata, "version", lambda package: "99.0")
    assert yolo_openvino.export_name(weights) != name
    assert yolo_openvino.export_name(weights).endswith(yolo_openvino.EXPORT_SUFFIX)


def test_only_the_newest_exports_are_kept(tmp_path):
    exports = [tmp_path / f"weights-{index}{yolo_openvino.EXPORT_SUFFIX}" for index in range(6)]
    for age, folder in enumerate(reversed(exports)):  # exports[0] is the newest
        folder.mkdir()
        os.utime(folder, (1e9 + age, 1e9 + age))
    (tmp_path / "notes.txt").write_text("not an export")
    yolo_openvino.prune_exports(tmp_path, keep=4)
    assert sorted(tmp_path.iterdir()) == sorted([*exports[:4], tmp_path / "notes.txt"])


def test_a_failed_export_runs_torch_with_one_warning_and_leaves_no_scratch(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(yolo_openvino, "load_yolo", _refuse_export)
    with caplog.at_level(logging.WARNING, logger="detectors.yolo"):
        detector = _detector(tmp_path)
    assert detector.runtime == "torch"
    assert [record.getMessage() for record in caplog.records] == [
        "detector: exporting yolo11n-pose.pt to OpenVINO failed (export refused by the test); running it in "
        "torch"
    ]
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError, match="export refused"):
        _detector(tmp_path, runtime="openvino")


def test_openvino_asked_for_where_it_cannot_run_says_what_is_missing(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"needs `\.pt` weights \(not yolo11n\.yaml\)"):
        YoloDetector(YoloConfig(weights="yolo11n.yaml", device="cpu", runtime="openvino"))
    monkeypatch.setattr("detectors.yolo.openvino_installed", lambda: False)
    with pytest.raises(ValueError, match=r"needs the openvino package \(pip install openvino\)"):
        _detector(tmp_path, runtime="openvino")
    assert _detector(tmp_path).runtime == "torch"  # "auto" quietly keeps torch
    with pytest.raises(ValueError, match="runtime 'tensorrt': use one of auto, torch, openvino"):
        YoloConfig(runtime="tensorrt")
