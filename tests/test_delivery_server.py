"""``tms-schedule serve``: the feed server, tested as patients' calendar apps reach it.

A real server (the command, in its own process, on 127.0.0.1 and a free port) is asked with
a real HTTP client (the standard library's ``http.client``); every request has a timeout
and the server is stopped by the fixture. What only the application decides (the time a
404 takes, a feed too large) is tested in-process on the WSGI application.
"""

from __future__ import annotations

import datetime as dt
import http.client
import logging
import selectors
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from independent_parsers import icaljs_read, libical_read, utc_iso
from tms_schedule import ClinicCalendar, Course, Plan
from tms_schedule.cli import main
from tms_schedule.course.file import editing
from tms_schedule.delivery.feed import FeedKey
from tms_schedule.delivery.server import CONNECTION_LIMIT, FeedApp, make_server
from tms_schedule.delivery.sources import FolderSource
from tms_schedule.export.uid import session_uid

pytest.importorskip("waitress", reason="the 'serve' extra (waitress) is not installed")

CLINIC = ClinicCalendar("America/Denver", holidays="US-CO")
SECRET = b"a clinic feed secret, 32+ bytes long, for the tests"
TIMEOUT = 10  # seconds, for every request and for the server to start or stop
EVERYTHING = ("--past-days", "3660")  # the tests' courses lie wherever the clock is


def make_folder(folder: Path) -> Path:
    """A clinic's folder: one patient's acute and maintenance course, another's course."""
    folder.mkdir()
    acute = Course.start(Plan("standard-10hz", CLINIC, "2026-11-16", "09:00", "c-1"))
    acute.save(folder / "c-1.json")
    acute.next_course("maintenance", "c-1-m").save(folder / "c-1-m.json")
    Course.start(Plan("itbs", CLINIC, "2026-11-16", "11:00", "c-2")).save(folder / "c-2.json")
    return folder


@pytest.fixture
def clinic(tmp_path: Path) -> tuple[Path, Path]:
    """The course folder and the secret file."""
    secret = tmp_path / "feed.key"
    secret.write_bytes(SECRET + b"\n")
    return make_folder(tmp_path / "courses"), secret


class Server:
    def __init__(self, process: subprocess.Popen[bytes], port: int, line: str) -> None:
        self.process = process
        self.port = port
        self.line = line

    def request(
        self, path: str, method: str = "GET", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            connection.request(method, path, headers=headers or {})
            response = connection.getresponse()
            body = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, body
        finally:
            connection.close()


def start_server(source: Path, secret: Path) -> Iterator[Server]:
    command = [sys.executable, "-m", "tms_schedule", "serve", str(source)]
    command += ["--secret-file", str(secret), "--port", "0", *EVERYTHING]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    try:
        assert process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=TIMEOUT):
            raise AssertionError("the server did not start in time")
        line = process.stdout.readline().decode()
        assert line.startswith("Serving"), line + (
            process.stderr.read().decode() if process.stderr else ""
        )
        port = int(line.split("127.0.0.1:")[1].split("/")[0])
        yield Server(process, port, line)
    finally:
        process.terminate()
        try:
            process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:  # pragma: no cover - a server that hangs
            process.kill()
            process.wait(timeout=TIMEOUT)


@pytest.fixture
def server(clinic: tuple[Path, Path]) -> Iterator[Server]:
    folder, secret = clinic
    yield from start_server(folder, secret)


def path_of(token: str) -> str:
    return f"/feeds/{token}.ics"


def event_uids(body: bytes) -> list[str]:
    return [
        block.split("\r\n", 1)[0].removeprefix("UID:")
        for block in body.decode().split("BEGIN:VEVENT\r\n")[1:]
    ]


# -- the running server -------------------------------------------------------------------------


def test_it_listens_on_this_machine_only_and_says_where(server: Server) -> None:
    assert server.line == (
        f"Serving 2 feeds from {Path(server.line.split(' from ')[1].split(' at ')[0])}"
        f" at http://127.0.0.1:{server.port}/feeds/ (Ctrl-C stops)\n"
    )


