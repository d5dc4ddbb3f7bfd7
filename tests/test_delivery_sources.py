"""A folder of course files as the feeds' source: one bad file never takes down another
patient's feed, and a revoked address stays revoked whatever happens to ``feeds.toml``."""

from __future__ import annotations

import datetime as dt
import json
import logging
import multiprocessing
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from tms_schedule import ClinicCalendar, Course, Plan
from tms_schedule.cli import main
from tms_schedule.course.codec import checksum
from tms_schedule.delivery.feed import FeedKey, patient_courses
from tms_schedule.delivery.server import FeedApp
from tms_schedule.delivery.sources import FolderSource
from tms_schedule.errors import FeedError, TmsScheduleError

CLINIC = ClinicCalendar("America/Denver", holidays="US-CO")
SECRET = b"a clinic feed secret, 32+ bytes long, for the tests"
KEY = FeedKey(SECRET)
NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Two patients: c-1 with its maintenance course c-1-m, and c-2."""
    folder = tmp_path / "courses"
    folder.mkdir()
    acute = Course.start(Plan("standard-10hz", CLINIC, "2026-11-16", "09:00", "c-1"))
    acute.save(folder / "c-1.json")
    acute.next_course("maintenance", "c-1-m").save(folder / "c-1-m.json")
    Course.start(Plan("itbs", CLINIC, "2026-11-16", "11:00", "c-2")).save(folder / "c-2.json")
    return folder


def status(app: FeedApp, token: str) -> str:
    said: list[str] = []
    b"".join(
        app(
            {"REQUEST_METHOD": "GET", "PATH_INFO": f"/feeds/{token}.ics"},
            lambda line, headers: said.append(line),
        )
    )
    return said[0]


def resealed(path: Path, change: Any) -> str:
    """The course file's text changed by ``change`` and given a matching checksum."""
    data = json.loads(path.read_text())
    change(data)
    data["checksum"] = checksum(data)
    return json.dumps(data)


# -- one bad course file ------------------------------------------------------------------------


