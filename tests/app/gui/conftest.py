"""GUI test fixtures: a tiny clip, fast pipeline settings, and a main window with isolated settings.

Every test drives real widgets offscreen (``QT_QPA_PLATFORM=offscreen`` from tests/conftest.py) with the
real pipeline: the tiny EDite test variant with random weights, no detector (the whole frame is one person)
and the pose score floor at 0, so every frame reports exactly one person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
from gui_support import READY_TIMEOUT_MS, write_clip

from app.core.config import DetectorConfig, ModelConfig, PipelineConfig, RenderConfig
from app.gui.main_window import MainWindow
from app.gui.settings import AppSettings
from app.gui.worker import PipelineWorker


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> Iterator[None]:
    """The worker thread and Qt share the CPU with other test processes: oversubscribed intra-op threads
    make the tiny model 10-100x slower there, one thread keeps it at tens of milliseconds."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


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