def test_a_patients_feed_holds_both_their_courses_with_the_files_uids(server: Server) -> None:
    status, headers, body = server.request(path_of(FeedKey(SECRET).token("c-1", 1)))
    assert status == 200
    assert headers["content-type"] == "text/calendar; charset=utf-8"
    assert headers["cache-control"] == "private, no-cache"
    assert int(headers["content-length"]) == len(body)
    assert "server" not in headers
    expected = [session_uid("c-1", n) for n in range(1, 37)]
    expected += [session_uid("c-1-m", n) for n in range(1, 12)]
    assert event_uids(body) == expected
    parsed = libical_read(body)
    assert parsed["error_count"] == 0, parsed["errors"]


def test_asking_again_with_the_etag_or_the_date_gets_304(server: Server) -> None:
    path = path_of(FeedKey(SECRET).token("c-2", 1))
    _, headers, _ = server.request(path)
    status, again, body = server.request(path, headers={"If-None-Match": headers["etag"]})
    assert (status, body) == (304, b"")
    assert again["etag"] == headers["etag"]
    status, _, _ = server.request(path, headers={"If-Modified-Since": headers["last-modified"]})
    assert status == 304
    status, _, body = server.request(path, headers={"If-None-Match": '"old"'})
    assert status == 200 and body


def test_head_sends_the_headers_of_get_without_the_body(server: Server) -> None:
    path = path_of(FeedKey(SECRET).token("c-2", 1))
    _, got, _ = server.request(path)
    status, headed, nothing = server.request(path, method="HEAD")
    assert (status, nothing) == (200, b"")
    for name in ("content-type", "content-length", "etag", "last-modified", "cache-control"):
        assert headed[name] == got[name], name


def test_a_change_on_disk_is_served_at_the_next_request(
    server: Server, clinic: tuple[Path, Path]
) -> None:
    folder, _ = clinic
    path = path_of(FeedKey(SECRET).token("c-1", 1))
    _, before, _ = server.request(path)
    recorded = dt.datetime(2026, 11, 18, 16, tzinfo=dt.UTC)
    with editing(folder / "c-1.json") as edit:
        edit.course = edit.course.missed(2, "clinic", now=recorded).replan(recorded)
        replanned = edit.course
    status, after, body = server.request(path, headers={"If-None-Match": before["etag"]})
    assert status == 200 and after["etag"] != before["etag"]
    expected = {
        session_uid("c-1", s.number): (utc_iso(s.start), utc_iso(s.end)) for s in replanned.schedule
    }
    for parsed in (icaljs_read(body), libical_read(body)):
        read = {e["uid"]: (e["start_utc"], e["end_utc"]) for e in parsed["events"]}
        assert {uid: read[uid] for uid in expected} == expected, parsed["parser"]