def test_a_bad_course_file_is_left_out_and_every_other_feed_kept(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = FolderSource(folder)
    app = FeedApp(source, KEY, clock=lambda: NOW)
    assert status(app, KEY.token("c-2", 1)).startswith("200")
    # While the server runs, the folder gains a copy, undecodable text, a record for a
    # session the course lacks, a course following itself and one that is not JSON.
    shutil.copy(folder / "c-2.json", folder / "c-2 copy.json")
    text = (folder / "c-1.json").read_text()
    (folder / "c-3.json").write_text(
        text.replace('"course_id": "c-1"', '"course_id": "c-3"', 1).replace(
            '"America/Denver"', '"America/\\udcffDenver"', 1
        )
    )

    def missing_session(data: dict[str, Any]) -> None:
        data["course_id"] = "c-4"
        for revision in data["revisions"]:
            revision["schedule"]["course_id"] = "c-4"
        data["records"] = [
            {
                "kind": "moved",
                "session": 999,
                "when": "2026-11-20T21:00:00+00:00",
                "cause": None,
                "note": None,
                "recorded": "2026-11-20T12:00:00+00:00",
                "voids": None,
            }
        ]

    (folder / "c-4.json").write_text(resealed(folder / "c-1.json", missing_session))

    def follows_itself(data: dict[str, Any]) -> None:
        data["follows"] = "c-1"

    (folder / "c-5.json").write_text(resealed(folder / "c-1.json", follows_itself))
    (folder / "c-6.json").write_text("{")
    with caplog.at_level(logging.WARNING, logger="tms_schedule.feeds"):
        assert status(app, KEY.token("c-1", 1)).startswith("200")
        assert status(app, KEY.token("c-2", 1)).startswith("200")
        assert dict(source.versions()) == {"c-1": 1, "c-2": 1}
        assert status(app, KEY.token("c-1", 1)).startswith("200")  # logged once only
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 5, lines
    said = "\n".join(lines)
    assert "c-2 copy.json: holds course c-2 too, as c-2.json does; left out" in said
    assert "c-3.json: plan.clinic.timezone: holds text that is not UTF-8; left out" in said
    assert "c-4.json: records: record 1 is for session 999" in said
    assert "c-5.json: course: follows: course c-1 cannot follow itself; left out" in said
    assert (
        "c-1.json" not in said.replace("c-2.json", "")
        and "c-6.json: course: not valid JSON" in said
    )
    assert "Traceback" not in caplog.text
    assert [c.course_id for c in source.feed("c-2").courses] == ["c-2"]  # type: ignore[union-attr]
    with pytest.raises(FeedError, match="c-2 copy.json: holds course c-2 too"):
        source.check()  # a server is not started on such a folder


def test_copies_that_differ_with_none_named_after_the_course_are_all_left_out(
    folder: Path,
) -> None:
    original = Course.load(folder / "c-2.json")
    (folder / "c-2.json").rename(folder / "first.json")
    original.cancelled(3, now=NOW).save(folder / "second.json", force=True)
    source = FolderSource(folder)
    assert dict(source.versions()) == {"c-1": 1}
    assert any(
        "first.json, " in p and "second.json: each holds course c-2" in p for p in source.problems
    )


def test_courses_that_cannot_be_grouped_are_left_out_with_a_reason() -> None:
    first = Course.start(Plan("itbs", CLINIC, "2026-11-16", "09:00", "c-1"))
    a = first.next_course("maintenance", "c-a")
    b = Course.start(Plan("itbs", CLINIC, "2026-11-16", "10:00", "c-b"), follows="c-a")
    a = Course.start(a.plan, follows="c-b")  # c-a and c-b follow each other
    problems: list[str] = []
    groups = patient_courses([first, a, b, first], problems)
    assert groups == {}
    assert problems == [
        "courses: two courses have the id c-1; both left out",
        "courses: course c-a follows courses that follow each other round a circle; left out",
        "courses: course c-b follows courses that follow each other round a circle; left out",
    ]
    with pytest.raises(FeedError, match="^courses: two courses have the id c-1$"):
        patient_courses([first, first])


# -- revocations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: p.write_text('[feeds."c-1"\nversion = 2\n'), id="a typo"),
        pytest.param(lambda p: p.write_bytes(b"\xff\xfe"), id="not text"),
        pytest.param(lambda p: p.write_text('[feeds."c-1"]\nversion = "2"\n'), id="a bad value"),
        pytest.param(lambda p: p.unlink(), id="removed"),
        pytest.param(lambda p: (p.unlink(), p.mkdir()), id="a folder"),
    ],
)
def test_a_feeds_file_that_cannot_be_read_serves_nothing_rather_than_a_revoked_address(
    folder: Path, damage: Any, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    source = FolderSource(folder)
    source.revoke("c-1")
    app = FeedApp(source, KEY, clock=lambda: NOW)
    assert status(app, KEY.token("c-1", 2)).startswith("200")
    feeds = folder / "feeds.toml"
    damage(feeds)
    before = feeds.read_bytes() if feeds.is_file() else None
    with caplog.at_level(logging.ERROR, logger="tms_schedule.feeds"):
        for token in (KEY.token("c-1", 1), KEY.token("c-1", 2), KEY.token("c-2", 1)):
            assert status(app, token) == "503 Service Unavailable"
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "feeds.toml" in errors[0] and "503" in errors[0]
    # A new server refuses to start on it; a revocation refuses to write over it.
    with pytest.raises(FeedError, match="feeds.toml"):
        FolderSource(folder).check()
    secret = folder.parent / "feed.key"
    secret.write_bytes(SECRET + b"\n")
    argv = ["feed", "revoke", str(folder), "c-2", "--secret-file", str(secret)]
    assert main([*argv, "--base-url", "https://feeds.clinic.example"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "feeds.toml" in err, err
    assert (feeds.read_bytes() if feeds.is_file() else None) == before


def test_an_older_feeds_file_put_back_keeps_the_newer_revocation(folder: Path) -> None:
    source = FolderSource(folder)
    source.revoke("c-2")
    older = (folder / "feeds.toml").read_bytes()
    source.revoke("c-2")
    app = FeedApp(source, KEY, clock=lambda: NOW)
    assert status(app, KEY.token("c-2", 3)).startswith("200")
    (folder / "feeds.toml").write_bytes(older)  # at version 2
    assert status(app, KEY.token("c-2", 2)).startswith("404")
    assert status(app, KEY.token("c-2", 3)).startswith("200")
    assert source.revoke("c-2").version == 4


def _revoke(folder: str, course_id: str, start: Any) -> None:
    start.wait()
    FolderSource(folder).revoke(course_id)


def test_two_terminals_revoking_at_once_keep_both_revocations(folder: Path) -> None:
    context = multiprocessing.get_context("fork")
    rounds = 10
    for _ in range(rounds):
        start = context.Barrier(2)
        workers = [
            context.Process(target=_revoke, args=(str(folder), course_id, start))
            for course_id in ("c-1", "c-2")
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(30)
            assert worker.exitcode == 0
    assert dict(FolderSource(folder).versions()) == {"c-1": rounds + 1, "c-2": rounds + 1}


def test_a_lock_file_made_by_a_terminal_about_to_wait_is_no_revocation(folder: Path) -> None:
    """Two terminals making the first revocation at once: the second made the lock file
    as it came to wait, the first saw it and, holding the lock, took feeds.toml for
    removed ("missing, though feed addresses were revoked"; 1 run in 10 of the test
    above). Only a revocation that was made leaves its mark."""
    from tms_schedule._files import lock_path

    feeds = folder / "feeds.toml"
    lock_path(feeds).touch()  # as a terminal that opened it and waits for the lock
    assert dict(FolderSource(folder).versions()) == {"c-1": 1, "c-2": 1}
    assert FolderSource(folder).revoke("c-1").version == 2
    feeds.unlink()  # now a revocation was made: its loss is said, never served as version 1
    with pytest.raises(FeedError, match="feeds.toml: missing, though feed addresses were revoked"):
        FolderSource(folder).check()
    with pytest.raises(TmsScheduleError, match="missing, though"):
        FolderSource(folder).revoke("c-2")
    assert not feeds.exists()


def test_a_server_reading_during_the_first_revocation_waits_for_it(folder: Path) -> None:
    """The first revocation makes the lock file before feeds.toml: a reader that finds
    the lock and no file waits for the revocation instead of taking the file for lost."""
    from tms_schedule._files import locked

    source = FolderSource(folder)
    feeds = folder / "feeds.toml"
    holding, release = threading.Event(), threading.Event()

    def revocation() -> None:
        with locked(feeds, error=FeedError):
            holding.set()
            release.wait(10)
            feeds.write_text('[feeds."c-1"]\nversion = 2\n')

    writer = threading.Thread(target=revocation)
    writer.start()
    holding.wait(10)
    threading.Timer(0.3, release.set).start()
    assert dict(source.versions()) == {"c-1": 2, "c-2": 1}
    writer.join(10)
