"""Kalman smoother: jitter down by a stated factor within a stated lag; real time steps; weak keypoints."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.config import SmootherConfig
from app.core.tracking.smoother import KeypointSmoother

HEIGHT_PX = 200.0
FPS = 30.0
NOISE_PX = 2.0  # 1 % of the person's height, per coordinate
WARM_UP = 30  # frames left out of the measures while the filters settle

# Jitter reduction and lag bound at the default strength (0.5), measured by
# test_default_strength_cuts_jitter_with_bounded_lag on this synthetic walk: jitter 2.8x lower, lag 0 frames.
JITTER_FACTOR = 2.5
MAX_LAG_FRAMES = 1


def walking_keypoints(frames: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(T,)`` timestamps and ``(T, 17, 2)`` true keypoints: walking at 60 px/s, limbs swinging at 1 Hz."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / FPS
    centre = np.stack([100 + 60 * t, np.full_like(t, 300)], axis=1)
    phase = rng.uniform(0, 2 * np.pi, 17)
    amplitude = rng.uniform(0, 0.15, 17) * HEIGHT_PX
    swing = np.sin(2 * np.pi * t[:, None] + phase) * amplitude
    bob = 0.3 * np.cos(2 * np.pi * t[:, None] + phase) * amplitude
    return t, centre[:, None, :] + np.stack([swing, bob], axis=2)


def smooth(times, keypoints, scores, config: SmootherConfig | None = None) -> np.ndarray:
    smoother = KeypointSmoother(config)
    heights = np.array([HEIGHT_PX])
    return np.stack([
        smoother.update(t, np.array([7]), points[None], frame_scores[None], heights)[0]
        for t, points, frame_scores in zip(times, keypoints, scores, strict=True)
    ])


def jitter(points: np.ndarray) -> float:
    """RMS frame-to-frame acceleration (second difference), pixels per frame squared."""
    return float(np.sqrt(np.mean(np.sum(np.diff(points[WARM_UP:], n=2, axis=0) ** 2, axis=-1))))


def lag_frames(estimate: np.ndarray, truth: np.ndarray, max_shift: int = 8) -> int:
    """The delay (frames) that best aligns the estimate with the truth."""
    errors = [np.mean(np.sum((estimate[WARM_UP + d:] - truth[WARM_UP:len(truth) - d]) ** 2, axis=-1))
              for d in range(max_shift)]
    return int(np.argmin(errors))


def rms_error(estimate: np.ndarray, truth: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.sum((estimate[WARM_UP:] - truth[WARM_UP:]) ** 2, axis=-1))))


@pytest.fixture(scope="module")
def noisy_walk():
    times, truth = walking_keypoints(300)
    measured = truth + np.random.default_rng(1).normal(0, NOISE_PX, truth.shape)
    return times, truth, measured, np.full(truth.shape[:2], 0.8)


def test_default_strength_cuts_jitter_with_bounded_lag(noisy_walk):
    times, truth, measured, scores = noisy_walk
    smoothed = smooth(times, measured, scores)
    assert jitter(measured) / jitter(smoothed) >= JITTER_FACTOR
    assert lag_frames(smoothed, truth) <= MAX_LAG_FRAMES
    assert rms_error(smoothed, truth) < rms_error(measured, truth)


def test_strength_trades_jitter_for_lag(noisy_walk):
    times, _, measured, scores = noisy_walk
    jitters = [jitter(smooth(times, measured, scores, SmootherConfig(strength=s))) for s in (0.0, 0.5, 1.0)]
    assert jitters[0] > jitters[1] > jitters[2]


def test_time_step_comes_from_timestamps():
    # Constant velocity sampled at irregular times (as when a camera drops frames): a filter that assumed one
    # frame per step would mis-predict after every gap; with real dt it stays on the line.
    velocity = np.array([120.0, -30.0])
    times = np.cumsum(np.r_[0.0, np.tile([1 / 30, 1 / 30, 4 / 30, 1 / 30, 2 / 30], 20)])
    truth = np.array([100.0, 300.0]) + times[:, None] * velocity
    keypoints = np.repeat(truth[:, None, :], 17, axis=1)
    smoothed = smooth(times, keypoints, np.full((len(times), 17), 0.9))
    assert np.abs(smoothed[WARM_UP:] - keypoints[WARM_UP:]).max() < 0.5


def test_low_score_keypoints_are_predicted_not_updated():
    times = np.arange(60) / FPS
    truth = np.repeat((np.array([100.0, 300.0]) + times[:, None] * [90.0, 0.0])[:, None], 17, axis=1)
    scores = np.full((60, 17), 0.9)
    corrupted = truth.copy()
    corrupted[40:43, 9] += 80.0  # the left wrist jumps 80 px for three frames...
    scores[40:43, 9] = 0.1  # ...but the estimator is unsure of it there
    smoothed = smooth(times, corrupted, scores, SmootherConfig(min_score=0.3))
    assert np.abs(smoothed[40:43, 9] - truth[40:43, 9]).max() < 1.0  # carried on along its motion
    scores[40:43, 9] = 0.9  # the same jump, confidently measured, is followed
    followed = smooth(times, corrupted, scores, SmootherConfig(min_score=0.3))
    assert np.abs(followed[42, 9] - truth[42, 9]).max() > 40.0
    scores[40:43, 9] = 0.3  # a score equal to min_score counts as confident
    at_floor = smooth(times, corrupted, scores, SmootherConfig(min_score=0.3))
    assert np.abs(at_floor[42, 9] - truth[42, 9]).max() > 20.0


def test_measurement_noise_scales_with_score():
    times = np.arange(40) / FPS
    still = np.full((40, 17, 2), 100.0)
    still[30:, :, 0] = 110.0  # a 10 px step at frame 30
    steps = {}
    for score in (0.4, 0.95):
        smoothed = smooth(times, still, np.full((40, 17), score))
        steps[score] = smoothed[31, 0, 0] - 100.0
    assert steps[0.95] > steps[0.4] > 0


def test_tracks_are_smoothed_independently_and_forgotten():
    smoother = KeypointSmoother()
    heights = np.array([HEIGHT_PX, HEIGHT_PX])
    a, b = np.full((17, 2), 50.0), np.full((17, 2), 400.0)
    scores = np.full((2, 17), 0.9)
    first = smoother.update(0.0, np.array([1, 2]), np.stack([a, b]), scores, heights)
    np.testing.assert_allclose(first, np.stack([a, b]))  # a new track starts at its measurement
    swapped = smoother.update(1 / 30, np.array([2, 1]), np.stack([b, a]), scores, heights)
    np.testing.assert_allclose(swapped, np.stack([b, a]), atol=1e-3)
    smoother.forget([1])
    restarted = smoother.update(2 / 30, np.array([1]), (a + 100)[None], scores[:1], heights[:1])
    np.testing.assert_allclose(restarted[0], a + 100)  # track 1 starts afresh: no pull from its old state
    smoother.reset()
    after_reset = smoother.update(3 / 30, np.array([1, 2]), np.stack([a, b]) + 60, scores, heights)
    np.testing.assert_allclose(after_reset, np.stack([a, b]) + 60)  # every track starts afresh


def test_noise_scales_with_the_person_height(noisy_walk):
    # One setting suits people near and far: a person twice as tall, measured with twice the pixel noise,
    # is smoothed to exactly twice the coordinates.
    times, _, measured, scores = noisy_walk
    near, far = KeypointSmoother(), KeypointSmoother()
    for t, points, frame_scores in zip(times[:60], measured[:60], scores[:60], strict=True):
        small = far.update(t, np.array([1]), points[None], frame_scores[None], np.array([HEIGHT_PX]))
        large = near.update(t, np.array([1]), 2 * points[None], frame_scores[None], np.array([2 * HEIGHT_PX]))
        np.testing.assert_allclose(large, 2 * small, rtol=1e-5)


def reference_smooth(times, keypoints, scores, config: SmootherConfig) -> np.ndarray:
    """The smoother's maths written as one 4-state filterpy filter per keypoint (state [x, vx, y, vy])."""
    from filterpy.common import Q_discrete_white_noise
    from filterpy.kalman import predict, update

    from app.core.tracking import smoother as module

    accel = module.ConstantVelocityModel.from_strength(config.strength).accel_std
    read_xy = np.array([[1.0, 0, 0, 0], [0, 0, 1.0, 0]])

    def start(point, score):
        position = (module.MEASUREMENT_STD * HEIGHT_PX / max(score, module.MIN_SCORE_FLOOR)) ** 2
        speed = (module.INITIAL_SPEED_STD * HEIGHT_PX) ** 2
        return np.array([point[0], 0, point[1], 0]), np.diag([position, speed, position, speed])

    states = [start(p, s) for p, s in zip(keypoints[0], scores[0], strict=True)]
    updated = np.full(keypoints.shape[1], times[0])
    out = [keypoints[0]]
    for previous, now, points, frame_scores in zip(
        times[:-1], times[1:], keypoints[1:], scores[1:], strict=True
    ):
        dt = now - previous
        transition = np.kron(np.eye(2), [[1.0, dt], [0.0, 1.0]])
        noise = Q_discrete_white_noise(2, dt, (accel * HEIGHT_PX) ** 2, block_size=2, order_by_dim=True)
        for k, (point, score) in enumerate(zip(points, frame_scores, strict=True)):
            confident = score >= config.min_score
            if not confident and now - updated[k] > module.MAX_COAST_S:
                states[k], updated[k] = start(point, score), now
                continue
            states[k] = predict(*states[k], F=transition, Q=noise)
            if confident:
                variance = (module.MEASUREMENT_STD * HEIGHT_PX / max(score, module.MIN_SCORE_FLOOR)) ** 2
                states[k] = update(*states[k], point, np.eye(2) * variance, read_xy)
                updated[k] = now
        out.append([x[[0, 2]] for x, _ in states])
    return np.array(out)


def test_stacked_filters_equal_one_filter_per_keypoint(noisy_walk):
    times, _, measured, scores = noisy_walk
    rng = np.random.default_rng(2)
    scores = np.where(rng.random(scores.shape) < 0.2, 0.1, rng.uniform(0.3, 1.0, scores.shape))
    scores[100:125, 3] = 0.1  # longer than MAX_COAST_S: keypoint 3 restarts
    jittered_times = times + rng.uniform(0, 0.01, len(times))
    config = SmootherConfig(min_score=0.2)
    np.testing.assert_allclose(
        smooth(jittered_times, measured, scores, config),
        reference_smooth(jittered_times, measured, scores, config),
        atol=1e-3,
    )
