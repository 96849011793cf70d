"""Following people over time: the tracker (stable IDs) and the per-keypoint Kalman smoother."""
