"""Every command that names a book takes a PostgreSQL address and ``--site``, as a file."""

from __future__ import annotations

import datetime as dt
import http.client
import selectors
import subprocess
import sys
from pathlib import Path

import pytest

from tms_schedule.cli import main
from tms_schedule.delivery.feed import FeedKey

CLINIC = """timezone = "America/Denver"
[calendar]
uid_key = "the network clinic's own uid secret"
[[chairs]]
id = "c1"
"""
SECRET = b"a clinic feed secret, 32+ bytes long, for the tests"
NOW = dt.datetime(2026, 11, 13, 18, tzinfo=dt.UTC)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    status = main(list(argv))
    out, err = capsys.readouterr()
    assert status == 0, err
    return out


def test_book_feed_and_serve_take_an_address_and_a_site(
    tmp_path: Path,
    postgres_address: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import postgres

    # The book's commands on the Friday before the course (its offers start from today).
    monkeypatch.setattr("tms_schedule.cli.book._clock", lambda: NOW)

    site = postgres.fresh_site(postgres_address).rsplit("site=", 1)[1]
    clinic = tmp_path / "clinic.toml"
    clinic.write_text(CLINIC, encoding="utf-8")
    secret = tmp_path / "feed.key"
    secret.write_bytes(SECRET + b"\n")
    book = ("book",)
    run(capsys, *book, "init", postgres_address, "--site", site, "--clinic", str(clinic))
    out = run(
        capsys, *book, "offer", postgres_address, "--site", site, "itbs", "--start", "2026-11-16"
    )
    key = out.splitlines()[1].split()[1]
    run(capsys, *book, "take", postgres_address, "--site", site, key, "--course-id", "c-1")
    assert "c-1" in run(capsys, *book, "list", f"{postgres_address}&site={site}")
    assert "c-1" in run(capsys, *book, "day", postgres_address, "--site", site, "2026-11-17")
    assert main(["book", "list", postgres_address]) == 2  # the default site: none there
    assert "no site 'default'" in capsys.readouterr().err
    address = run(
        capsys, "feed", "url", postgres_address, "--site", site, "c-1",
        "--secret-file", str(secret), "--base-url", "https://feeds.clinic.example",
    ).splitlines()[0]  # fmt: skip
    path = address.removeprefix("https://feeds.clinic.example")
    assert path == f"/feeds/{FeedKey(SECRET).token('c-1', 1)}.ics"

    command = [sys.executable, "-m", "tms_schedule", "serve", postgres_address, "--site", site]
    command += ["--secret-file", str(secret), "--port", "0", "--past-days", "3660"]
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    try:
        assert server.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(server.stdout, selectors.EVENT_READ)
        assert selector.select(timeout=30), "the server did not start in time"
        line = server.stdout.readline().decode()
        assert line.startswith("Serving 1 feed from"), line
        port = int(line.split("127.0.0.1:")[1].split("/")[0])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200
        assert body.count(b"BEGIN:VEVENT") == 30
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_site_is_refused_for_a_folder_of_course_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "feed.key"
    secret.write_bytes(SECRET + b"\n")
    status = main(
        ["feed", "url", str(tmp_path), "c-1", "--site", "north", "--secret-file", str(secret),
         "--base-url", "https://feeds.clinic.example"]
    )  # fmt: skip
    assert status == 2
    assert "--site: names a site of a PostgreSQL book" in capsys.readouterr().err
