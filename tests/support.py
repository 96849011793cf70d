"""Shared test constants (``tests/`` is on ``sys.path`` through pytest's ``pythonpath`` setting)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
"""The repository checkout the tests run from."""
