"""Scripted scenes for app tests: people moving along known paths; a fake detector and estimator see them.

The fakes implement ``detectors.base.PersonDetector`` and ``pose.base.Estimator`` but read the truth from
the scene. A frame carries its own index in its first pixel (blue, green = index high and low byte), so the
fakes know which moment of the script they are looking at, as a real model knows from the pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from app.core.sources import FrameSource, SourceError
from app.core.types import Frame, SourceInfo
from pose.base import PoseResult, RuntimeInfo
from pose.geometry import iou_matrix
from pose.models.spec import ModelSpec

# A standing person in box coordinates (x, y in [0, 1] of the box width and height), COCO order.
STANDING = np.array([
    (0.50, 0.06), (0.45, 0.04), (0.55, 0.04), (0.40, 0.06), (0.60, 0.06),
    (0.30, 0.20), (0.70, 0.20), (0.25, 0.36), (0.75, 0.36), (0.22, 0.50), (0.78, 0.50),
    (0.38, 0.52), (0.62, 0.52), (0.38, 0.74), (0.62, 0.74), (0.38, 0.96), (0.62, 0.96),
], np.float64)
ARMS_UP = STANDING.copy()
ARMS_UP[7:11] = [(0.25, 0.08), (0.75, 0.08), (0.22, -0.05), (0.78, -0.05)]


def pose_in_box(box: np.ndarray, template: np.ndarray = STANDING) -> np.ndarray:
    """``(17, 2)`` keypoints of ``template`` placed in an xyxy ``box``."""
    x1, y1, x2, y2 = box
    return np.stack([x1 + template[:, 0] * (x2 - x1), y1 + template[:, 1] * (y2 - y1)], axis=1)


@dataclass
class ScriptedPerson:
    """A person whose box at time t (seconds) is ``box_at(t)``; invisible when ``visible(t)`` is False."""

    box_at: Callable[[float], np.ndarray]
    template: np.ndarray = field(default_factory=lambda: STANDING)
    visible: Callable[[float], bool] = lambda t: True
    score: Callable[[float], float] = lambda t: 0.9

    def keypoints(self, t: float) -> np.ndarray:
        return pose_in_box(self.box_at(t), self.template)


def walking(
    start_xy: tuple[float, float],
    velocity_xy: tuple[float, float],
    size_wh: tuple[float, float] = (60.0, 160.0),
) -> Callable[[float], np.ndarray]:
    """``box_at`` of a person walking at a constant velocity (pixels/s) from box centre ``start_xy``."""
    def box_at(t: float) -> np.ndarray:
        cx, cy = start_xy[0] + velocity_xy[0] * t, start_xy[1] + velocity_xy[1] * t
        w, h = size_wh
        return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
    return box_at


@dataclass
class Scene:
    """People over time, sampled at ``fps`` into frames of ``size`` (width, height)."""

    people: list[ScriptedPerson]
    fps: float = 10.0
    size: tuple[int, int] = (640, 480)

    def time_of(self, index: int) -> float:
        return index / self.fps

    def frame(self, index: int) -> Frame:
        width, height = self.size
        image = np.zeros((height, width, 3), np.uint8)
        image[0, 0, 0], image[0, 0, 1] = divmod(index, 256)
        return Frame(image=image, index=index, timestamp_s=self.time_of(index))

    def frames(self, count: int) -> list[Frame]:
        return [self.frame(i) for i in range(count)]

    def visible_people(self, t: float) -> list[ScriptedPerson]:
        return [person for person in self.people if person.visible(t)]

    def time_in(self, image: np.ndarray) -> float:
        return self.time_of(int(image[0, 0, 0]) * 256 + int(image[0, 0, 1]))



def relay(switch_s: float = 0.25) -> Scene:
    """Two people who leave at ``switch_s`` seconds as two others arrive far away (at 10 fps: frames 0-2,
    then 3 on). A tracker numbers the newcomers 3 and 4 and confirms them on their third frame (5), so a
    reset that forgets nothing shows up as IDs 3 and 4, or none, instead of 1 and 2 afterwards."""
    before, after = (lambda t: t < switch_s), (lambda t: t >= switch_s)
    return Scene([
        ScriptedPerson(walking((100, 120), (10, 0)), visible=before),
        ScriptedPerson(walking((250, 120), (-10, 0)), template=ARMS_UP, visible=before),
        ScriptedPerson(walking((400, 360), (10, 0)), visible=after),
        ScriptedPerson(walking((560, 360), (-10, 0)), template=ARMS_UP, visible=after),
    ])

@dataclass(frozen=True)
class FakeDetections:
    xyxy: np.ndarray
    scores: np.ndarray


class ScriptedDetector:
    """Finds every visible person of the scene (their true box, score 0.9); counts its calls."""

    name = "scripted"
    description = "scripted test detector"
    is_fallback = False
    notice = None

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self.calls: list[float] = []

    def __call__(self, image: np.ndarray) -> FakeDetections:
        t = self.scene.time_in(image)
        self.calls.append(t)
        people = self.scene.visible_people(t)
        boxes = np.array([person.box_at(t) for person in people], np.float32).reshape(-1, 4)
        return FakeDetections(boxes, np.full(len(boxes), 0.9, np.float32))


class ScriptedEstimator:
    """Returns, for each box, the pose of the visible person it overlaps most (IoU >= 0.3), plus seeded
    Gaussian noise of ``noise_px``; a box on nobody gets a weak random pose (score 0.05). Records
    :meth:`close`, and fails if called after it."""

    spec = ModelSpec("scripted")
    device = "cpu"
    flip = True
    half = False
    runtime = RuntimeInfo("scripted")

    def __init__(self, scene: Scene, noise_px: float = 0.0, seed: int = 0) -> None:
        self.scene = scene
        self.noise_px = noise_px
        self.rng = np.random.default_rng(seed)
        self.calls = 0
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def __call__(self, image: np.ndarray, boxes: np.ndarray) -> PoseResult:
        assert not self.closed, "a closed estimator was called"
        self.calls += 1
        t = self.scene.time_in(image)
        people = self.scene.visible_people(t)
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        keypoints = np.zeros((len(boxes), 17, 2))
        scores = np.full((len(boxes), 17), 0.05)
        truth = np.array([person.box_at(t) for person in people]).reshape(-1, 4)
        overlap = iou_matrix(boxes, truth)
        for i, box in enumerate(boxes):
            best = int(np.argmax(overlap[i])) if len(people) else -1
            if best >= 0 and overlap[i, best] >= 0.3:
                keypoints[i] = people[best].keypoints(t) + self.rng.normal(0, self.noise_px, (17, 2))
                scores[i] = people[best].score(t)
            else:
                keypoints[i] = box[:2] + self.rng.uniform(0, 1, (17, 2)) * (box[2:] - box[:2])
        return PoseResult(keypoints.astype(np.float32), scores.astype(np.float32))


class SceneSource(FrameSource):
    """The scene's first ``count`` frames as a finite, non-live :class:`FrameSource`."""

    def __init__(self, scene: Scene, count: int, fail_after: int | None = None) -> None:
        super().__init__(f"scene:{count}")
        self.scene, self.count, self.fail_after = scene, count, fail_after
        self._next = 0

    def _open(self) -> SourceInfo:
        self._next = 0
        return SourceInfo(spec=self.spec, kind="video", size=self.scene.size, fps=self.scene.fps,
                          frame_count=self.count, is_live=False)

    def _read(self) -> Frame | None:
        if self.fail_after is not None and self._next >= self.fail_after:
            raise SourceError(f"{self.spec} broke after {self._next} frames")
        if self._next >= self.count:
            return None
        self._next += 1
        return self.scene.frame(self._next - 1)

    def _close(self) -> None:
        pass
