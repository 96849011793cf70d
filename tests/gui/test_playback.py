"""Open a clip, play it to the end, step and seek, lock a person by clicking."""

from __future__ import annotations

from conftest import CLIP_FRAMES, READY_TIMEOUT_MS


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
