"""Errors the application reports to the user in one line (the CLI prints them; the GUI shows them).

Each message names the thing that was wrong (a path, a camera index, a model) and, where it helps, what to do.
"""

from __future__ import annotations

import errno
from pathlib import Path

SHOWN_PATH_CHARS = 120
"""Paths longer than this are shown with their middle elided (``…``) in messages."""


class AppError(RuntimeError):
    """Base of every error meant for the user rather than for a traceback."""


class SourceError(AppError):
    """A frame source could not be opened or read (missing file, not a video, truncated, no camera)."""


class SinkError(AppError):
    """An output (CSV, metadata, recording) could not be written."""


class ModelLoadError(AppError):
    """A pose model, its weights, or a detector could not be set up."""


def one_line(error: BaseException) -> str:
    """The error's message as one line: its first line, cut before a parenthesis that the cut left open.

    Some libraries append multi-line detail (e.g. torch's unpickling advice) to a clear first sentence;
    the user gets the sentence, ``--verbose`` logs the rest.
    """
    lines = str(error).strip().splitlines() or [type(error).__name__]
    first = lines[0].strip()
    if len(lines) > 1 and first.count("(") > first.count(")"):
        first = first[: first.rfind("(")].rstrip(" :")
    return first


def shown(path: str | Path, limit: int = SHOWN_PATH_CHARS) -> str:
    """``path`` for a one-line message: as is, or its start and end around ``…`` if over ``limit`` chars."""
    text = str(path)
    if len(text) <= limit:
        return text
    tail = limit * 2 // 3
    return f"{text[: limit - tail - 1]}…{text[-tail:]}"


def path_problem(error: OSError) -> str:
    """What an ``OSError`` from looking at a path means, in words (not errno's text alone)."""
    if error.errno == errno.ENAMETOOLONG:
        return "file name is too long for this system (255 bytes a name, 4096 a path on Linux)"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if error.errno == errno.ELOOP:
        return "too many levels of symbolic links"
    return error.strerror or str(error)
