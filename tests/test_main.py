"""main.py: process-wide settings, checked in fresh interpreters (they act before torch and numpy load), the
commands' help lines, and a mistyped command refused instead of opening the GUI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import main
from app.gui import app as gui_app

REPO_ROOT = Path(__file__).resolve().parents[1]


def variable_after_importing_main(name: str, given: str | None) -> str:
    """``os.environ[name]`` in a fresh interpreter after ``import main``, ``name`` set to ``given`` first."""
    environment = {key: value for key, value in os.environ.items() if key != name}
    if given is not None:
        environment[name] = given
    script = f"import main, os; print(os.environ[{name!r}])"
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=environment, capture_output=True,
                          text=True, check=True)
    return done.stdout.strip()


@pytest.mark.parametrize("name, default", [("GOMP_SPINCOUNT", "10000"), ("OPENBLAS_NUM_THREADS", "1")])
def test_idle_threads_are_kept_from_spinning_unless_the_user_chose(name, default):
    assert variable_after_importing_main(name, None) == default
    assert variable_after_importing_main(name, "7") == "7"


def test_a_mistyped_command_is_refused_before_the_gui_starts(monkeypatch, capsys):
    monkeypatch.setattr(gui_app, "run_app", lambda *args, **kwargs: pytest.fail("the GUI was started"))
    with pytest.raises(SystemExit) as stopped:
        main.main(["trian", "--settings", "x.ini"])
    assert stopped.value.code == 2
    message = capsys.readouterr().err.splitlines()[-1]
    assert message.startswith("edite-pose: error: unknown command 'trian': choose one of gui, run, eval")


def test_an_existing_file_with_a_command_like_name_still_opens_in_the_gui(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "clip").write_bytes(b"")
    opened = []
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setattr(gui_app, "run_app", lambda source, *args, **kwargs: opened.append(source) or 0)
    assert main.main(["clip"]) == 0
    assert main.main(["gui", "missing"]) == 0  # named explicitly: the GUI says what is wrong with it
    assert opened == ["clip", "missing"]


def test_each_command_help_line_is_its_whole_first_paragraph():
    commands = next(action for action in main.build_parser()._actions if action.dest == "command")
    helps = {choice.dest: choice.help for choice in commands._choices_actions}
    assert helps["bench"].endswith("keypoint AP next to YOLO11n-pose, MediaPipe Pose and MoveNet on one set.")
    assert helps["info"].endswith("(timed once per machine and weights, then cached: pose.runtime_autotune).")
    assert all(help_line.endswith(".") and "\n" not in help_line for help_line in helps.values())
