"""Multi-person tracking by optimal assignment on box IoU and keypoint similarity (OKS).

Each track predicts where its person is now (constant velocity of the pose centre, from real timestamps),
every new pose is compared with every prediction, and ``scipy.optimize.linear_sum_assignment`` picks the
pairing with the highest total similarity, for confirmed tracks first and then for tentative ones. A track
is reported once confirmed (a few hits), keeps its ID through short gaps, and ends after ``max_age_s``
seconds unseen. IDs are counted per tracker instance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from app.core.config import TrackerConfig
from app.core.tracking.similarity import people_oks
from pose.geometry import iou_matrix
from pose.skeleton import COCO, Skeleton

VELOCITY_BLEND = 0.5
"""Weight of the newest displacement in the running velocity estimate (the rest is the previous estimate)."""


@dataclass
class _Track:
    """One person's last observation and motion; owned and mutated by :class:`Tracker` only."""

    track_id: int
    box: np.ndarray  # (4,) xyxy at last_seen_s
    keypoints: np.ndarray  # (K, 2)
    scores: np.ndarray  # (K,)
    last_seen_s: float
    velocity: np.ndarray  # (2,) pixels per second of the pose centre
    hits: int = 1
    confirmed: bool = False

    def predicted(self, timestamp_s: float) -> tuple[np.ndarray, np.ndarray]:
        """``(box (4,), keypoints (K, 2))`` moved along the velocity to ``timestamp_s``."""
        shift = self.velocity * max(timestamp_s - self.last_seen_s, 0.0)
        return self.box + np.tile(shift, 2), self.keypoints + shift


@dataclass(frozen=True)
class TrackerUpdate:
    """The tracker's answer for one frame of N poses.

    Attributes:
        ids: ``(N,)`` int64 track ID of each input pose (tentative tracks included).
        confirmed: ``(N,)`` bool, True for poses whose track is confirmed (these are reported).
        lost: IDs of confirmed tracks that matched no pose in this frame (still alive, coasting).
        ended: IDs of tracks that ended in this update (unseen for ``max_age_s``, or tentative and missed).
    """

    ids: np.ndarray
    confirmed: np.ndarray
    lost: tuple[int, ...]
    ended: tuple[int, ...]


def pose_centre(box: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, min_score: float) -> np.ndarray:
    """``(2,)`` score-weighted mean of the confident keypoints, or the box centre when none is confident."""
    confident = scores > min_score
    if not confident.any():
        return (box[:2] + box[2:]) / 2.0
    weights = scores[confident]
    return (keypoints[confident] * weights[:, None]).sum(axis=0) / weights.sum()


