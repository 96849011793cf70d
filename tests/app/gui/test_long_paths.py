"""Long paths in the GUI (issue 14): elided so no window outgrows the screen; clear messages, no errno."""

from __future__ import annotations

import shutil

from gui_support import READY_TIMEOUT_MS, open_paused
from PySide6.QtCore import Qt

from app.gui.messages import ELIDE_CHARS, elide_words

FULL_HD = 1920


def type_path(qtbot, edit, path) -> None:
    """Type a path into a line edit and press Enter, as a user would."""
    edit.clear()
    qtbot.keyClicks(edit, str(path))
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def test_long_words_are_elided_in_the_middle():
    text = "cannot write '" + "/d" * 150 + "/out.csv': no"
    elided = elide_words(text, limit=30)
    assert elided.startswith("cannot write '") and elided.endswith("/out.csv': no")
    assert max(len(word) for word in elided.split(" ")) == 30 and "…" in elided
    assert elide_words("short words stay") == "short words stay"


def _fits(label, characters: int) -> bool:
    """Whether ``label`` needs no more width than ``characters`` of its widest letters."""
    return label.minimumSizeHint().width() <= label.fontMetrics().horizontalAdvance("W" * characters)


def test_long_source_and_output_paths_keep_the_window_on_screen(qtbot, window, tmp_path, clip):
    folder = tmp_path / ("d" * 200)
    folder.mkdir()
    source = folder / ("s" * 240 + ".mp4")
    shutil.copy(clip, source)
    type_path(qtbot, window.outputs_panel.csv_edit, folder / ("c" * 240 + ".csv"))
    assert window.outputs_panel.problem_label.isHidden()
    assert window.outputs_panel.csv_edit.toolTip().endswith("c" * 240 + ".csv")  # the full path, on hover
    open_paused(qtbot, window, str(source))
    assert _fits(window.status.source_label, 40) and window.status.source_label.toolTip() == str(source)
    with qtbot.waitSignal(window.controller.run_finished, timeout=READY_TIMEOUT_MS):
        window.transport.play_button.click()
    assert "processed" in window.banner.text() and "…" in window.banner.text()
    assert _fits(window.banner.label, ELIDE_CHARS + 20)  # the longest word, elided, and the words before it
    assert window.minimumSizeHint().width() <= FULL_HD  # 2,490 px before


def test_a_300_character_output_name_is_a_clear_message_on_screen(qtbot, window, tmp_path):
    type_path(qtbot, window.outputs_panel.video_edit, tmp_path / ("v" * 300 + ".mp4"))
    problem = window.outputs_panel.problem_label
    assert not problem.isHidden()
    assert "file name is too long (304 characters; at most 255 here)" in problem.text()
    assert "Errno" not in problem.text() and "File name too long" not in problem.text()
    assert _fits(problem, ELIDE_CHARS + 20)
    type_path(qtbot, window.outputs_panel.video_edit, tmp_path / "fine.mp4")
    assert problem.isHidden()
