"""Open a clip, play it to the end, step and seek, lock a person by clicking."""

from __future__ import annotations

from gui_support import CLIP_FRAMES, READY_TIMEOUT_MS

from app.core.session import RunSession
from app.gui.worker import PipelineWorker


def test_open_clip_plays_to_the_end(qtbot, window, clip):
    with qtbot.waitSignal(window.controller.ended, timeout=READY_TIMEOUT_MS):
        window.open_source(str(clip))
    qtbot.waitUntil(lambda: window.transport.slider.value() == CLIP_FRAMES - 1)
    assert window.view.frames_shown >= 1
    assert window.view.result.num_people == 1
    assert window.transport.play_button.text() == "Play"
    assert "walk.mp4" in window.status.source_label.text()
    assert window.status.resolution_label.text().startswith("128x96")
    assert "edite_hrnet_tiny on cpu" in window.status.device_label.text()
    assert "detector: none" in window.status.detector_label.text()
    assert "ms:" in window.status.stages_label.text()

    shown = window.view.frames_shown
    with qtbot.waitSignal(window.controller.ended, timeout=READY_TIMEOUT_MS):
        window.transport.play_button.click()  # at the end, Play starts again from the first frame
    assert window.view.frames_shown > shown
    assert window.view.result.frame_index == CLIP_FRAMES - 1


class SlowClock:
    """A clock on which every reading is 0.25 s later: processing looks 2.5x slower than this 10 fps clip."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.25
        return self.now


def test_watch_mode_skips_late_frames_to_stay_in_real_time(qtbot, make_window, clip):
    window = make_window(PipelineWorker(RunSession(), clock=SlowClock()))
    with qtbot.waitSignal(window.controller.ended, timeout=READY_TIMEOUT_MS):
        window.open_source(str(clip))
    assert window.view.result.frame_index == CLIP_FRAMES - 1  # the last frame is always shown
    shown = window.view.frames_shown
    skipped = int(window.status.drops_label.text().removeprefix("skipped "))
    assert skipped > 0 and shown + skipped <= CLIP_FRAMES  # the screen may also coalesce frames
