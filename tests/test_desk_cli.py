"""``tms-schedule book user`` and ``tms-schedule desk`` as a clinic's administrator runs them:
the staff who may sign in, and one command that serves the desk and the patients' feeds."""

from __future__ import annotations

import datetime as dt
import http.client
import io
import selectors
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from desk_cases import PASSWORD, make_book
from independent_parsers import icaljs_read
from tms_schedule.book.store import BookStore
from tms_schedule.cli import main
from tms_schedule.delivery.feed import FeedKey
from tms_schedule.desk.port import DeskBook

TIMEOUT = 20
SECRET = b"a clinic feed secret, 32+ bytes long, for the tests"


def run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *argv: str,
    stdin: str = "",
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_staff_are_added_listed_given_a_password_and_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(make_book(tmp_path, staff=()))
    status, out, _ = run(capsys, monkeypatch, "book", "user", "list", db)
    assert status == 0 and "Nobody may sign in yet" in out
    status, out, err = run(
        capsys,
        monkeypatch,
        *("book", "user", "add", db, "ana", "--role", "front-desk", "--password-stdin"),
        stdin=PASSWORD + "\n",
    )
    assert (status, err) == (0, ""), err
    assert out == f"Added ana (front-desk) to {db}\n"
    status, out, _ = run(capsys, monkeypatch, "book", "user", "list", db)
    assert out.split() == ["ana", "front-desk"]
    with DeskBook(db) as book:
        first = book.user("ana")
    assert first is not None and first.password_hash.startswith("$argon2id$")
    status, out, _ = run(
        capsys,
        monkeypatch,
        *("book", "user", "password", db, "ana", "--password-stdin"),
        stdin="a different long one\n",
    )
    assert status == 0 and "signed out" in out
    with DeskBook(db) as book:
        second = book.user("ana")
    assert second is not None and second.password_hash != first.password_hash
    assert run(capsys, monkeypatch, "book", "user", "remove", db, "ana")[0] == 0
    status, out, _ = run(capsys, monkeypatch, "book", "user", "list", db)
    assert "Nobody may sign in yet" in out


@pytest.mark.parametrize(
    ("argv", "stdin", "says"),
    [
        (("add", "ana", "--role", "boss", "--password-stdin"), PASSWORD, "--role: invalid choice"),
        (("add", "ana", "--role", "admin", "--password-stdin"), "short", "at least 10"),
        (("add", "ana", "--role", "admin"), PASSWORD, "--password-stdin: standard input is not"),
        (("remove", "nobody"), "", "no user 'nobody'"),
        (("password", "nobody", "--password-stdin"), PASSWORD, "no user 'nobody'"),
    ],
)
def test_bad_user_commands_exit_2_and_change_nothing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
    stdin: str,
    says: str,
) -> None:
    db = str(make_book(tmp_path, staff=()))
    command = ["book", "user", argv[0], db, *argv[1:]]
    status, _, err = run(capsys, monkeypatch, *command, stdin=stdin + "\n")
    assert status == 2
    assert says in err and err.count("\n") == 1
    assert PASSWORD not in err
    with DeskBook(db) as book:
        assert book.users() == ()


def test_a_user_name_is_taken_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(make_book(tmp_path))
    status, _, err = run(
        capsys,
        monkeypatch,
        *("book", "user", "add", db, "ana", "--role", "admin", "--password-stdin"),
        stdin=PASSWORD + "\n",
    )
    assert status == 2 and "there is a user 'ana' already" in err


def test_the_desk_will_not_start_with_nobody_to_sign_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(make_book(tmp_path, staff=()))
    status, _, err = run(capsys, monkeypatch, "desk", db, "--port", "0")
    assert status == 2 and "nobody may sign in yet" in err
    status, _, err = run(capsys, monkeypatch, "desk", db, "--port", "70000")
    assert status == 2 and "--port: must be from 0 to 65535" in err


def _request(port: int, path: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request("GET", path, headers={"Host": host or f"127.0.0.1:{port}"})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[int, str, Path]]:
    """``tms-schedule desk`` in its own process, on a free port, with feeds."""
    db = make_book(tmp_path)
    secret = tmp_path / "feed.key"
    secret.write_bytes(SECRET + b"\n")
    command = [sys.executable, "-m", "tms_schedule", "desk", str(db), "--port", "0"]
    command += ["--secret-file", str(secret)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    try:
        assert process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=TIMEOUT):
            raise AssertionError("the desk did not start in time")
        line = process.stdout.readline().decode()
        assert line.startswith("The front desk of"), line + (
            process.stderr.read().decode() if process.stderr else ""
        )
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        yield port, line, db
    finally:
        process.terminate()
        try:
            process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:  # pragma: no cover - a server that hangs
            process.kill()
            process.wait(timeout=TIMEOUT)


def test_one_command_serves_the_desk_and_the_feeds(running: tuple[int, str, Path]) -> None:
    port, line, db = running
    assert line == (
        f"The front desk of {db} is at http://127.0.0.1:{port}/ (feeds under /feeds/)"
        " (Ctrl-C stops)\n"
    )
    status, headers, _ = _request(port, "/")
    assert status == 303 and headers["location"].startswith("/sign-in")
    status, _, body = _request(port, "/sign-in")
    assert status == 200 and b"Sign in to the front desk" in body
    assert _request(port, "/sign-in", host=f"localhost:{port}")[0] == 200
    # DNS rebinding: a name of someone else's that points at this computer.
    assert _request(port, "/sign-in", host=f"rebind.example:{port}")[0] == 400
    # A course booked from the command line is in the feed the desk serves.
    now = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
    with BookStore(db) as store:
        offer = store.window(since=dt.date(2026, 11, 30)).offers("itbs", "2026-11-30", "09:00")[0]
        with store.change(since=offer.start, now=now, actor="test", action="take") as change:
            change.book = change.book.take(offer, "c-1")
    token = FeedKey(SECRET).token("c-1", 1)
    status, headers, body = _request(port, f"/feeds/{token}.ics")
    assert status == 200 and headers["content-type"] == "text/calendar; charset=utf-8"
    parsed = icaljs_read(body)
    assert len(parsed["events"]) == 30
    assert _request(port, "/feeds/nonsense.ics")[0] == 404
