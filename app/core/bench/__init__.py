"""``main.py bench``: speed of our pipeline next to MediaPipe Pose and YOLO11n-pose, on the CPU."""
