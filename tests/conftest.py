"""Test-wide settings: Qt offscreen, no ultralytics network, one intra-op thread.

One thread: the suite runs models in the test process, in subprocesses (CLI tests) and in a GUI worker
thread; torch's default of one thread per core oversubscribes a 2-core CI machine and made single
forwards 10-70x slower there. Benchmarks, not tests, measure multi-threaded speed.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