class Tracker:
    """Assigns stable IDs (1, 2, 3, ... per instance) to the people of successive frames.

    Args:
        config: matching and lifetime settings.
        skeleton: keypoint set (its OKS sigmas weigh the keypoint similarity).
    """

    def __init__(self, config: TrackerConfig | None = None, skeleton: Skeleton = COCO) -> None:
        self.config = config or TrackerConfig()
        self.skeleton = skeleton
        self.reset()

    def reset(self) -> None:
        """Forget every track; the next ID is 1 again."""
        self._tracks: list[_Track] = []
        self._next_id = 1
        self._updates = 0

    @property
    def active_ids(self) -> tuple[int, ...]:
        """IDs of the confirmed tracks still alive."""
        return tuple(track.track_id for track in self._tracks if track.confirmed)

    def update(
        self, timestamp_s: float, boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray
    ) -> TrackerUpdate:
        """Match this frame's poses to the tracks.

        Args:
            timestamp_s: the frame's time in seconds (non-decreasing from call to call).
            boxes: ``(N, 4)`` xyxy image pixels.
            keypoints: ``(N, K, 2)`` image pixels.
            scores: ``(N, K)`` keypoint confidences in [0, 1].
        """
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        keypoints = np.asarray(keypoints, np.float64)
        scores = np.asarray(scores, np.float64)
        self._updates += 1
        pairs = self._match(timestamp_s, boxes, keypoints, scores)

        ids = np.zeros(len(boxes), np.int64)
        matched_tracks = set()
        for track_index, pose_index in pairs:
            track = self._tracks[track_index]
            self._observe(track, timestamp_s, boxes[pose_index], keypoints[pose_index], scores[pose_index])
            ids[pose_index] = track.track_id
            matched_tracks.add(track_index)
        for i in sorted(set(range(len(boxes))) - {pose for _, pose in pairs}):
            ids[i] = self._start(timestamp_s, boxes[i], keypoints[i], scores[i])

        lost, ended, alive = [], [], []
        for index, track in enumerate(self._tracks):
            unseen_s = timestamp_s - track.last_seen_s
            if index in matched_tracks or track.last_seen_s == timestamp_s:
                alive.append(track)
            elif track.confirmed and unseen_s <= self.config.max_age_s:
                alive.append(track)
                lost.append(track.track_id)
            else:
                ended.append(track.track_id)
        self._tracks = alive
        confirmed_ids = {track.track_id for track in alive if track.confirmed}
        confirmed = np.array([track_id in confirmed_ids for track_id in ids], bool)
        return TrackerUpdate(ids=ids, confirmed=confirmed, lost=tuple(lost), ended=tuple(ended))

    def _match(
        self, timestamp_s: float, boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray
    ) -> list[tuple[int, int]]:
        """Optimal (track index, pose index) pairs with similarity >= ``min_similarity``: confirmed tracks
        first, then tentative ones among the poses left (a person found twice, e.g. by a detector box a few
        frames old, starts a tentative copy; when the copy's pose goes, the person stays with their ID)."""
        if not self._tracks or not len(boxes):
            return []
        predicted = [track.predicted(timestamp_s) for track in self._tracks]
        predicted_boxes = np.stack([box for box, _ in predicted])
        predicted_keypoints = np.stack([points for _, points in predicted])
        track_scores = np.stack([track.scores for track in self._tracks])
        config = self.config
        oks = people_oks(
            predicted_keypoints, track_scores, predicted_boxes, keypoints, scores,
            self.skeleton.oks_sigmas, min_score=config.min_keypoint_score,
        )
        similarity = config.iou_weight * iou_matrix(predicted_boxes, boxes) + (1 - config.iou_weight) * oks
        confirmed = np.array([track.confirmed for track in self._tracks])
        pairs: list[tuple[int, int]] = []
        free_poses = np.arange(len(boxes))
        for tracks in (np.flatnonzero(confirmed), np.flatnonzero(~confirmed)):
            candidates = similarity[np.ix_(tracks, free_poses)]
            rows, cols = linear_sum_assignment(candidates, maximize=True)
            kept = candidates[rows, cols] >= config.min_similarity
            pairs += zip(tracks[rows[kept]].tolist(), free_poses[cols[kept]].tolist(), strict=True)
            free_poses = np.delete(free_poses, cols[kept])
        return pairs

    def _observe(
        self, track: _Track, timestamp_s: float, box: np.ndarray, keypoints: np.ndarray, scores: np.ndarray
    ) -> None:
        min_score = self.config.min_keypoint_score
        elapsed_s = timestamp_s - track.last_seen_s
        if elapsed_s > 0:
            displacement = pose_centre(box, keypoints, scores, min_score) - pose_centre(
                track.box, track.keypoints, track.scores, min_score
            )
            track.velocity = VELOCITY_BLEND * displacement / elapsed_s + (1 - VELOCITY_BLEND) * track.velocity
        track.box, track.keypoints, track.scores, track.last_seen_s = box, keypoints, scores, timestamp_s
        track.hits += 1
        track.confirmed = track.confirmed or track.hits >= self.config.confirm_hits

    def _start(self, timestamp_s: float, box: np.ndarray, keypoints: np.ndarray, scores: np.ndarray) -> int:
        track = _Track(
            track_id=self._next_id,
            box=box,
            keypoints=keypoints,
            scores=scores,
            last_seen_s=timestamp_s,
            velocity=np.zeros(2),
            confirmed=self._updates == 1 or self.config.confirm_hits <= 1,
        )
        self._next_id += 1
        self._tracks.append(track)
        return track.track_id
