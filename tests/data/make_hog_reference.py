"""Regenerate detectors/hog_people_svm.json and tests/data/hog_reference.npz from OpenCV 4.x.

OpenCV 5 moved HOG out of opencv-python, so the project computes HOG itself (detectors/hog_features.py).
This script, run ONCE with an opencv-python 4.x wheel in a throw-away virtual environment, exports
  * OpenCV's default people detector (Dalal-Triggs linear SVM, 3780 weights + bias), and
  * reference HOG descriptors and SVM scores of two windows cut from tests/data/vtest_frame100.jpg,
which tests/detectors/test_hog_features.py compares with our implementation.

    python -m venv /tmp/cv4 && /tmp/cv4/bin/pip install "opencv-python-headless<5"
    /tmp/cv4/bin/python tests/data/make_hog_reference.py
"""

import json
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]
assert cv2.__version__.startswith("4."), f"needs OpenCV 4.x (HOGDescriptor), found {cv2.__version__}"

svm = cv2.HOGDescriptor_getDefaultPeopleDetector().ravel().astype(np.float32)
(REPO / "detectors" / "hog_people_svm.json").write_text(
    json.dumps(
        {
            "description": "OpenCV default people detector: linear SVM on 64x128 HOG windows (Dalal-Triggs).",
            "source": f"cv2.HOGDescriptor_getDefaultPeopleDetector(), opencv-python {cv2.__version__}",
            "licence": "Apache-2.0 (OpenCV 4.5+); see assets/README.md",
            "regenerate": "tests/data/make_hog_reference.py",
            "layout": "weights[3780] in OpenCV order: block x, block y, cell x, cell y, bin; then bias",
            "weights": [float(w) for w in svm[:-1]],
            "bias": float(svm[-1]),
        },
        indent=None,
    )
    + "\n"
)

frame = cv2.imread(str(REPO / "tests" / "data" / "vtest_frame100.jpg"))
hog = cv2.HOGDescriptor()  # 64x128 window, 16x16 blocks, 8x8 stride and cells, 9 bins, sigma 4, L2-Hys 0.2
window = np.ascontiguousarray(frame[150:278, 340:404])  # a lone window: borders are reflected
region = np.ascontiguousarray(frame[134:278, 324:420])  # a 96x144 region, window at (16, 16) inside it
window_descriptor = hog.compute(window).ravel()
region_descriptor = hog.compute(region, winStride=(8, 8), padding=(0, 0), locations=[(16, 16)]).ravel()
np.savez_compressed(
    REPO / "tests" / "data" / "hog_reference.npz",
    window=window,
    window_descriptor=window_descriptor,
    window_score=np.float32(window_descriptor @ svm[:-1] + svm[-1]),
    region=region,
    region_descriptor=region_descriptor,
    region_score=np.float32(region_descriptor @ svm[:-1] + svm[-1]),
    opencv_version=cv2.__version__,
)
print("wrote detectors/hog_people_svm.json and tests/data/hog_reference.npz")
