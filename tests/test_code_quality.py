"""The repository stays ruff-clean and keeps its import-layer contracts (see pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys

from support import REPO_ROOT


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)


def test_ruff_is_clean():
    result = _run(sys.executable, "-m", "ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_contracts_hold():
    lint_imports = shutil.which("lint-imports")
    assert lint_imports, "import-linter is not installed: pip install -e '.[dev]'"
    result = _run(lint_imports)
    assert result.returncode == 0, result.stdout + result.stderr


def test_core_does_not_load_qt():
    probe = "import sys, app.core, app.core.cli; assert 'PySide6' not in sys.modules, 'PySide6 loaded'"
    result = _run(sys.executable, "-c", probe)
    assert result.returncode == 0, result.stderr


def test_main_help_lists_every_subcommand():
    result = _run(sys.executable, "main.py", "--help")
    assert result.returncode == 0, result.stderr
    for command in ("gui", "run", "eval", "train", "distill", "bench", "info"):
        assert command in result.stdout