def test_a_revoked_address_is_not_found_and_the_new_one_is(
    server: Server, clinic: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, secret = clinic
    old = path_of(FeedKey(SECRET).token("c-1", 1))
    assert server.request(old)[0] == 200
    status = main(
        ["feed", "revoke", str(folder), "c-1-m", "--secret-file", str(secret), "--base-url",
         f"http://127.0.0.1:{server.port}"]
    )  # fmt: skip
    printed = capsys.readouterr().out.splitlines()
    assert status == 0
    assert printed[0] == (
        "Revoked the old address of feed c-1 (version 2 now); give the patient the new one:"
    )
    new = printed[1].split(str(server.port), 1)[1]
    assert server.request(old)[0] == 404
    assert server.request(new)[0] == 200


BOOK_CLINIC = """timezone = "America/Denver"
[holidays]
country = "US-CO"
[calendar]
uid_key = "the book clinic's own uid secret"
[[chairs]]
id = "c1"
"""


def test_the_server_serves_the_clinic_s_book_too(
    tmp_path: Path, clinic: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A book instead of a folder: the same feeds, the book's UID key, changes served at
    the next request, revocation kept in the book."""
    folder, secret = clinic
    settings = tmp_path / "clinic.toml"
    settings.write_text(BOOK_CLINIC, encoding="utf-8")
    book = tmp_path / "book.db"
    assert main(["book", "init", str(book), "--clinic", str(settings)]) == 0
    assert (
        main(["book", "import", str(book), str(folder / "c-1.json"), str(folder / "c-1-m.json")])
        == 0
    )
    capsys.readouterr()
    served = start_server(book, secret)
    server = next(served)
    try:
        assert server.line.startswith("Serving 1 feed from")
        path = path_of(FeedKey(SECRET).token("c-1", 1))
        status, headers, body = server.request(path)
        assert status == 200
        key = "the book clinic's own uid secret"
        uids = set(event_uids(body))
        assert session_uid("c-1", 1, key) in uids and session_uid("c-1-m", 1, key) in uids
        assert main(["book", "record", str(book), "c-1", "20", "--cancelled"]) == 0
        status, again, changed = server.request(path)
        assert status == 200 and again["etag"] != headers["etag"]
        assert changed.count(b"STATUS:CANCELLED") == body.count(b"STATUS:CANCELLED") + 1
        capsys.readouterr()
        status = main(
            ["feed", "revoke", str(book), "c-1-m", "--secret-file", str(secret), "--base-url",
             f"http://127.0.0.1:{server.port}"]
        )  # fmt: skip
        new = capsys.readouterr().out.splitlines()[1].split(str(server.port), 1)[1]
        assert server.request(path)[0] == 404
        assert server.request(new)[0] == 200
    finally:
        served.close()


NOT_FEEDS = [
    "/",
    "/feeds/",
    "/feeds",
    "/feeds/c-1.ics",
    "/feeds/f1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics",
    "/c-1.json",
    "/feeds/../c-1.json",
    "/feeds/%00",
    "/feeds/" + "x" * 3000,
]


def test_anything_but_a_current_token_is_not_found_and_not_cached(server: Server) -> None:
    for path in NOT_FEEDS:
        status, headers, body = server.request(path)
        assert (status, body) == (404, b"Not found\n"), path
        assert headers["cache-control"] == "no-store", path


def test_a_wrong_or_revoked_token_is_not_found(server: Server) -> None:
    right = FeedKey(SECRET).token("c-1", 1)
    wrong = right[:-1] + ("A" if right[-1] != "A" else "B")
    for token in (wrong, FeedKey(SECRET).token("c-1", 2), FeedKey(SECRET * 2).token("c-1", 1)):
        assert server.request(path_of(token))[:1] == (404,)


def test_only_get_and_head_are_answered(server: Server) -> None:
    for method in ("POST", "PUT", "DELETE", "OPTIONS", "PROPFIND"):
        status, headers, _ = server.request(path_of(FeedKey(SECRET).token("c-1", 1)), method=method)
        assert status == 405, method
        assert headers["allow"] == "GET, HEAD"
        assert headers["cache-control"] == "no-store"


# -- many connections at once ------------------------------------------------------------------


def test_a_new_request_is_answered_while_many_idle_connections_are_open(server: Server) -> None:
    """150 clients hold connections open: 100 silent, 50 sending a header line every half
    second and never finishing. A phone asking for its feed is still answered at once
    (waitress' own limit of 100 connections made it wait until the others gave up)."""
    token = FeedKey(SECRET).token("c-1", 1)
    idle: list[socket.socket] = []
    stop = threading.Event()
    try:
        for _ in range(100):
            idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT))
        slow = [
            socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) for _ in range(50)
        ]
        idle += slow
        for client in slow:
            client.sendall(b"GET /feeds/x.ics HTTP/1.1\r\nHost: feeds\r\n")

        def dribble() -> None:
            while not stop.wait(0.5):
                for client in slow:
                    client.sendall(b"X-Slow: 1\r\n")

        dribbler = threading.Thread(target=dribble, daemon=True)
        dribbler.start()
        time.sleep(0.5)  # every connection is open and the server has seen each
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        connection.request("GET", path_of(token))
        response = connection.getresponse()
        assert response.status == 200 and b"BEGIN:VCALENDAR" in response.read()
        connection.close()
        assert time.monotonic() - started < 5
    finally:
        stop.set()
        for client in idle:
            client.close()
    assert CONNECTION_LIMIT >= 500


