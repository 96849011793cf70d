"""CSV sink: exact schema, a golden file for a tiny synthetic run, per-frame flushing, metadata JSON.

Regenerate the golden file after a deliberate change with
``UPDATE_GOLDEN=1 python -m pytest tests/app/core/sinks/test_csv_sink.py -k golden`` and review its diff.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scripted_people import (
    ARMS_UP,
    Scene,
    SceneSource,
    ScriptedDetector,
    ScriptedEstimator,
    ScriptedPerson,
    walking,
)
from support import REPO_ROOT

import app
from app.core.config import DetectorConfig, PipelineConfig
from app.core.errors import SinkError
from app.core.pipeline import Pipeline
from app.core.runner import run
from app.core.session import RunSession
from app.core.sinks import COLUMNS, CsvSink, Outputs, metadata_path
from app.core.sinks.metadata import RunMetadata
from app.core.types import FrameResult, PipelineInfo, RunInfo, SourceInfo
from pose.skeleton import COCO

GOLDEN = REPO_ROOT / "tests" / "data" / "app" / "golden_tiny_run.csv"
HEADER = "frame,time_s,track_id,keypoint,x,y,score,x_smooth,y_smooth,box_x1,box_y1,box_x2,box_y2,box_score"


def tiny_run(csv_path: Path) -> None:
    """Two people (one with arms up) walking towards each other: 4 frames at 10 fps, detection every 2."""
    scene = Scene([
        ScriptedPerson(walking((200, 240), (40, 0))),
        ScriptedPerson(walking((420, 250), (-40, 0)), template=ARMS_UP),
    ])
    pipeline = Pipeline(
        PipelineConfig(detector=DetectorConfig(detect_every=2)),
        estimator=ScriptedEstimator(scene, noise_px=1.5, seed=3),
        detector=ScriptedDetector(scene),
        weights_sha256="0" * 64,
    )
    session = RunSession(pipeline)
    session.open(SceneSource(scene, 4), Outputs(csv=csv_path))
    run(session)


def test_header_is_the_documented_schema():
    assert ",".join(COLUMNS) == HEADER


def test_tiny_run_matches_the_golden_csv(tmp_path):
    out = tmp_path / "run.csv"
    tiny_run(out)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(out.read_text())
    assert out.read_text() == GOLDEN.read_text()


def test_golden_csv_is_tidy():
    with GOLDEN.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4 * 2 * 17  # frames x people x keypoints
    assert [row["keypoint"] for row in rows[:17]] == list(COCO.keypoints)
    assert {row["track_id"] for row in rows} == {"1", "2"}
    assert sorted({float(row["time_s"]) for row in rows}) == [0.0, 0.1, 0.2, 0.3]
    for row in rows:
        assert float(row["box_x1"]) < float(row["x"]) < float(row["box_x2"])
        assert 0.0 <= float(row["score"]) <= 1.0


def test_metadata_json_describes_the_run(tmp_path):
    out = tmp_path / "run.csv"
    tiny_run(out)
    meta = json.loads(metadata_path(out).read_text())
    assert meta["app"]["version"] == app.__version__
    assert meta["outcome"] == {"ended": "finished", "frames": 4, "signal": None, "error": None}
    assert meta["source"] == {"spec": "scene:4", "kind": "video", "width": 640, "height": 480,
                              "nominal_fps": 10.0, "frame_count": 4, "is_live": False}
    assert meta["run"]["frames"] == 4 and meta["run"]["dropped_frames"] == 0
    assert meta["run"]["measured_fps"] is None or meta["run"]["measured_fps"] > 0
    assert meta["pipeline"]["weights_sha256"] == "0" * 64
    assert meta["pipeline"]["detector"] == "scripted" and meta["pipeline"]["detector_is_fallback"] is False
    assert meta["settings"]["detector"]["detect_every"] == 2
    assert meta["settings"]["detector"]["confidence"] == 0.5
    assert meta["settings"]["smoother"] == {"enabled": True, "strength": 0.5, "min_score": 0.3}
    assert meta["outputs"]["columns"] == list(COLUMNS)
    assert meta["outputs"]["csv"] == "run.csv" and meta["outputs"]["recording"] is None


def _result(index: int, people: int) -> FrameResult:
    keypoints = np.full((people, 17, 2), 10.0 + index)
    return FrameResult(
        frame_index=index, timestamp_s=index / 25, image_hw=(48, 64),
        boxes=np.tile([1.0, 2.0, 30.0, 40.0], (people, 1)), box_scores=np.full(people, 0.75),
        track_ids=np.arange(1, people + 1), keypoints=keypoints, scores=np.full((people, 17), 0.5),
        keypoints_smooth=keypoints + 0.25,
    )


def test_rows_are_on_disk_after_each_frame(tmp_path):
    out = tmp_path / "live.csv"
    scene = Scene([], size=(64, 48))
    source = SceneSource(scene, 3).open()
    pipeline = Pipeline(estimator=ScriptedEstimator(scene), detector=ScriptedDetector(scene))
    out.write_text("an earlier good file\n")
    sink = CsvSink(out).open(pipeline.run_info(source.info))
    partial = sink.partial_path
    assert partial.parent == tmp_path and partial.name.startswith("live.partial-")
    for index in range(2):
        sink.write(scene.frame(index), _result(index, people=2))
        lines = partial.read_text().splitlines()  # what a killed run leaves: whole lines only
        assert len(lines) == 1 + (index + 1) * 2 * 17
        assert out.read_text() == "an earlier good file\n"  # untouched until the run ends
    scratch = next(tmp_path.glob("live.meta.partial-*.json"))  # the metadata of a run still going
    assert json.loads(scratch.read_text())["outcome"]["ended"] is None
    assert lines[1] == "0,0.000000,1,nose,10.00,10.00,0.5000,10.25,10.25,1.00,2.00,30.00,40.00,0.7500"
    sink.close()
    sink.close()  # idempotent
    assert out.read_text().splitlines() == lines
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.csv", "live.meta.json"]


@pytest.mark.parametrize("where", ["missing-folder", "is-a-folder"])
def test_unwritable_path_is_named(tmp_path, where):
    path = tmp_path / "nope" / "out.csv" if where == "missing-folder" else tmp_path
    scene = Scene([])
    source = SceneSource(scene, 1).open()
    pipeline = Pipeline(estimator=ScriptedEstimator(scene), detector=ScriptedDetector(scene))
    with pytest.raises(SinkError, match="cannot write CSV"):
        CsvSink(path).open(pipeline.run_info(source.info))



def test_the_source_is_never_overwritten(tmp_path):
    scene = Scene([])
    source = SceneSource(scene, 1).open()
    pipeline = Pipeline(estimator=ScriptedEstimator(scene), detector=ScriptedDetector(scene))
    info = pipeline.run_info(source.info)
    precious = tmp_path / "input.csv"
    precious.write_text("precious\n")
    info = replace(info, source=replace(info.source, spec=str(precious)))
    with pytest.raises(SinkError, match="is the input"):
        CsvSink(precious).open(info)
    assert precious.read_text() == "precious\n" and [p.name for p in tmp_path.iterdir()] == ["input.csv"]


def _run_info(fps: float | None) -> RunInfo:
    source = SourceInfo(spec="cam", kind="camera", size=(64, 48), fps=fps, frame_count=None, is_live=True)
    pipeline = PipelineInfo(model="m", weights=None, weights_sha256=None, device="cpu", flip=True, half=False,
                            runtime="onnx", runtime_ms_per_crop=4.5, runtime_tuning=False,
                            detector="d", detector_description="d", detector_is_fallback=False,
                            detector_notice=None, detect_every=1, redetect_score=0.35,
                            min_pose_score=0.2, scores_from_weights=False)
    return RunInfo(source=source, pipeline=pipeline)


def test_metadata_counts_frames_drops_and_the_rate_between_first_and_last_frame():
    metadata = RunMetadata(_run_info(fps=float("inf")), outputs={})
    for now_s, dropped in [(10.0, 0), (10.5, 2), (11.0, 5)]:  # the source's running total of drops
        metadata.count_frame(now_s, dropped)
    data = metadata.to_dict()
    assert data["run"] == {"frames": 3, "measured_fps": 2.0, "dropped_frames": 5}
    assert data["outcome"] == {"ended": None, "frames": 3, "signal": None, "error": None}  # still running
    assert data["source"]["nominal_fps"] is None  # JSON has no Infinity
    json.dumps(data, allow_nan=False)
