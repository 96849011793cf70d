"""Per-keypoint constant-velocity Kalman smoothing (filterpy), with time steps from real timestamps.

Every (track, keypoint) has a state ``[x, vx, y, vy]`` (pixels, pixels per second) and its covariance,
owned by a :class:`_TrackState`; the :class:`ConstantVelocityModel` only builds matrices. Noise is measured
in units of the person's height, so one setting suits people near and far:

- measurement noise std = ``MEASUREMENT_STD * height / score``: a confident keypoint pulls harder;
- process noise: white acceleration with std ``accel * height`` per second squared, where ``accel`` falls
  from ``ACCEL_AT_ZERO`` (strength 0, follows the measurements) to ``ACCEL_AT_ONE`` (strength 1, smoothest).

Keypoints scoring below ``min_score`` are predicted, not updated, for up to ``MAX_COAST_S``; after longer
gaps the filter restarts from the next measurement rather than drifting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from filterpy.common import Q_discrete_white_noise
from filterpy.kalman import predict, update

from app.core.config import SmootherConfig

MEASUREMENT_STD = 0.01
"""Keypoint measurement noise of a score-1 keypoint, as a fraction of the person's height."""
ACCEL_AT_ZERO = 30.0
ACCEL_AT_ONE = 0.3
"""Process acceleration std, in person heights per second squared, at strength 0 and strength 1
(log-linear in between)."""
INITIAL_SPEED_STD = 1.0
"""Prior std of a new keypoint's speed, person heights per second."""
MAX_COAST_S = 0.5
"""Longest a keypoint is predicted without a confident measurement before its filter restarts."""
MIN_SCORE_FLOOR = 0.05
"""Scores are floored here before dividing the noise by them."""

_H = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])


@dataclass(frozen=True)
class ConstantVelocityModel:
    """Matrices of a 2-D constant-velocity model with state ``[x, vx, y, vy]``; holds no state."""

    accel_std: float  # person heights / s^2

    @classmethod
    def from_strength(cls, strength: float) -> ConstantVelocityModel:
        return cls(accel_std=ACCEL_AT_ZERO * (ACCEL_AT_ONE / ACCEL_AT_ZERO) ** strength)

    @staticmethod
    def transition(dt: float) -> np.ndarray:
        block = np.array([[1.0, dt], [0.0, 1.0]])
        return np.kron(np.eye(2), block)

    def process_noise(self, dt: float, height: float) -> np.ndarray:
        variance = (self.accel_std * height) ** 2
        return Q_discrete_white_noise(dim=2, dt=dt, var=variance, block_size=2, order_by_dim=True)

    @staticmethod
    def measurement_noise(score: float, height: float) -> np.ndarray:
        std = MEASUREMENT_STD * height / max(score, MIN_SCORE_FLOOR)
        return np.eye(2) * std**2

    @staticmethod
    def initial(point: np.ndarray, score: float, height: float) -> tuple[np.ndarray, np.ndarray]:
        """State and covariance of a filter started at ``point`` (2,), at rest."""
        position_var = ConstantVelocityModel.measurement_noise(score, height)[0, 0]
        speed_var = (INITIAL_SPEED_STD * height) ** 2
        return (np.array([point[0], 0.0, point[1], 0.0]),
                np.diag([position_var, speed_var, position_var, speed_var]))


@dataclass
class _TrackState:
    """Filter states of one track: ``x`` (K, 4), ``P`` (K, 4, 4), and per-keypoint last update time."""

    x: np.ndarray
    P: np.ndarray
    timestamp_s: float
    updated_s: np.ndarray


class KeypointSmoother:
    """Smooths each tracked person's keypoints over time.

    Call :meth:`update` once per frame with the frame's tracked people; call :meth:`forget` with the IDs of
    tracks that ended.
    """

    def __init__(self, config: SmootherConfig | None = None) -> None:
        self.config = config or SmootherConfig()
        self.model = ConstantVelocityModel.from_strength(self.config.strength)
        self._states: dict[int, _TrackState] = {}

    def reset(self) -> None:
        self._states.clear()

    def forget(self, track_ids: Iterable[int]) -> None:
        """Drop the filters of tracks that ended."""
        for track_id in track_ids:
            self._states.pop(int(track_id), None)

    def update(
        self,
        timestamp_s: float,
        track_ids: np.ndarray,
        keypoints: np.ndarray,
        scores: np.ndarray,
        heights: np.ndarray,
    ) -> np.ndarray:
        """Smoothed keypoints for this frame.

        Args:
            timestamp_s: the frame's time in seconds.
            track_ids: ``(N,)`` track ID per person.
            keypoints: ``(N, K, 2)`` raw keypoints, image pixels.
            scores: ``(N, K)`` keypoint confidences in [0, 1].
            heights: ``(N,)`` person heights in pixels (box heights), the noise scale.

        Returns:
            ``(N, K, 2)`` float32 smoothed keypoints, image pixels.
        """
        keypoints = np.asarray(keypoints, np.float64)
        smoothed = np.zeros_like(keypoints)
        for i, track_id in enumerate(np.asarray(track_ids).tolist()):
            height = max(float(heights[i]), 1.0)
            state = self._states.get(track_id)
            if state is None:
                state = self._start(timestamp_s, keypoints[i], scores[i], height)
                self._states[track_id] = state
            else:
                self._step(state, timestamp_s, keypoints[i], scores[i], height)
            smoothed[i] = state.x[:, [0, 2]]
        return smoothed.astype(np.float32)

    def _start(
        self, timestamp_s: float, points: np.ndarray, scores: np.ndarray, height: float
    ) -> _TrackState:
        starts = [self.model.initial(p, float(s), height) for p, s in zip(points, scores, strict=True)]
        return _TrackState(
            x=np.stack([x for x, _ in starts]),
            P=np.stack([p for _, p in starts]),
            timestamp_s=timestamp_s,
            updated_s=np.full(len(points), timestamp_s),
        )

    def _step(
        self, state: _TrackState, timestamp_s: float, points: np.ndarray, scores: np.ndarray, height: float
    ) -> None:
        dt = timestamp_s - state.timestamp_s
        transition = self.model.transition(dt)
        process_noise = self.model.process_noise(dt, height)
        for k, (point, score) in enumerate(zip(points, scores, strict=True)):
            score = float(score)
            confident = score >= self.config.min_score
            if not confident and timestamp_s - state.updated_s[k] > MAX_COAST_S:
                state.x[k], state.P[k] = self.model.initial(point, score, height)
                state.updated_s[k] = timestamp_s
                continue
            if dt > 0:
                state.x[k], state.P[k] = predict(state.x[k], state.P[k], F=transition, Q=process_noise)
            if confident:
                noise = self.model.measurement_noise(score, height)
                state.x[k], state.P[k] = update(state.x[k], state.P[k], point, noise, _H)
                state.updated_s[k] = timestamp_s
        state.timestamp_s = timestamp_s
