"""Top-down pose estimation: keypoint sets, geometry, heatmap codecs, models and the estimator."""
