"""What the desk's tests share: a 4-chair clinic's book with staff, a clock the test moves,
and signing in through the page as a person does."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

pytest.importorskip("flask", reason="the desk needs the 'desk' extra: pip install '.[desk]'")

from tms_schedule.book.store import BookStore
from tms_schedule.desk.app import create_app
from tms_schedule.desk.auth import hash_password
from tms_schedule.desk.port import DeskBook

ZONE = ZoneInfo("America/Denver")
CLINIC = """timezone = "America/Denver"
[holidays]
country = "US-CO"
[calendar]
clinic_name = "Example Clinic"
organizer = "desk@clinic.example"
uid_key = "a long clinic secret, not shared"
[[chairs]]
id = "c1"
label = "Chair 1"
[[chairs]]
id = "c2"
label = "Chair 2"
[[chairs]]
id = "c3"
label = "Chair 3"
runs = ["figure-8", "h7"]
[[chairs]]
id = "deep"
label = "Deep TMS room"
runs = ["h1", "h7"]
"""
#: Everyone's password in the tests (invented, as every name here).
PASSWORD = "correct horse battery"
STAFF = (("ana", "front-desk"), ("tom", "technician"), ("cleo", "clinician"), ("root", "admin"))
HOST = "127.0.0.1:5000"
#: A Monday morning in Denver.
MONDAY = dt.datetime(2026, 11, 30, 8, 0, tzinfo=ZONE)

_HASHES: dict[str, str] = {}


class Clock:
    """The desk's clock, moved by the test."""

    def __init__(self, now: dt.datetime = MONDAY) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def make_book(
    folder: Path | None, staff: tuple[tuple[str, str], ...] = STAFF, *, location: str = ""
) -> Path:
    """A book with the staff: ``book.db`` in ``folder``, or at ``location`` (a file or a
    PostgreSQL address)."""
    path: Any = folder / "book.db" if folder is not None else location
    BookStore.create(path, CLINIC.encode("utf-8"), "clinic.toml").close()
    with DeskBook(path) as book:
        for name, role in staff:
            if PASSWORD not in _HASHES:  # one hash for all: argon2 is slow on purpose
                _HASHES[PASSWORD] = hash_password(PASSWORD)
            book.add_user(name, role, _HASHES[PASSWORD], now=MONDAY, actor="setup")
    return path


def make_app(book: DeskBook, clock: Clock, **options: Any) -> Any:
    app = create_app(book, clock=clock, hosts={HOST}, **options)
    app.testing = True
    return app


def token(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no CSRF token"
    return found[1]


def sign_in(client: Any, name: str, password: str = PASSWORD) -> Any:
    page = client.get("/sign-in", base_url=f"http://{HOST}").get_data(as_text=True)
    return client.post(
        "/sign-in",
        data={"name": name, "password": password, "csrf": token(page), "next": "/"},
        base_url=f"http://{HOST}",
    )
