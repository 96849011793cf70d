"""main.py's process-wide settings, checked in fresh interpreters (they act before torch is imported)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def spin_count_seen_by_torch(environment: dict[str, str]) -> str:
    script = "import main, os, torch; print(os.environ['GOMP_SPINCOUNT'])"
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=environment, capture_output=True,
                          text=True, check=True)
    return done.stdout.strip()


@pytest.mark.parametrize("given, expected", [(None, "10000"), ("500", "500")])
def test_openmp_spin_count_is_short_unless_the_user_set_one(given, expected):
    environment = {key: value for key, value in os.environ.items() if key != "GOMP_SPINCOUNT"}
    if given is not None:
        environment["GOMP_SPINCOUNT"] = given
    assert spin_count_seen_by_torch(environment) == expected
