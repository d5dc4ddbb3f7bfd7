"""A command does everything it says, or nothing: ``book close`` and ``book undo`` with
``--calendars`` write each changed course's calendar file before the book commits, so a
full disk refuses the whole change (and a retry adds no second closure)."""

from __future__ import annotations

import datetime as dt
import errno
import os
from pathlib import Path
from typing import Any

import pytest

from tms_schedule import Course, Plan
from tms_schedule.book.store import BookStore
from tms_schedule.cli import main

NOW = dt.datetime(2027, 2, 1, tzinfo=dt.UTC)
CLINIC = b"""timezone = "America/Denver"
hours = "07:00-19:00"
[[chairs]]
id = "c1"
[[chairs]]
id = "c2"
"""


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = tmp_path / "book.db"
    with (
        BookStore.create(path, CLINIC) as store,
        store.change(whole=True, now=NOW, actor="test") as change,
    ):
        for course_id, at in (("c-1", "09:00"), ("c-2", "10:00")):
            plan = Plan("standard-10hz", change.book.clinic, "2027-03-01", at, course_id)
            change.book = change.book.add(Course.start(plan))
    return path


def full_disk(monkeypatch: pytest.MonkeyPatch, after: int) -> None:
    """Writes in the calendars folder fail with ENOSPC after ``after`` files."""
    written = [0]
    real = os.fsync

    def fsync(descriptor: int) -> None:
        name = os.readlink(f"/proc/self/fd/{descriptor}")
        if "calendars" in name and ".ics." in name:
            written[0] += 1
            if written[0] > after:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)


def state(book: Path) -> Any:
    with BookStore(book) as store:
        loaded = store.load()
        return loaded.events, [booked.course for booked in loaded.courses]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to see the files")
def test_a_full_disk_while_writing_the_calendars_leaves_the_book_unchanged(
    book: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "calendars"
    folder.mkdir()
    before = state(book)
    close = ["book", "close", str(book), "2027-03-03", "--reason", "Snow day"]
    close += ["--from", "2027-03-01", "--calendars", str(folder)]
    full_disk(monkeypatch, after=1)  # the first course's file goes, the second's does not
    assert main(close) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err, err
    assert "the book was not changed" in err
    assert state(book) == before
    assert list(folder.iterdir()) == []  # no file of a change that did not happen
    monkeypatch.undo()
    assert main(close) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert out.startswith("Event 1: Snow day")
    assert sorted(p.name for p in folder.iterdir()) == ["c-1.ics", "c-2.ics"]
    assert len(state(book)[0]) == 1  # one closure, not two
    # Undoing it, the same.
    full_disk(monkeypatch, after=0)
    assert main(["book", "undo", str(book), "1", "--calendars", str(folder)]) == 2
    assert "the book was not changed" in capsys.readouterr().err
    assert not state(book)[0][0].undone
    monkeypatch.undo()
    assert main(["book", "undo", str(book), "1", "--calendars", str(folder)]) == 0
    assert state(book)[0][0].undone
