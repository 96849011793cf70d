"""Files written whole or not at all: written beside their place (``NAME.partial``) and moved into it, so an
interrupted write or a full disk never leaves a truncated file under the real name."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def write_atomically(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """``write(partial)`` to ``NAME.partial`` beside ``path`` (its folder made when needed), then move it to
    ``path``; returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    write(partial)
    os.replace(partial, path)
    return path


def write_text_atomically(path: str | os.PathLike[str], text: str) -> Path:
    """``path`` holding ``text`` (UTF-8), written atomically."""
    return write_atomically(path, lambda partial: partial.write_text(text, encoding="utf-8"))
