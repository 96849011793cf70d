"""main.py's process-wide settings, checked in fresh interpreters (they act before torch and numpy load)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
