"""What the tests of the book's views share: a small clinic whose day and week are worked
out by hand, random books for the property tests, and the golden files' check."""

from __future__ import annotations

import datetime as dt
import os
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import strategies as st

from tms_schedule import ClinicCalendar, Closure, Course, Plan, TmsScheduleError
from tms_schedule.book import Book, Chair, Outage

DENVER = ClinicCalendar("America/Denver", holidays="US-CO")
ZONE = DENVER.zone
#: The day the hand-built book is read on: SNT's first day, a chair's service day.
MONDAY = dt.date(2026, 11, 30)
GOLDEN = Path(__file__).parent / "golden" / "book"
REGENERATE = os.environ.get("TMS_SCHEDULE_REGENERATE") == "1"


def at(day: str, time: str, zone: dt.tzinfo = ZONE) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=zone)


def course(course_id: str, start: str, time: str, protocol: str = "standard-10hz") -> Course:
    return Course.start(Plan(protocol, DENVER, start, time, course_id))


def clinic_book() -> Book:
    """Four chairs in Denver (08:00-18:00, US-CO holidays, 5 minutes' turnover) on Monday
    30 November 2026:

    * c1 "Chair 1": c-1 (standard 10 Hz since 16 Nov, 09:00, session 10) and c-3 (14:00,
      session 10 missed); out 12:00-13:00 for a coil repair;
    * c2 "Chair 2": c-2 (iTBS, its first session, 09:00-10:00) and c-4 (11:00, session 5
      cancelled);
    * c3 "SNT room": snt-1, the first of five SNT days, ten sessions from 08:00 to 17:10;
    * c4 "Chair 4": its service day;
    * every chair: a staff meeting 17:30-18:00.

    The missed and the cancelled session give their chair back. The records carry notes a
    view must not show.
    """
    chairs = (
        Chair("c1", "Chair 1"),
        Chair("c2", "Chair 2"),
        Chair("c3", "SNT room"),
        Chair("c4", "Chair 4", closures=(Closure(MONDAY, MONDAY, "Device service"),)),
    )
    outages = (
        Outage(at("2026-11-30", "12:00"), at("2026-11-30", "13:00"), "Coil repair", "c1"),
        Outage(at("2026-11-30", "17:30"), at("2026-11-30", "18:00"), "Staff meeting"),
    )
    book = Book(DENVER, chairs, outages=outages)
    book = book.add(course("c-1", "2026-11-16", "09:00"), chair="c1")
    book = book.add(course("c-2", "2026-11-30", "09:00", "itbs"), chair="c2")
    book = book.add(course("snt-1", "2026-11-30", "08:00", "snt"), chair="c3")
    book = book.add(course("c-3", "2026-11-16", "14:00"), chair="c1")
    book = book.add(course("c-4", "2026-11-23", "11:00"), chair="c2")
    now = at("2026-11-30", "18:00")
    c3 = book.course("c-3").attended(9, now=now)
    c3 = c3.missed(10, "patient", note="Private note: called in sick", now=now)
    book = book.update(c3)
    return book.update(book.course("c-4").cancelled(5, note="Private note: travel", now=now))


def busy_book(courses: int = 60) -> Book:
    """Four chairs and ``courses`` standard courses started over five weeks from 5 October
    2026, a dozen a week at times 50 minutes apart: about 2,000 sessions, most of November
    and December full from 08:00 to 17:10."""
    chairs = tuple(Chair(f"c{i}", f"Chair {i}") for i in range(1, 5))
    book = Book(DENVER, chairs)
    times = [f"{8 + m // 60:02d}:{m % 60:02d}" for m in range(0, 50 * 11, 50)] + ["16:30"]
    added = tried = 0
    while added < courses:
        start = dt.date(2026, 10, 5) + dt.timedelta(days=7 * (tried // len(times)))
        try:
            book = book.add(course(f"b-{added + 1}", start.isoformat(), times[tried % len(times)]))
            added += 1
        except TmsScheduleError:
            pass  # every chair is taken at that time
        tried += 1
    return book


def check_golden(name: str, actual: str) -> None:
    """``actual`` equals the reviewed file ``tests/golden/book/<name>``; with
    ``TMS_SCHEDULE_REGENERATE=1`` the file is written first (review the diff)."""
    path = GOLDEN / name
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
    assert path.exists(), f"{name} is missing; regenerate with TMS_SCHEDULE_REGENERATE=1"
    assert actual == path.read_bytes().decode("utf-8")


#: Every element the book's pages use: none fetches or runs anything.
PAGE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "p", "span",
    "strong", "ul", "li", "section", "figure", "figcaption", "table", "caption", "thead",
    "tbody", "tr", "th", "td", "abbr", "div", "svg", "defs", "pattern", "rect", "line",
    "text", "g",
}  # fmt: skip


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, [name for name, _ in attrs]))


