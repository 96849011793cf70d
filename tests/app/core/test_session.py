"""Run session: stepped frame by frame, outputs started and stopped mid-stream, seek and source switches that
restart track IDs, closed once with its summary."""

from __future__ import annotations

import csv
import json
from dataclasses import replace

import av
import numpy as np
import pytest
from scripted_people import (
    Scene,
    SceneSource,
    ScriptedDetector,
    ScriptedEstimator,
    ScriptedPerson,
    relay,
    walking,
)

from app.core.config import DetectorConfig, ModelConfig, PipelineConfig, RenderConfig, SmootherConfig
from app.core.errors import SinkError, SourceError
from app.core.pipeline import Pipeline
from app.core.session import RunSession
from app.core.sinks import CsvSink, Outputs, RunOutcome, metadata_path

RELAY_FRAMES = 7
"""Frames of :func:`relay` at 10 fps: its first pair leaves after frame 2, the second is confirmed on 5."""


def _session(scene: Scene, **options) -> RunSession:
    pipeline = Pipeline(estimator=ScriptedEstimator(scene, noise_px=1.0), detector=ScriptedDetector(scene))
    return RunSession(pipeline, **options)


def _csv_frames(path) -> list[int]:
    with open(path, newline="") as handle:
        return sorted({int(row["frame"]) for row in csv.DictReader(handle)})


