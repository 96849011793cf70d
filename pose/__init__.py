"""Top-down pose estimation: keypoint sets, geometry, heatmap codecs, models and the estimator."""

LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
"""How ``main.py``, and the training processes it may spawn, format log lines."""
