"""Errors the application reports to the user in one line (the CLI prints them; the GUI shows them).

Each message names the thing that was wrong (a path, a camera index, a model) and, where it helps, what to do.
"""

from __future__ import annotations


class AppError(RuntimeError):
    """Base of every error meant for the user rather than for a traceback."""


class SourceError(AppError):
    """A frame source could not be opened or read (missing file, not a video, truncated, no camera)."""


class SinkError(AppError):
    """An output (CSV, metadata, recording) could not be written."""


class ModelLoadError(AppError):
    """A pose model, its weights, or a detector could not be set up."""