def test_a_silent_connection_is_closed_after_the_channel_timeout(
    clinic: tuple[Path, Path],
) -> None:
    folder, _ = clinic
    app = FeedApp(FolderSource(folder), FeedKey(SECRET), clock=lambda: dt.datetime.now(dt.UTC))
    listening = make_server(app, port=0, channel_timeout=1)
    runner = threading.Thread(target=listening.run, daemon=True)
    runner.start()
    try:
        client = socket.create_connection(("127.0.0.1", listening.port), timeout=TIMEOUT)
        started = time.monotonic()
        assert client.recv(1) == b""  # the server hung up on it
        assert 0.9 < time.monotonic() - started < 4
        client.close()
    finally:
        listening.close()
        runner.join(TIMEOUT)


# -- the application, in-process ----------------------------------------------------------------


def call(app: FeedApp, path: str, **environ: Any) -> tuple[str, dict[str, str], bytes]:
    said: list[Any] = []
    body = b"".join(
        app(
            {"REQUEST_METHOD": "GET", "PATH_INFO": path, **environ},
            lambda status, headers: said.extend([status, dict(headers)]),
        )
    )
    return said[0], said[1], body


def test_a_404_takes_as_long_for_a_wrong_a_revoked_and_an_unknown_token(
    clinic: tuple[Path, Path],
) -> None:
    folder, _ = clinic
    key = FeedKey(SECRET)
    FolderSource(folder).revoke("c-1")  # c-1 is at version 2 now
    app = FeedApp(FolderSource(folder), key, clock=lambda: dt.datetime.now(dt.UTC))
    right = key.token("c-1", 2)
    tokens = {
        "wrong in the last character": right[:-1] + ("A" if right[-1] != "A" else "B"),
        "wrong in the first character": "f1_" + ("B" if right[3] == "A" else "A") + right[4:],
        "revoked": key.token("c-1", 1),
        "unknown": FeedKey(SECRET * 2).token("c-9", 1),
        "malformed": "x",
    }
    for token in tokens.values():
        assert call(app, path_of(token))[0].startswith("404")
    assert call(app, path_of(right))[0].startswith("200")
    rounds: dict[str, list[float]] = {name: [] for name in tokens}
    for _ in range(60):  # interleaved, so the machine's own slow moments hit all alike
        for name, token in tokens.items():
            path = path_of(token)
            started = time.perf_counter()
            for _ in range(20):
                call(app, path)
            rounds[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(times) for name, times in rounds.items()}
    fastest = min(medians.values())
    for name, median in medians.items():
        assert median < fastest * 1.3, (name, medians)


