import os

import pytest

from gankit.atomic import atomic_write, save_atomically


def test_atomic_write_replaces_contents(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with atomic_write(target) as fh:
        fh.write(b"new contents")
    assert target.read_bytes() == b"new contents"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_writer_raising_keeps_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "grid.png"
    target.write_bytes(b"previous")

    def writer(fh):
        fh.write(b"partial garbage" * 1000)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        save_atomically(target, writer)
    assert target.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["grid.png"]


def test_failure_on_new_target_leaves_nothing(tmp_path):
    target = tmp_path / "sub" / "new.txt"
    with pytest.raises(ValueError):
        with atomic_write(target, "w") as fh:
            fh.write("half")
            raise ValueError("stop")
    assert not target.exists()
    assert os.listdir(tmp_path / "sub") == []


def test_text_mode_creates_parents_and_returns_path(tmp_path):
    target = tmp_path / "a" / "b" / "note.txt"
    out = save_atomically(target, lambda fh: fh.write("héllo\n"), mode="w")
    assert out == target
    assert target.read_text(encoding="utf-8") == "héllo\n"


def test_existing_permissions_are_kept(tmp_path):
    target = tmp_path / "f"
    target.write_bytes(b"x")
    os.chmod(target, 0o640)
    with atomic_write(target) as fh:
        fh.write(b"y")
    assert (os.stat(target).st_mode & 0o777) == 0o640
