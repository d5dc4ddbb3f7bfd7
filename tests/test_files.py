"""Writing files: atomic, through links, keeping modes, refusing what must not be replaced."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from tms_schedule._files import write_file
from tms_schedule.errors import FileWriteError


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_new_file_gets_the_usual_mode(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        written = write_file(tmp_path / "a.ics", b"data")
    finally:
        os.umask(umask)
    assert written.read_bytes() == b"data"
    assert written.stat().st_mode & 0o777 == 0o644


def test_replacing_keeps_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "c.json"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_file(target, b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o640


def test_a_link_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "store" / "c.json"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "c.json"
    link.symlink_to(real)
    write_file(link, b"new")
    assert link.is_symlink()
    assert real.read_bytes() == b"new"
    assert leftovers(tmp_path) == leftovers(real.parent) == []


def test_a_read_only_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "c.json"
    target.write_bytes(b"old")
    target.chmod(0o444)
    with pytest.raises(FileWriteError, match="c.json: is read-only"):
        write_file(target, b"new")
    assert target.read_bytes() == b"old"


def test_an_existing_file_is_refused_when_asked(tmp_path: Path) -> None:
    target = tmp_path / "c.json"
    target.write_bytes(b"old")
    with pytest.raises(FileWriteError, match="exists already"):
        write_file(target, b"new", overwrite=False)
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(FileWriteError, match="is not a regular file"):
        write_file(tmp_path, b"x")


def test_a_missing_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(FileWriteError, match="cannot write there"):
        write_file(tmp_path / "nowhere" / "a.ics", b"x")


def test_a_full_disk_leaves_the_old_file_whole_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "a.ics"
    target.write_bytes(b"the whole old file")

    def full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(FileWriteError, match="No space left on device.*the file is as it was"):
        write_file(target, b"the new file")
    assert target.read_bytes() == b"the whole old file"
    assert leftovers(tmp_path) == []
