"""Output-path safety: which files a run may write, checked before any work starts, and written safely.

Rules (:func:`check_outputs`): an output may not be, resolve to, or be hard-linked to (same device and inode)
an input or another output; its folder must exist and take a new file; its suffix must be one its writer
knows. Every output is written under a temporary name in its own folder (:func:`reserve_partial`) and moved
into place with ``os.replace`` when it is finalised (:func:`commit_partial`), so neither an input nor an
earlier good file is ever truncated, and a killed run leaves ``NAME.partial-XXXXXX.SUFFIX`` beside it.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import SinkError, path_problem, shown

CSV_SUFFIXES = (".csv",)
METADATA_SUFFIXES = (".json",)
PARTIAL_STEM_CHARS = 160
"""Longest stem kept in a temporary name, so that it fits where the final name just fits (255 bytes)."""


@dataclass(frozen=True)
class Output:
    """One file a run will write.

    Attributes:
        flag: how the user named it, for messages (``"--csv"``, ``"--record"``, ``"metadata of --csv"``).
        path: where it goes.
        suffixes: the lower-case suffixes its writer supports, e.g. ``(".mp4", ".avi")``.
    """

    flag: str
    path: Path
    suffixes: tuple[str, ...]


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file: equal, equal once symlinks resolve, or hard links (st_dev, st_ino)."""
    a, b = Path(a), Path(b)
    if a == b or os.path.abspath(a) == os.path.abspath(b):
        return True
    try:
        if a.resolve() == b.resolve():
            return True
        first, second = a.stat(), b.stat()
    except (OSError, RuntimeError):  # absent, unreadable or a symlink loop: nothing to collide with
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def creation_problem(path: Path) -> str | None:
    """Why no file can be created at ``path`` (tried for real, then removed), or None when one can."""
    folder = path.parent
    if len(path.name.encode()) > _name_max(folder):
        return f"its file name is too long ({len(path.name)} characters; at most {_name_max(folder)} here)"
    try:
        if path.is_dir():
            return "it is a folder; give a file name"
        if not folder.is_dir():
            return f"folder '{shown(folder)}' does not exist"
    except OSError as error:  # e.g. a folder name over the limit
        return path_problem(error)
    probe = folder / f".{secrets.token_hex(6)}.probe"
    try:
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError as error:
        return _creation_error(error, folder)
    probe.unlink()
    if path.exists() and not os.access(path, os.W_OK):
        return "the file exists and is read-only"
    return None


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder if folder.is_dir() else ".", "PC_NAME_MAX")
    except (OSError, ValueError):  # no such folder, or a name in the path over the limit
        return 255


def _creation_error(error: OSError, folder: Path) -> str:
    reasons = {
        errno.EACCES: "is not writable (permission denied)",
        errno.EPERM: "is not writable (operation not permitted)",
        errno.EROFS: "is on a read-only file system",
        errno.ENOENT: "does not take new files",
        errno.ENOSPC: "is on a full disk",
        errno.EDQUOT: "is over its disk quota",
        errno.ENAMETOOLONG: "has a path too long for this system",
    }
    reason = reasons.get(error.errno, f"cannot take a new file ({error.strerror or error})")
    return f"folder '{shown(folder)}' {reason}"


def check_outputs(outputs: Sequence[Output], inputs: Iterable[str | Path] = ()) -> None:
    """Refuse, with one line naming the flag and the file, any output that is unsafe to write.

    Raises:
        SinkError: an unknown suffix, a folder that cannot take the file, or an output that is an input or
            another output (hard links and symlinks included). Nothing is created or changed.
    """
    inputs = [Path(path) for path in inputs]
    for index, output in enumerate(outputs):
        name = f"{output.flag} '{shown(output.path)}'"
        if output.path.suffix.lower() not in output.suffixes:
            allowed = ", ".join(output.suffixes)
            raise SinkError(f"cannot write {name}: unknown file type; use a {allowed} file name")
        for source in inputs:
            if same_file(output.path, source):
                raise SinkError(f"cannot write {name}: it is the input '{shown(source)}'; "
                                "choose another output name (the input is never overwritten)")
        for other in outputs[:index]:
            if same_file(output.path, other.path):
                raise SinkError(f"cannot write {name}: {other.flag} writes the same file; give each output "
                                "its own name")
        problem = creation_problem(output.path)
        if problem is not None:
            raise SinkError(f"cannot write {name}: {problem}")


def reserve_partial(path: Path) -> Path:
    """Create and return a new empty file beside ``path`` (``NAME.partial-XXXXXX.SUFFIX``) to write into.

    The name is new (``O_EXCL``), so no existing file is touched; permissions follow the umask.
    """
    stem = path.stem[:PARTIAL_STEM_CHARS]
    while True:
        partial = path.with_name(f"{stem}.partial-{secrets.token_hex(3)}{path.suffix}")
        try:
            os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            continue
        except OSError as error:
            raise SinkError(f"cannot write '{shown(path)}': {_creation_error(error, path.parent)}") from error
        return partial


def commit_partial(partial: Path, path: Path) -> None:
    """Move a finished temporary file into place (atomic within a folder)."""
    try:
        os.replace(partial, path)
    except OSError as error:
        raise SinkError(f"cannot move '{shown(partial)}' to '{shown(path)}': "
                        f"{error.strerror or error}") from error


def discard_partial(partial: Path) -> None:
    """Remove a temporary file that will not be kept (missing already is fine)."""
    partial.unlink(missing_ok=True)
