"""GUI test fixtures: a tiny clip, fast pipeline settings, and a main window with isolated settings.

Every test drives real widgets offscreen (``QT_QPA_PLATFORM=offscreen`` from tests/conftest.py) with the
real pipeline: the tiny EDite test variant with random weights, no detector (the whole frame is one person)
and the pose score floor at 0, so every frame reports exactly one person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from app.core.config import DetectorConfig, ModelConfig, PipelineConfig, RenderConfig
from app.gui.main_window import MainWindow
from app.gui.settings import AppSettings
from app.gui.worker import PipelineWorker

CLIP_FRAMES = 8
CLIP_FPS = 10.0
CLIP_SIZE = (128, 96)  # width, height
READY_TIMEOUT_MS = 60_000
"""Generous limits for a loaded 2-core CI machine; tests wait on signals and finish as soon as they come."""


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> Iterator[None]:
    """The worker thread and Qt share the CPU with other test processes: oversubscribed intra-op threads
    make the tiny model 10-100x slower there, one thread keeps it at tens of milliseconds."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def write_clip(path: Path, frames: int = CLIP_FRAMES, fps: float = CLIP_FPS) -> Path:
    """A small MPEG-4 clip: a bright 'person' rectangle walking right over a dark gradient."""
    width, height = CLIP_SIZE
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    assert writer.isOpened(), "OpenCV cannot write mp4v here"
    background = np.tile(np.linspace(20, 80, width, dtype=np.uint8)[None, :, None], (height, 1, 3))
    for index in range(frames):
        image = background.copy()
        left = 10 + index * 8
        cv2.rectangle(image, (left, 15), (left + 30, 85), (200, 180, 160), -1)
        writer.write(image)
    writer.release()
    return path


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clip(tmp_path_factory.mktemp("clips") / "walk.mp4")


@pytest.fixture(scope="session")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clip(tmp_path_factory.mktemp("clips") / "long.mp4", frames=60)


@pytest.fixture
def fast_config() -> PipelineConfig:
    return PipelineConfig(
        model=ModelConfig(name="edite_hrnet_tiny", device="cpu", flip=False),
        detector=DetectorConfig(name="none", min_pose_score=0.0),
        render=RenderConfig(min_score=0.0),
    )


@pytest.fixture
def settings_path(tmp_path: Path, fast_config: PipelineConfig) -> Path:
    path = tmp_path / "settings.ini"
    settings = AppSettings.at(path)
    settings.set_pipeline_config(fast_config)
    settings.sync()
    return path


@pytest.fixture
def make_window(qtbot, settings_path: Path) -> Callable[..., MainWindow]:
    """Builds a shown main window and waits until its first pipeline is ready."""

    def make(worker: PipelineWorker | None = None) -> MainWindow:
        window = MainWindow(AppSettings.at(settings_path), worker)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: window.status.device_label.text() != "", timeout=READY_TIMEOUT_MS)
        return window

    return make


@pytest.fixture
def window(make_window: Callable[..., MainWindow]) -> MainWindow:
    return make_window()


def open_paused(qtbot, window: MainWindow, spec: str) -> None:
    """Open ``spec`` in process mode (it shows the first frame, then waits) until that frame is on screen."""
    window.transport.set_mode("process")
    shown = window.view.frames_shown
    window.open_source(spec)
    qtbot.waitUntil(lambda: window.view.frames_shown > shown and window.transport.play_button.isEnabled(),
                    timeout=READY_TIMEOUT_MS)