def tags(page: str) -> list[tuple[str, list[str]]]:
    """Each start tag of ``page`` and its attributes' names."""
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser.found


# -- random books ---------------------------------------------------------------------------------

PROTOCOLS = ("standard-10hz", "itbs", "snt", "cluster-maintenance", "1hz-right")
#: The days random books start their courses in: across both zones' end of summer time.
FIRST_START = dt.date(2026, 10, 19)


@st.composite
def books(draw: st.DrawFn) -> Book:
    """A book of one to three chairs (service days, turnovers, perhaps an outage) in Denver
    or Berlin, with up to six courses started in the autumn of 2026 and some of their
    sessions attended, missed or cancelled."""
    clinic = ClinicCalendar(
        draw(st.sampled_from(["America/Denver", "Europe/Berlin"])),
        holidays=draw(st.sampled_from([None, "US-CO", "DE-BY"])),
    )
    zone = clinic.zone
    chairs = []
    for i in range(draw(st.integers(1, 3))):
        service = draw(st.lists(st.integers(0, 50), max_size=2, unique=True))
        chairs.append(
            Chair(
                f"c{i + 1}",
                turnover=draw(st.sampled_from([0, 5, 15])),
                closures=tuple(
                    Closure(
                        FIRST_START + dt.timedelta(days=d),
                        FIRST_START + dt.timedelta(days=d),
                        "Service",
                    )
                    for d in service
                ),
            )
        )
    outages = []
    for _ in range(draw(st.integers(0, 2))):
        day = FIRST_START + dt.timedelta(days=draw(st.integers(0, 50)))
        hour = draw(st.integers(8, 16))
        outages.append(
            Outage(
                dt.datetime.combine(day, dt.time(hour), tzinfo=zone),
                dt.datetime.combine(day, dt.time(hour + 1), tzinfo=zone),
                "Out",
                draw(st.sampled_from([None, *(c.id for c in chairs)])),
            )
        )
    book = Book(clinic, tuple(chairs), outages=tuple(outages))
    now = dt.datetime.combine(dt.date(2027, 6, 1), dt.time(12), tzinfo=zone)
    for n in range(draw(st.integers(1, 6))):
        start = FIRST_START + dt.timedelta(days=draw(st.integers(0, 40)))
        minutes = draw(st.integers(8 * 6, 15 * 6)) * 10
        plan = Plan(
            draw(st.sampled_from(PROTOCOLS)),
            clinic,
            start,
            dt.time(minutes // 60, minutes % 60),
            f"r-{n}",
        )
        try:
            new = Course.start(plan)
            book = book.add(new)
        except TmsScheduleError:
            continue  # the time does not fit, the block would split, or no chair is free
        records = draw(
            st.lists(
                st.tuples(st.integers(1, len(new.schedule)), st.sampled_from(["a", "m", "c"])),
                max_size=4,
                unique_by=lambda r: r[0],
            )
        )
        recorded = book.course(plan.course_id)
        for number, kind in records:
            if kind == "a":
                recorded = recorded.attended(number, now=now)
            elif kind == "m":
                recorded = recorded.missed(number, "patient", now=now)
            else:
                recorded = recorded.cancelled(number, now=now)
        book = book.update(recorded)
    return book
