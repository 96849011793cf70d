"""Per-keypoint constant-velocity Kalman smoothing (filterpy), with time steps from real timestamps.

Every (track, keypoint) has a state ``[x, vx, y, vy]`` (pixels, pixels per second) and its covariance. The
keypoints' filters are independent, so one track's filters are stacked into one block-diagonal filter
(state ``(4K,)``, covariance ``(4K, 4K)``) and run by one filterpy ``predict``/``update`` per frame: the
same arithmetic as K separate 4-state filters (tested against them) in one call instead of K
(``python tests/benchmarks/smoother_cost.py`` measures the cost per frame).
The track's :class:`_TrackState` owns the state; the :class:`ConstantVelocityModel` only builds matrices.
Noise is measured in units of the person's height, so one setting suits people near and far:

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
STATE = 4
"""State entries per keypoint: x, vx, y, vy."""
POSITIONS = np.array([0, 2])
"""Where x and y sit in one keypoint's state."""


@dataclass(frozen=True)
class ConstantVelocityModel:
    """Matrices of K independent 2-D constant-velocity filters stacked block-diagonally; holds no state.

    Keypoint k owns state entries ``4k .. 4k+3`` (``[x, vx, y, vy]``) and measurement entries ``2k, 2k+1``.
    """

    accel_std: float  # person heights / s^2

    @classmethod
    def from_strength(cls, strength: float) -> ConstantVelocityModel:
        return cls(accel_std=ACCEL_AT_ZERO * (ACCEL_AT_ONE / ACCEL_AT_ZERO) ** strength)

    @staticmethod
    def transition(dt: float, keypoints: int) -> np.ndarray:
        """``(4K, 4K)`` state transition over ``dt`` seconds."""
        return np.kron(np.eye(2 * keypoints), np.array([[1.0, dt], [0.0, 1.0]]))

    def process_noise(self, dt: float, height: float, keypoints: int) -> np.ndarray:
        """``(4K, 4K)`` white-acceleration process noise over ``dt`` seconds."""
        one_axis = Q_discrete_white_noise(dim=2, dt=dt, var=(self.accel_std * height) ** 2)
        return np.kron(np.eye(2 * keypoints), one_axis)

    @staticmethod
    def measurement_variance(scores: np.ndarray, height: float) -> np.ndarray:
        """``(K,)`` variance of each keypoint's x and y measurement."""
        return (MEASUREMENT_STD * height / np.maximum(scores, MIN_SCORE_FLOOR)) ** 2

    @staticmethod
    def measurement(selected: np.ndarray, keypoints: int) -> np.ndarray:
        """``(2M, 4K)`` matrix reading x and y of the ``selected`` keypoints (M indices) from the state."""
        rows = np.zeros((2 * len(selected), STATE * keypoints))
        columns = (STATE * selected[:, None] + POSITIONS).ravel()
        rows[np.arange(len(columns)), columns] = 1.0
        return rows

    @staticmethod
    def initial(points: np.ndarray, scores: np.ndarray, height: float) -> tuple[np.ndarray, np.ndarray]:
        """``(4M,)`` states and ``(4M,)`` diagonal variances: M filters at rest at ``points`` (M, 2)."""
        states = np.zeros((len(points), STATE))
        states[:, POSITIONS] = points
        variances = np.empty((len(points), STATE))
        variances[:, POSITIONS] = ConstantVelocityModel.measurement_variance(scores, height)[:, None]
        variances[:, [1, 3]] = (INITIAL_SPEED_STD * height) ** 2
        return states.ravel(), variances.ravel()


@dataclass
class _TrackState:
    """One track's stacked filters: ``x`` (4K,), ``P`` (4K, 4K), the last step's time and, per keypoint,
    the last update's time ``updated_s`` (K,)."""

    x: np.ndarray
    P: np.ndarray
    timestamp_s: float
    updated_s: np.ndarray

    def positions(self) -> np.ndarray:
        """``(K, 2)`` filtered keypoints."""
        return self.x.reshape(-1, STATE)[:, POSITIONS]

    def restart(self, selected: np.ndarray, points: np.ndarray, scores: np.ndarray, height: float,
                timestamp_s: float) -> None:
        """Start the filters of the ``selected`` keypoints (M indices) afresh at ``points`` (M, 2)."""
        entries = (STATE * selected[:, None] + np.arange(STATE)).ravel()
        self.x[entries], variances = ConstantVelocityModel.initial(points, scores, height)
        self.P[entries, :] = 0.0
        self.P[:, entries] = 0.0
        self.P[entries, entries] = variances
        self.updated_s[selected] = timestamp_s


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
        scores = np.asarray(scores, np.float64)
        smoothed = np.zeros_like(keypoints)
        for i, track_id in enumerate(np.asarray(track_ids).tolist()):
            height = max(float(heights[i]), 1.0)
            state = self._states.get(track_id)
            if state is None:
                state = self._start(timestamp_s, keypoints[i], scores[i], height)
                self._states[track_id] = state
            else:
                self._step(state, timestamp_s, keypoints[i], scores[i], height)
            smoothed[i] = state.positions()
        return smoothed.astype(np.float32)

    def _start(
        self, timestamp_s: float, points: np.ndarray, scores: np.ndarray, height: float
    ) -> _TrackState:
        x, variances = self.model.initial(points, scores, height)
        return _TrackState(x, np.diag(variances), timestamp_s, np.full(len(points), timestamp_s))

    def _step(
        self, state: _TrackState, timestamp_s: float, points: np.ndarray, scores: np.ndarray, height: float
    ) -> None:
        count = len(points)
        dt = timestamp_s - state.timestamp_s
        if dt > 0:
            transition = self.model.transition(dt, count)
            process_noise = self.model.process_noise(dt, height, count)
            state.x, state.P = predict(state.x, state.P, F=transition, Q=process_noise)
        confident = scores >= self.config.min_score
        stale = ~confident & (timestamp_s - state.updated_s > MAX_COAST_S)
        if stale.any():
            selected = np.flatnonzero(stale)
            state.restart(selected, points[selected], scores[selected], height, timestamp_s)
        if confident.any():
            selected = np.flatnonzero(confident)
            noise = np.diag(np.repeat(self.model.measurement_variance(scores[selected], height), 2))
            state.x, state.P = update(
                state.x, state.P, points[selected].ravel(), noise, self.model.measurement(selected, count)
            )
            state.updated_s[selected] = timestamp_s
        state.timestamp_s = timestamp_s
