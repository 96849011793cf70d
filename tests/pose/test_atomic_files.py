"""Files written whole or not at all."""

from __future__ import annotations

import pytest

from pose.atomic_files import write_atomically, write_text_atomically


def test_a_write_that_fails_leaves_the_old_file_as_it_was(tmp_path):
    target = tmp_path / "manifest.json"
    write_text_atomically(target, "old")

    def half_written(partial):
        partial.write_text("ne")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, half_written)
    assert target.read_text() == "old"
    assert write_text_atomically(tmp_path / "new" / "file.txt", "new").read_text() == "new"
