"""Capacity: booked against open chair time per day, week and weekday-and-hour, the heat
map page, and how many more courses fit a window.

The numbers of the hand-built book (tests/book_cases.py) were worked out on paper. On its
Monday the four chairs are open 10 hours each, less chair 4's service day (600 minutes),
chair 1's hour of coil repair and the half-hour staff meeting on the three other chairs:
1,650 minutes. Booked: c-1's 40 minutes, c-2's first session of 60, and the SNT day,
which keeps its chair from 08:00 to 17:10 (550): 650. The missed and the cancelled
session hold nothing. From Tuesday on every chair is open 600 minutes (2,400) and the
courses hold 40 + 15 (iTBS) + 40 + 40 + 550 = 685.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from book_cases import DENVER, MONDAY, PAGE_TAGS, books, check_golden, clinic_book, tags
from browser import check_layout, print_to_pdf
from tms_schedule import TmsScheduleError, UnknownProtocolError
from tms_schedule.book import Book, Chair, SlotUsage, Usage
from tms_schedule.book.seated import OCCUPYING
from tms_schedule.errors import BookError
from tms_schedule.pages._format import STAFF_ONLY, css_string
from tms_schedule.pages.usage import BINS, USAGE_CSV_COLUMNS

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SUNDAY = MONDAY + dt.timedelta(days=6)


@pytest.fixture(scope="module")
def book() -> Book:
    return clinic_book()


@pytest.fixture(scope="module")
def week(book: Book) -> Usage:
    return book.usage(MONDAY, SUNDAY)


def cell(used: Usage, weekday: int, start: str) -> SlotUsage:
    hours, minutes = map(int, start.split(":"))
    (found,) = [c for c in used.slots if (c.weekday, c.start) == (weekday, hours * 60 + minutes)]
    return found


def test_open_and_booked_minutes_per_day(week: Usage) -> None:
    days = {d.date.day: (d.open, d.booked, d.sessions, d.closed) for d in week.days}
    assert days == {
        30: (1650, 650, 12, None),
        1: (2400, 685, 14, None),
        2: (2400, 685, 14, None),
        3: (2400, 685, 14, None),
        4: (2400, 685, 14, None),
        5: (0, 0, 0, "closed on Saturdays"),
        6: (0, 0, 0, "closed on Sundays"),
    }
    monday = week.days[0]
    assert (monday.free, round(monday.share or 0, 4)) == (1000, round(650 / 1650, 4))
    assert week.days[-1].share is None


def test_open_and_booked_minutes_per_week(book: Book, week: Usage) -> None:
    (total,) = week.weeks()
    assert (total.monday, total.first, total.last) == (MONDAY, MONDAY, SUNDAY)
    assert (total.open_days, total.open, total.booked, total.sessions) == (5, 11250, 3390, 68)
    assert (week.open, week.booked, total.free) == (11250, 3390, 7860)
    # A range from a Wednesday: its first week is the days in the range only.
    part = book.usage("2026-12-02", "2026-12-08").weeks()
    assert [(w.monday.day, w.first.day, w.last.day, w.open_days, w.open) for w in part] == [
        (30, 2, 6, 3, 7200),
        (7, 7, 8, 2, 4800),
    ]


def test_the_heat_map_s_cells(book: Book, week: Usage) -> None:
    assert week.weekdays() == (0, 1, 2, 3, 4)
    assert next(c.times for c in week.slots if c.weekday == 0) == ("08:00", "09:00")
    assert len(week.slots) == 5 * 10
    nine = cell(week, 0, "09:00")  # c-1, c-2 and the SNT day on three open chairs
    assert (nine.open, nine.booked, nine.describe()) == (180, 160, "Mon 09:00-10:00")
    assert (cell(week, 0, "12:00").open, cell(week, 0, "12:00").booked) == (120, 60)  # coil repair
    assert (cell(week, 0, "17:00").open, cell(week, 0, "17:00").booked) == (90, 10)  # meeting
    assert (cell(week, 1, "09:00").open, cell(week, 1, "09:00").booked) == (240, 115)
    assert sum(c.open for c in week.slots) == week.open
    assert sum(c.booked for c in week.slots) == week.booked
    halves = book.usage(MONDAY, SUNDAY, slot=30)
    assert len(halves.slots) == 5 * 20
    late = cell(halves, 0, "17:30")
    assert (late.open, late.booked, late.share) == (0, 0, None)  # the staff meeting
    assert (cell(halves, 0, "17:00").open, cell(halves, 0, "17:00").booked) == (90, 10)
    assert (week.fullest(), week.emptiest()) == (nine, cell(week, 1, "17:00"))


def test_a_holiday_is_a_closed_day_with_its_reason(book: Book) -> None:
    thanksgiving = book.usage("2026-11-23", "2026-11-29")
    thursday = thanksgiving.days[3]
    assert (thursday.open, thursday.booked, thursday.closed) == (
        0,
        0,
        "Thanksgiving Day: clinic closed",
    )
    assert "Thu 26 Nov 2026  closed: Thanksgiving Day" in thanksgiving.to_text()
    assert thanksgiving.weeks()[0].open_days == 4


def test_the_text_and_csv_match_their_golden_files(week: Usage) -> None:
    check_golden("usage.txt", week.to_text())
    for by in ("day", "week", "slot"):
        check_golden(f"usage-{by}.csv", week.to_csv(by))  # type: ignore[arg-type]


def test_every_line_of_the_text_fits_80_columns(book: Book) -> None:
    for used in (book.usage("2026-11-16", "2027-02-28"), book.usage(MONDAY, SUNDAY, slot=30)):
        assert max(len(line) for line in used.to_text().splitlines()) <= 80


def test_the_csv_columns_are_stable_and_safe(book: Book, week: Usage) -> None:
    for by, columns in USAGE_CSV_COLUMNS.items():
        rows = list(csv.reader(io.StringIO(week.to_csv(by))))  # type: ignore[arg-type]
        assert tuple(rows[0]) == columns
    days = list(csv.DictReader(io.StringIO(week.to_csv())))
    assert len(days) == 7
    assert days[0] == {
        "date": "2026-11-30",
        "weekday": "Mon",
        "week": "2026-11-30",
        "open_minutes": "1650",
        "booked_minutes": "650",
        "free_minutes": "1000",
        "sessions": "12",
        "closed": "",
    }
    closed, _ = book.enter_closure(
        dt.date(2026, 12, 1),
        reason="=cmd|' /C calc'!A0",
        now=dt.datetime(2026, 11, 30, 18, tzinfo=DENVER.zone),
        block="continue",  # the day is in the SNT block's week: the clinician's choice
    )
    row = list(csv.DictReader(io.StringIO(closed.usage(MONDAY, SUNDAY).to_csv())))[1]
    assert row["closed"] == "'=cmd|' /C calc'!A0: clinic closed"
    with pytest.raises(BookError, match="by: must be one of day, week, slot; got 'month'"):
        week.to_csv("month")  # type: ignore[arg-type]


def test_bad_ranges_and_slots_name_the_field(book: Book) -> None:
    with pytest.raises(BookError, match="last: must be on or after first"):
        book.usage("2026-12-01", "2026-11-30")
    with pytest.raises(BookError, match="last: a usage covers at most 731 days, got 732"):
        book.usage("2026-01-01", "2028-01-02")
    with pytest.raises(BookError, match="slot: must be 30 or 60"):
        book.usage(MONDAY, SUNDAY, slot=15)
    with pytest.raises(BookError, match="first: must be a date written YYYY-MM-DD"):
        book.usage("next week", SUNDAY)


@PROPERTY
@given(book=books())
def test_booked_never_exceeds_open(book: Book) -> None:
    used = book.usage("2026-10-19", "2026-12-31", slot=30)
    for entry in (*used.days, *used.weeks(), *used.slots):
        assert 0 <= entry.booked <= entry.open, entry
    assert sum(c.open for c in used.slots) == used.open
    assert sum(c.booked for c in used.slots) == used.booked
    seated = sum(
        1
        for b in book.courses
        for s in b.course.schedule.sessions
        if s.status in OCCUPYING
        and b.seat_map().get(s.number)
        and used.first <= s.start.date() <= used.last
    )
    assert sum(d.sessions for d in used.days) == seated
    assert max(len(line) for line in used.to_text().splitlines()) <= 80


# -- how many more courses fit --------------------------------------------------------------------


def test_room_for_in_an_empty_book() -> None:
    book = Book(DENVER, (Chair("c1", "Chair 1"), Chair("c2", "Chair 2")))
    room = book.room_for("standard-10hz", "2026-11-16", "09:00", "12:00")
    # Session 1 takes 90 minutes and the chair 5 more: the next course on a chair starts
    # at 10:40 (times every 10 minutes), and the one after would start after 12:00.
    assert room.count == 4 and not room.stopped and room.closed is None
    assert [f"{t:%H:%M}" for t in room.starts()] == ["09:00", "09:00", "10:40", "10:40"]
    assert [o.chairs() for o in room.offers] == [["c1"], ["c2"], ["c1"], ["c2"]]
    assert room.to_text(book.chair_names()) == (
        "4 more courses of standard-10hz can start on Mon 16 Nov 2026 between 09:00 and"
        " 12:00:\n"
        "  1. 09:00 on Chair 1\n"
        "  2. 09:00 on Chair 2\n"
        "  3. 10:40 on Chair 1\n"
        "  4. 10:40 on Chair 2\n"
    )
    assert book.courses == ()  # the book itself does not change
    # Each counted course is exactly what the book offers: taking them one by one works.
    for number, offer in enumerate(room.offers):
        book = book.take(offer, f"new-{number}")
    assert book.check() == []
    assert book.room_for("standard-10hz", "2026-11-16", "09:00", "12:00").count == 0


def test_room_for_in_a_busy_book(book: Book) -> None:
    """On the Monday: chair 1 is free from 09:45 until its repair at 12:00, chair 2 from
    10:05 (c-4's session is cancelled that day), the SNT room is taken all week and chair 4
    is in service."""
    room = book.room_for("standard-10hz", MONDAY, "09:00", "12:00")
    assert [
        (f"{t:%H:%M}", o.chairs()[0]) for t, o in zip(room.starts(), room.offers, strict=True)
    ] == [
        ("09:50", "c1"),
        ("10:10", "c2"),
        ("11:50", "c2"),
    ]
    assert book.day_sheet(MONDAY) == clinic_book().day_sheet(MONDAY)
    assert room.to_text(book.chair_names()).splitlines()[0] == (
        "3 more courses of standard-10hz can start on Mon 30 Nov 2026 between 09:00 and 12:00:"
    )


def test_room_for_says_why_none_fits(book: Book) -> None:
    saturday = book.room_for("standard-10hz", "2026-12-05", "09:00", "12:00")
    assert (saturday.count, saturday.closed) == (0, "closed on Saturdays")
    assert saturday.to_text() == (
        "No more courses of standard-10hz can start on Sat 5 Dec 2026 between 09:00 and"
        " 12:00: closed on Saturdays.\n"
    )
    no_coil = book.room_for("deep-tms-h7-ocd", MONDAY, "09:00", "12:00")
    assert no_coil.closed == "no chair runs it (it needs h7)"
    late = book.room_for("standard-10hz", MONDAY, "17:00", "17:30")
    assert late.closed is not None and "the latest time that fits is 16:30" in late.closed
    full = book.room_for("snt", MONDAY, "08:00", "08:00")
    assert (full.count, full.closed) == (0, None)
    assert "no chair is free at one time for every session" in full.to_text()
    once = Book(DENVER, (Chair("c1"),)).room_for("itbs", MONDAY, "09:00", "12:00", limit=1)
    assert once.stopped and once.to_text().startswith("At least 1 more course of itbs")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    book=books(),
    offset=st.integers(0, 40),
    hour=st.integers(8, 15),
    protocol=st.sampled_from(["itbs", "standard-10hz", "snt"]),
)
def test_room_for_counts_what_the_book_would_book(
    book: Book, offset: int, hour: int, protocol: str
) -> None:
    """Each counted course starts on the day within the window and can be taken, in
    order; once they are in, the book offers no further course at any time of the window."""
    day = dt.date(2026, 10, 19) + dt.timedelta(days=offset)
    start, end = dt.time(hour), dt.time(hour + 1)
    room = book.room_for(protocol, day, start, end, limit=6)
    assert book.check() == []
    for number, offer in enumerate(room.offers):
        assert offer.start == day and start <= offer.schedule.first.start.time() <= end
        book = book.take(offer, f"room-test-{number}")
    assert book.check() == []
    if room.stopped:
        return
    moment = dt.datetime.combine(day, start)
    while moment.time() <= end and moment.date() == day:
        try:
            offers = book.offers(protocol, day, moment.time(), window=0, dates=1)
        except TmsScheduleError:
            offers = ()
        assert not [o for o in offers if o.start == day], moment
        moment += dt.timedelta(minutes=10)


def test_room_for_refuses_bad_input(book: Book) -> None:
    with pytest.raises(BookError, match=r"window_end: must be at or after window_start \(12:00\)"):
        book.room_for("itbs", MONDAY, "12:00", "09:00")
    with pytest.raises(BookError, match="step: must be a whole number from 5 to 60, got 1"):
        book.room_for("itbs", MONDAY, "09:00", "12:00", step=1)
    with pytest.raises(BookError, match="limit: must be a whole number from 1 to 200, got 0"):
        book.room_for("itbs", MONDAY, "09:00", "12:00", limit=0)
    with pytest.raises(BookError, match="window_start: must be a time written HH:MM"):
        book.room_for("itbs", MONDAY, "9am", "12:00")
    with pytest.raises(UnknownProtocolError):
        book.room_for("no-such-protocol", MONDAY, "09:00", "12:00")


# -- the page ---------------------------------------------------------------------------------------


def luminance(colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_the_colours_read_in_greyscale_and_carry_their_numbers() -> None:
    # Each step darker than the one before, by enough to tell apart in greyscale print,
    # and the number written on each reads on it (WCAG AA: 4.5 to 1).
    lights = [luminance(fill) for _, fill, _ in BINS]
    assert all(a - b > 0.1 for a, b in itertools.pairwise(lights))
    for _, fill, ink in BINS:
        high, low = sorted((luminance(fill), luminance(ink)), reverse=True)
        assert (high + 0.05) / (low + 0.05) >= 4.5, fill
    assert [high for high, _, _ in BINS] == [0.2, 0.4, 0.6, 0.8, 1.0]


def test_the_page_draws_each_cell_with_its_numbers(week: Usage) -> None:
    page = week.to_html(clinic_name="Example Clinic", issued=dt.date(2026, 12, 7))
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert "content=\"default-src 'none'; style-src 'unsafe-inline'\"" in page
    assert {tag for tag, _ in tags(page)} <= PAGE_TAGS
    svg = page.split("<svg", 1)[1].split("</svg>")[0]
    assert 'role="img" aria-labelledby="heat-title"' in svg
    # A cell per weekday and hour, each with its numbers on hover.
    titles = re.findall(r"<title>([^<]*)</title>", svg)  # the picture's own has an id
    assert len(titles) == len(week.slots) == 50
    assert "Monday 09:00\N{EN DASH}10:00: 88% booked, 2 h 40 min of 3 h open chair time" in titles
    assert (
        "Monday 17:00\N{EN DASH}18:00: 11% booked, 10 min of 1 h 30 min open chair time" in titles
    )
    # 88% is in the darkest step; its number is written in white on it.
    nine = svg.split("Monday 09:00\N{EN DASH}10:00")[1].split("</g>")[0]
    assert (
        f'fill="{BINS[4][1]}"' in nine
        and "<text" in nine
        and f'fill="{BINS[4][2]}" class="n">88</text>' in nine
    )
    # The table gives the same numbers to screen readers and on paper.
    table = page.split("<caption>By weekday and time (share booked)</caption>")[1].split(
        "</table>"
    )[0]
    assert '<th scope="row">09:00\N{EN DASH}10:00</th><td>88%</td><td>47%</td>' in table
    assert '<abbr title="Monday">Mon</abbr>' in table
    assert (
        '<tr><th scope="row">30 Nov 2026</th><td>187:30</td><td>56:30</td><td>131:00</td><td>30%</td></tr>'
        in page
    )
    assert "<strong>30%</strong> of the open chair time is booked" in page
    assert 'Fullest: <span class="nw">Mondays 09:00\N{EN DASH}10:00</span> (88%)' in page
    assert "Issued 7 Dec 2026" in page
    # A slot no chair is open in is hatched, in the picture and in the legend.
    halves = clinic_book().usage(MONDAY, SUNDAY, slot=30).to_html()
    assert "<title>Monday 17:30\N{EN DASH}18:00: not open</title>" in halves
    assert 'fill="url(#none)"' in halves and "<td>not open</td>" in halves


def test_a_range_with_nothing_open_says_so(book: Book) -> None:
    weekend = book.usage("2026-12-05", "2026-12-06")
    assert weekend.slots == () and weekend.open == 0
    assert "The clinic is not open in these dates." in weekend.to_html()
    assert "No open time in these dates." in weekend.to_text()


def test_the_page_escapes_the_clinic_s_name(week: Usage) -> None:
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    page = week.to_html(clinic_name=evil)
    assert {tag for tag, _ in tags(page)} <= PAGE_TAGS
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<" not in page.split("<style>")[1].split("</style>")[0]
    with pytest.raises(BookError, match="clinic_name: must be a text"):
        week.to_html(clinic_name=3)  # type: ignore[arg-type]


def test_the_page_and_the_text_say_they_are_for_staff(week: Usage) -> None:
    page = week.to_html(clinic_name="Example Clinic")
    assert f'<strong class="staff">{STAFF_ONLY}</strong>' in page
    assert css_string(" \N{MIDDLE DOT} For clinic staff only")[1:] in page  # each page's foot
    assert week.to_text().splitlines()[1] == STAFF_ONLY


def room_page(book: Book) -> str:
    room = book.room_for("standard-10hz", MONDAY, "09:00", "12:00")
    return room.to_html(
        book.chair_names(), clinic_name="Example Clinic", issued=dt.datetime(2026, 11, 30, 7, 45)
    )


def test_the_room_page_lists_each_course_for_staff(book: Book) -> None:
    page = room_page(book)
    assert {tag for tag, _ in tags(page)} <= PAGE_TAGS
    assert "<h1>Room for more courses</h1>" in page
    assert f'<strong class="staff">{STAFF_ONLY}</strong>' in page
    assert (
        '<p class="summary">3 more courses of standard-10hz can start on Mon 30 Nov 2026'
        " between 09:00 and 12:00:</p>"
    ) in page
    rows = re.findall(
        r"<tr><td class=\"n\">(\d+)</td><td class=\"start\">([\d:]+)</td><td>([^<]*)</td>", page
    )
    assert rows == [("1", "09:50", "Chair 1"), ("2", "10:10", "Chair 2"), ("3", "11:50", "Chair 2")]
    assert "Issued 30 Nov 2026 07:45" in page
    none = book.room_for("standard-10hz", "2026-12-05", "09:00", "12:00").to_html()
    assert "closed on Saturdays." in none and "<table>" not in none
    with pytest.raises(BookError, match="issued: must be a date or a date and time"):
        book.room_for("itbs", MONDAY, "09:00", "10:00").to_html(issued="today")  # type: ignore[arg-type]


def test_the_room_page_escapes_every_text(book: Book) -> None:
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    room = book.room_for("standard-10hz", MONDAY, "09:00", "12:00")
    page = room.to_html({"c1": evil}, clinic_name=evil)
    assert {tag for tag, _ in tags(page)} <= PAGE_TAGS
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img" in page
    assert "<" not in page.split("<style>")[1].split("</style>")[0]


# -- a real browser ----------------------------------------------------------------------------


def heat_page(slot: int = 60) -> str:
    used = clinic_book().usage("2026-11-16", "2027-01-10", slot=slot)
    return used.to_html(clinic_name="Example Clinic", issued=dt.date(2026, 11, 30))


@pytest.mark.parametrize("slot", [60, 30])
@pytest.mark.parametrize("width", [320, 390, 1024])
def test_the_heat_map_reads_on_any_screen(slot: int, width: int) -> None:
    report = check_layout(heat_page(slot), width)
    assert report.width == width
    assert report.words > 100
    assert report.problems == ()


def test_the_room_page_reads_on_a_phone_and_prints_on_one_page(book: Book) -> None:
    page = room_page(book)
    report = check_layout(page, 390)
    assert report.words > 40 and report.problems == ()
    printed = print_to_pdf(page, "A4")
    assert printed.console == () and printed.pages == 1
    flat = " ".join(printed.text.split())
    assert "For clinic staff only; not for patients." in flat
    assert "Room for more courses, Mon 30 Nov 2026 \N{EM DASH} Example Clinic" in flat


@pytest.mark.parametrize("paper", ["A4", "letter"])
def test_chromium_prints_the_heat_map_on_one_page(paper: str) -> None:
    printed = print_to_pdf(heat_page(), paper)
    assert printed.console == ()
    assert printed.pages == 1
    text = printed.text
    assert "Chair time booked" in text and "Mon 16 Nov 2026 to Sun 10 Jan 2027" in text
    for words in ("0\N{EN DASH}19%", "80\N{EN DASH}100%", "not open", "By week", "Page 1 of 1"):
        assert words in text
    # The picture's own numbers are text in the PDF, not pixels.
    assert re.search(r"Mon( \d{1,3}){10} ", text)