def _mp4_frames(path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def _ids(session: RunSession, frames: int) -> list[list[int]]:
    """Sorted track IDs of the next ``frames`` frames."""
    return [sorted(session.step().result.track_ids.tolist()) for _ in range(frames)]


@pytest.fixture
def scene() -> Scene:
    return Scene([ScriptedPerson(walking((200, 240), (30, 0)))])


def test_step_processes_one_frame_each_until_the_source_ends(scene):
    session = _session(scene, overlay=False)
    info = session.open(SceneSource(scene, 3))
    assert info.frame_count == 3 and session.frames == 0
    steps = [session.step() for _ in range(3)]
    assert [processed.frame.index for processed in steps] == [0, 1, 2]
    assert all(processed.annotated is None and processed.result.num_people == 1 for processed in steps)
    assert session.step() is None and session.frames == 3
    summary = session.close(RunOutcome("finished", 3))
    assert summary.frames == 3 and summary.person_frames == 3 and summary.tracks == 1
    assert not summary.stopped_early and summary.outputs == ()


def test_outputs_started_mid_stream_then_stopped_hold_exactly_those_frames(tmp_path, scene):
    csv_path, video_path = tmp_path / "part.csv", tmp_path / "part.mp4"
    session = _session(scene, overlay=False)
    session.open(SceneSource(scene, 10))
    _ids(session, 2)
    assert not session.writing
    session.start_outputs(Outputs(csv=csv_path, video=video_path))
    processed = [session.step() for _ in range(3)]
    assert session.writing and all(p.annotated is not None for p in processed)  # the recording needs it
    written = session.stop_outputs(RunOutcome("interrupted", 3))
    session.step()  # not written: the outputs are stopped

    assert not session.writing and session.step().annotated is None
    assert [stats.paths for stats in written] == [(csv_path, metadata_path(csv_path)), (video_path,)]
    assert [stats.frames for stats in written] == [3, 3] and "x" in written[1].detail
    assert _csv_frames(csv_path) == [2, 3, 4] and _mp4_frames(video_path) == 3
    metadata = json.loads(metadata_path(csv_path).read_text())
    assert metadata["outcome"] == {"ended": "interrupted", "frames": 3, "signal": None, "error": None}
    assert not list(tmp_path.glob("*.partial-*"))
    summary = session.close()
    assert summary.frames == 7 and summary.stopped_early and summary.outputs == written


def test_close_ends_the_run_once(tmp_path, scene):
    csv_path = tmp_path / "run.csv"
    session = _session(scene)
    source = SceneSource(scene, 10)
    session.open(source, Outputs(csv=csv_path))
    (sink,) = session.sinks
    _ids(session, 4)
    summary = session.close(RunOutcome("failed", 4, error="boom"))
    assert session.close(RunOutcome("finished", 4)) is summary
    assert sink.outcome == RunOutcome("failed", 4, error="boom")
    assert json.loads(metadata_path(csv_path).read_text())["outcome"]["ended"] == "failed"
    assert summary.frames == 4 and summary.stopped_early and summary.outputs[0].frames == 4
    with pytest.raises(SourceError, match="not open"):
        source.read()
    with pytest.raises(RuntimeError, match="closed"):
        session.open(SceneSource(scene, 1))


def test_every_output_is_closed_when_one_fails_to_close(tmp_path, scene, monkeypatch):
    csv_path, video_path = tmp_path / "run.csv", tmp_path / "run.avi"
    session = _session(scene)
    session.open(SceneSource(scene, 10), Outputs(csv=csv_path, video=video_path))
    _ids(session, 3)

    def failing_close(self) -> None:
        raise SinkError("disk full")

    monkeypatch.setattr(CsvSink, "close", failing_close)
    with pytest.raises(SinkError, match="disk full"):
        session.close(RunOutcome("finished", 3))
    assert video_path.exists() and not session.writing


def test_a_new_scene_starts_the_trails_afresh():
    scene = Scene([ScriptedPerson(walking((150, 240), (100, 0)))])  # 10 px a frame at 10 fps
    render = RenderConfig(trails=True, skeleton=False, boxes=False, ids=False, trail_s=5.0)
    pipeline = Pipeline(PipelineConfig(render=render), estimator=ScriptedEstimator(scene, noise_px=0.0),
                        detector=ScriptedDetector(scene))
    session = RunSession(pipeline)

    def trail_width(frame) -> int:
        drawn = np.flatnonzero((session.process(frame).annotated != frame.image).any(axis=(0, 2)))
        return int(drawn.max() - drawn.min()) if len(drawn) else 0

    widths = [trail_width(frame) for frame in scene.frames(6)]
    assert widths[-1] >= 50  # the path walked so far
    assert trail_width(replace(scene.frame(6), new_scene=True)) < 10  # a point, not a line from the last one


def test_seek_back_restarts_track_ids():
    people = relay()
    session = _session(people)
    session.open(SceneSource(people, RELAY_FRAMES))
    first = _ids(session, RELAY_FRAMES)
    assert first[0] == [1, 2] and first[-1] == [3, 4]
    session.seek(0)
    assert session.next_index == 0 and _ids(session, RELAY_FRAMES) == first


def test_switching_source_closes_its_outputs_and_restarts_track_ids(tmp_path):
    people = relay()
    csv_path = tmp_path / "first.csv"
    session = _session(people)
    session.open(SceneSource(people, RELAY_FRAMES), Outputs(csv=csv_path))
    first = _ids(session, RELAY_FRAMES)
    session.open(SceneSource(people, RELAY_FRAMES))
    assert not session.writing and session.frames == 0
    assert _ids(session, RELAY_FRAMES) == first
    metadata = json.loads(metadata_path(csv_path).read_text())
    assert metadata["outcome"]["ended"] == "interrupted" and metadata["run"]["frames"] == RELAY_FRAMES


def test_a_settings_change_rebuilds_only_what_it_touches():
    config = PipelineConfig(model=ModelConfig(name="edite_hrnet_tiny", device="cpu", flip=False),
                            detector=DetectorConfig(name="none"), render=RenderConfig(min_score=0.0))
    session = RunSession()
    session.configure(config)
    pipeline, estimator, detector = session.pipeline, session.pipeline.estimator, session.pipeline.detector
    session.configure(replace(config, smoother=SmootherConfig(strength=0.9), render=RenderConfig(ids=False)))
    assert session.pipeline is pipeline and pipeline.estimator is estimator and pipeline.detector is detector
    info = session.configure(replace(config, model=replace(config.model, flip=True)))
    assert pipeline.estimator is estimator and info.flip
    info = session.configure(replace(config, detector=replace(config.detector, name="hog")))
    assert pipeline.estimator is estimator and info.detector == "hog"
    info = session.configure(replace(config, model=replace(config.model, name="lite_hrnet_18")))
    assert pipeline.estimator is not estimator and info.model == "lite_hrnet_18"


def test_closing_closes_the_pipeline_it_built_but_not_one_it_was_given(scene):
    config = PipelineConfig(model=ModelConfig(name="edite_hrnet_tiny", device="cpu", flip=False),
                            detector=DetectorConfig(name="none"))
    built = RunSession()
    built.configure(config)
    built.open(SceneSource(scene, 2))
    built.close()
    with pytest.raises(RuntimeError, match="closed"):
        built.pipeline.process(SceneSource(scene, 1).open().read())

    given = _session(scene)
    given.open(SceneSource(scene, 2))
    given.close()
    assert given.pipeline.process(SceneSource(scene, 1).open().read()).num_people == 1


def test_weights_of_another_keypoint_set_are_drawn_with_its_own_limbs(tmp_path, scene):
    from pose.models.checkpoint import save_checkpoint
    from pose.models.registry import create_model, with_skeleton
    from pose.skeleton import MPII

    mpii = save_checkpoint(with_skeleton(create_model("edite_hrnet_tiny"), MPII), tmp_path / "mpii.pth",
                           {"skeleton": "mpii"})
    config = PipelineConfig(model=ModelConfig(name="edite_hrnet_tiny", device="cpu", flip=False),
                            detector=DetectorConfig(name="none", min_pose_score=0.0),
                            render=RenderConfig(min_score=0.0))  # untrained weights' people drawn whole
    session = RunSession()
    session.configure(config)
    session.open(SceneSource(scene, 3))
    assert session.step().result.keypoints.shape == (1, 17, 2)
    session.configure(replace(config, model=replace(config.model, weights=str(mpii))))
    processed = session.step()
    assert processed.result.keypoints.shape == (1, 16, 2) and processed.annotated is not None
    session.close()
