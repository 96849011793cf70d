"""A pickle that runs code when loaded: proves that no weights path unpickles a stranger's file."""

from __future__ import annotations

import pickle
from pathlib import Path


class CreatesMarker:
    """Unpickling this opens ``marker`` for writing, i.e. creates it: a stand-in for any shell command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def write_evil_pickle(path: Path, marker: Path) -> Path:
    """Write to ``path`` a pickle that creates ``marker`` when loaded; returns ``path``."""
    path.write_bytes(pickle.dumps(CreatesMarker(marker)))
    return path