def test_a_feed_over_its_limit_is_a_500_and_the_log_names_it(
    clinic: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    folder, _ = clinic
    store = FolderSource(folder, max_bytes=10_000)
    app = FeedApp(store, FeedKey(SECRET), clock=lambda: dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    with caplog.at_level(logging.ERROR, logger="tms_schedule.feeds"):
        status, headers, body = call(app, path_of(FeedKey(SECRET).token("c-1", 1)))
    assert status == "500 Internal Server Error" and headers["Cache-Control"] == "no-store"
    assert b"c-1" not in body
    assert "feed c-1:" in caplog.text and "limit of 10,000 bytes" in caplog.text


def test_a_feeds_own_choice_in_feeds_toml_is_kept(clinic: tuple[Path, Path]) -> None:
    folder, _ = clinic
    recorded = dt.datetime(2026, 11, 18, 16, tzinfo=dt.UTC)
    for name in ("c-1.json", "c-2.json"):
        with editing(folder / name) as edit:
            edit.course = edit.course.cancelled(3, now=recorded)
    (folder / "feeds.toml").write_text('[feeds."c-2"]\nversion = 1\ncancelled = "drop"\n')
    app = FeedApp(FolderSource(folder), FeedKey(SECRET), clock=lambda: recorded)
    _, _, dropped = call(app, path_of(FeedKey(SECRET).token("c-2", 1)))
    _, _, kept = call(app, path_of(FeedKey(SECRET).token("c-1", 1)))
    assert session_uid("c-2", 3) not in event_uids(dropped) and len(event_uids(dropped)) == 29
    assert b"STATUS:CANCELLED" not in dropped
    assert session_uid("c-1", 3) in event_uids(kept) and b"STATUS:CANCELLED" in kept


# -- the command line -----------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_feed_url_prints_the_https_and_webcal_address(
    clinic: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, secret = clinic
    base = "https://feeds.clinic.example/"
    status, out, _ = run(
        capsys, "feed", "url", str(folder), "c-1-m", "--secret-file", str(secret),
        "--base-url", base,
    )  # fmt: skip
    token = FeedKey(SECRET).token("c-1", 1)
    assert status == 0
    assert out == (
        f"https://feeds.clinic.example/feeds/{token}.ics\n"
        f"webcal://feeds.clinic.example/feeds/{token}.ics\n"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["feed", "url", "{folder}", "c-9", "--base-url", "https://x.example"],
         "COURSE_ID: no course c-9 in"),
        (["feed", "url", "{folder}", "c-1", "--base-url", "ftp://x.example"],
         "--base-url: must be an https:// (or http://) address"),
        (["feed", "url", "{folder}/c-1.json", "c-1", "--base-url", "https://x.example"],
         "FOLDER: "),
        (["serve", "{folder}", "--stamp", "2026-11-01T00:00:00Z"], "--stamp: "),
        (["serve", "{folder}", "--port", "70000"], "--port: must be from 0 to 65535"),
        (["serve", "{folder}", "--past-days", "-1"], "--past-days: must be a whole number"),
        (["serve", "{folder}", "--refresh-hours", "0.5"], "--refresh-hours: must be from 1"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_status_2(
    clinic: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    message: str,
) -> None:
    folder, secret = clinic
    argv = [a.format(folder=folder) for a in arguments] + ["--secret-file", str(secret)]
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.startswith(f"tms-schedule: error: {message}") and err.count("\n") == 1, err


def test_a_short_secret_file_is_refused(
    clinic: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder, _ = clinic
    short = tmp_path / "short.key"
    short.write_text("not long enough\n")
    status, _, err = run(capsys, "serve", str(folder), "--secret-file", str(short))
    assert status == 2
    assert err.startswith("tms-schedule: error: --secret-file: the file short.key must hold")


def test_a_broken_course_file_stops_the_start(
    clinic: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, secret = clinic
    (folder / "c-3.json").write_text("{")
    status, _, err = run(capsys, "serve", str(folder), "--secret-file", str(secret))
    assert status == 2 and err.count("\n") == 1
    assert "c-3.json" in err


def test_the_default_address_is_this_machine_only() -> None:
    from tms_schedule.cli import build_parser

    args = build_parser().parse_args(["serve", "courses", "--secret-file", "feed.key"])
    assert args.host == "127.0.0.1"


def test_the_secret_is_never_taken_from_the_command_line(
    clinic: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = clinic
    status, _, err = run(capsys, "serve", str(folder), "--secret", SECRET.decode())
    assert status == 2 and "--secret-file" in err


def test_without_the_serve_extra_the_command_says_how_to_install_it(
    clinic: tuple[Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, secret = clinic
    monkeypatch.setitem(sys.modules, "waitress", None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "waitress.server", None)
    status, _, err = run(capsys, "serve", str(folder), "--secret-file", str(secret))
    assert status == 2 and err.count("\n") == 1
    assert "the feed server needs waitress" in err and "'serve' extra" in err
