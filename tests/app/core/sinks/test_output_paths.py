"""Output-path safety (issue 14): collisions with inputs and other outputs, folders, suffixes, partials."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.core.errors import SinkError
from app.core.sinks.outputs import (
    CSV_SUFFIXES,
    Output,
    check_outputs,
    commit_partial,
    reserve_partial,
    same_file,
    shown,
)

VIDEO = (".mp4", ".avi")


def _csv(path: Path, flag: str = "--csv") -> Output:
    return Output(flag, path, CSV_SUFFIXES)


def test_long_paths_are_shown_elided_to_the_limit():
    assert shown("/a/b.csv") == "/a/b.csv"
    long = "/data/" + "x" * 300 + "/out.csv"
    text = shown(long, limit=60)
    assert len(text) == 60 and "…" in text and text.startswith("/data/") and text.endswith("x/out.csv")


def test_same_file_sees_through_spelling_symlinks_and_hard_links(tmp_path, monkeypatch):
    original = tmp_path / "in.mp4"
    original.write_bytes(b"video")
    (tmp_path / "soft.mp4").symlink_to(original)
    os.link(original, tmp_path / "hard.mp4")
    monkeypatch.chdir(tmp_path)
    assert same_file(original, Path("in.mp4"))
    assert same_file(original, tmp_path / "sub" / ".." / "in.mp4")
    assert same_file(original, tmp_path / "soft.mp4")
    assert same_file(original, tmp_path / "hard.mp4")
    assert not same_file(original, tmp_path / "other.mp4")  # absent: no collision


@pytest.mark.parametrize("alias", ["same", "symlink", "hardlink"])
def test_an_output_that_is_the_input_is_refused_and_nothing_changes(tmp_path, alias):
    source = tmp_path / "in.csv"
    source.write_text("precious\n")
    target = {"same": source, "symlink": tmp_path / "link.csv", "hardlink": tmp_path / "hard.csv"}[alias]
    if alias == "symlink":
        target.symlink_to(source)
    elif alias == "hardlink":
        os.link(source, target)
    before = sorted(tmp_path.iterdir())
    with pytest.raises(SinkError, match=r"--csv .* is the input .*in\.csv"):
        check_outputs([_csv(target)], inputs=[source])
    assert source.read_text() == "precious\n" and sorted(tmp_path.iterdir()) == before


def test_two_outputs_on_one_file_are_refused(tmp_path):
    out = tmp_path / "x.csv"
    with pytest.raises(SinkError, match="--other writes the same file"):
        check_outputs([_csv(out, "--other"), _csv(out)])


@pytest.mark.parametrize(("name", "message"), [
    ("out.xyz", "unknown file type; use a .csv"),
    ("no/such/out.csv", "does not exist"),
    ("a_folder", "unknown file type"),
    ("x" * 300 + ".csv", "file name is too long (304 characters; at most 255"),
])
def test_bad_output_paths_name_the_cause(tmp_path, name, message):
    (tmp_path / "a_folder").mkdir()
    with pytest.raises(SinkError, match=message.replace("(", r"\(").replace(".", r"\.")):
        check_outputs([_csv(tmp_path / name)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_folder"]  # nothing created


def test_a_folder_named_like_a_file_is_refused(tmp_path):
    (tmp_path / "out.csv").mkdir()
    with pytest.raises(SinkError, match="it is a folder"):
        check_outputs([_csv(tmp_path / "out.csv")])


@pytest.mark.parametrize(("folder", "message"), [("/proc", "does not take new files"),
                                                 ("/sys", "is not writable")])
def test_system_folders_are_named_as_the_cause(folder, message):
    with pytest.raises(SinkError, match=f"folder '{folder}' {message}"):
        check_outputs([Output("--record", Path(folder) / "out.mp4", VIDEO)])


def test_a_partial_file_is_new_and_replaces_the_target_only_when_committed(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("earlier good file\n")
    partial = reserve_partial(target)
    assert partial.parent == tmp_path and partial.name.startswith("out.partial-") and partial.suffix == ".csv"
    assert partial.read_text() == "" and target.read_text() == "earlier good file\n"
    assert reserve_partial(target) != partial  # never the same name twice
    partial.write_text("new\n")
    commit_partial(partial, target)
    assert target.read_text() == "new\n" and not partial.exists()


def test_a_partial_name_fits_beside_a_target_whose_name_just_fits(tmp_path):
    target = tmp_path / ("y" * 251 + ".csv")
    assert len(reserve_partial(target).name) <= 255


def test_a_folder_name_over_the_limit_and_a_symlink_loop_are_plain_answers(tmp_path):
    with pytest.raises(SinkError, match="file name is too long for this system"):
        check_outputs([_csv(tmp_path / ("f" * 300) / "out.csv")])
    (tmp_path / "loop.csv").symlink_to(tmp_path / "loop.csv")
    assert not same_file(tmp_path / "loop.csv", tmp_path / "other.csv")
