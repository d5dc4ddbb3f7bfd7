"""The day sheet: each chair's timeline, the sessions without a chair, closed days said
plainly, and the text, CSV and printable page staff read it in.

The hand-built book (tests/book_cases.py) was worked out on paper: its Monday is the first
day of an SNT block, a chair's service day, an hour's coil repair, a staff meeting, and a
missed and a cancelled session. The page counts of the printed sheet were checked by eye
on screenshots.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from book_cases import (
    DENVER,
    MONDAY,
    PAGE_TAGS,
    ZONE,
    at,
    books,
    busy_book,
    check_golden,
    clinic_book,
    course,
    tags,
)
from browser import check_layout, print_to_pdf
from tms_schedule import ClinicCalendar, Course, Plan
from tms_schedule.book import Book, Booked, Chair, DaySheet, StaffLimit
from tms_schedule.book.occupancy import minute
from tms_schedule.errors import BookError
from tms_schedule.pages._format import STAFF_ONLY, css_string
from tms_schedule.pages.day_sheet import SHEET_CSV_COLUMNS

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def hm(moment: dt.datetime) -> str:
    return f"{moment:%H:%M}"


def timeline(sheet: DaySheet, chair: str) -> list[tuple[str, str, str, str]]:
    """(start, end, kind, what) of a chair's timeline: the course for a session or a held
    day, the reason for an outage."""
    return [
        (
            hm(s.start),
            hm(s.end),
            s.kind,
            s.session.course_id if s.session else (s.reason or ""),
        )
        for s in sheet.chair(chair).timeline()
    ]


@pytest.fixture(scope="module")
def book() -> Book:
    return clinic_book()


@pytest.fixture(scope="module")
def sheet(book: Book) -> DaySheet:
    return book.day_sheet(MONDAY)


def test_each_chair_s_timeline_in_order(sheet: DaySheet) -> None:
    assert sheet.hours is not None and str(sheet.hours) == "08:00-18:00"
    assert sheet.closed is None
    assert [c.chair.id for c in sheet.chairs] == ["c1", "c2", "c3", "c4"]
    # The coil repair and the staff meeting cut chair 1's day; c-3's missed 14:00 session
    # gave the chair back.
    assert timeline(sheet, "c1") == [
        ("08:00", "08:55", "free", ""),
        ("09:00", "09:40", "session", "c-1"),
        ("09:45", "12:00", "free", ""),
        ("12:00", "13:00", "out", "Coil repair"),
        ("13:00", "17:30", "free", ""),
        ("17:30", "18:00", "out", "Staff meeting"),
    ]
    # c-4's cancelled 11:00 session is not on the chair.
    assert timeline(sheet, "c2") == [
        ("08:00", "08:55", "free", ""),
        ("09:00", "10:00", "session", "c-2"),
        ("10:05", "17:30", "free", ""),
        ("17:30", "18:00", "out", "Staff meeting"),
    ]
    # The SNT day keeps its chair from the first session to the last: nothing is free
    # between its sessions.
    snt = timeline(sheet, "c3")
    assert snt[0] == ("08:00", "17:10", "held", "snt-1")
    assert snt[1:11] == [(f"{h:02d}:00", f"{h:02d}:10", "session", "snt-1") for h in range(8, 18)]
    assert snt[11:] == [("17:15", "17:30", "free", ""), ("17:30", "18:00", "out", "Staff meeting")]
    service = sheet.chair("c4")
    assert service.service == "Device service"
    assert service.timeline() == [] and service.free_minutes == 0
    assert sheet.chair("c1").free_minutes == 55 + 135 + 270


def test_each_session_says_its_place_status_milestones_and_code(sheet: DaySheet) -> None:
    c1 = sheet.chair("c1").sessions[0]
    assert (c1.course_id, c1.protocol_id, c1.phase, c1.number) == (
        "c-1",
        "standard-10hz",
        "acute",
        10,
    )
    assert (c1.position, c1.status, c1.cpt) == ("session 10 of 36", "scheduled", "90869")
    assert c1.milestones == ("Motor threshold re-determination", "PHQ-9 due")
    first = sheet.chair("c2").sessions[0]
    assert (first.protocol_id, first.position, first.cpt) == ("itbs", "session 1 of 30", "90867")
    assert first.milestones == ("Mapping and motor threshold", "PHQ-9 baseline")
    snt = sheet.chair("c3").sessions
    assert [s.position for s in snt] == [f"session {n} of 50" for n in range(1, 11)]
    assert {s.phase for s in snt} == {"accelerated"}
    assert sheet.protocols == (
        ("itbs", "Intermittent theta-burst stimulation (iTBS), left DLPFC"),
        ("snt", "Stanford neuromodulation therapy (SNT/SAINT), accelerated iTBS"),
        ("standard-10hz", "Standard 10 Hz rTMS (left DLPFC) with taper"),
    )


def test_sessions_without_a_chair_come_after_the_chairs(sheet: DaySheet, book: Book) -> None:
    assert [(hm(s.start), s.course_id, s.number, s.status, s.chair) for s in sheet.unseated] == [
        ("11:00", "c-4", 5, "cancelled", None),
        ("14:00", "c-3", 10, "missed", None),
    ]
    assert [(s.place, s.position, s.cpt) for s in sheet.unseated] == [
        (None, "session 5", None),
        (None, "session 10", None),
    ]
    # The next day c-3's session 11 is the tenth that counts: the sheet names it by the
    # number a record takes, its place beside it.
    tuesday = book.day_sheet(MONDAY + dt.timedelta(days=1))
    (c3,) = [s for s in tuesday.sessions() if s.course_id == "c-3"]
    assert (c3.number, c3.place, c3.position, c3.chair) == (11, 10, "session 11: 10th of 36", "c1")


def test_a_session_is_named_by_the_number_a_record_takes() -> None:
    """After a missed session the numbers and the places part: each session keeps the
    number ``record`` takes, its place beside it; the make-up a re-plan adds is numbered
    after the last and says so."""
    book = Book(DENVER, (Chair("c1"),)).add(course("c-1", "2026-11-16", "09:00"))
    replanned = (
        book.course("c-1")
        .missed(2, "patient", now=at("2026-11-17", "12:00"))
        .replan(dt.date(2026, 11, 18))
    )
    book = book.update(replanned)
    ((missed,), (next_one,)) = (
        book.day_sheet(day).sessions() for day in ("2026-11-17", "2026-11-18")
    )
    assert (missed.number, missed.position) == (2, "session 2")
    assert (next_one.number, next_one.position) == (3, "session 3: 2nd of 36")
    makeup = max(replanned.schedule.sessions, key=lambda s: s.number)
    (row,) = book.day_sheet(makeup.date).sessions()
    assert (row.number, row.place, row.of) == (37, 30, 36)  # at the end of the acute phase
    assert row.position == "session 37, a make-up: 30th of 36"
    text = book.day_sheet(makeup.date).to_text()
    assert "session 37, a make-up: 30th of 36" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "session 37, a make-up: 30th of 36" in book.day_sheet(makeup.date).to_html()


def test_the_sheet_says_it_is_for_staff(sheet: DaySheet) -> None:
    """It names protocols and billing codes: the page says it is for staff at its top and
    at the foot of every printed page, the text under its title; the CSV is data."""
    page = sheet.to_html(clinic_name="Example Clinic")
    assert f'<strong class="staff">{STAFF_ONLY}</strong>' in page
    foot = page.split("@bottom-left { content: ")[1].split(";")[0]
    assert foot.endswith(css_string(" \N{MIDDLE DOT} For clinic staff only")[1:])
    assert sheet.to_text().splitlines()[1] == STAFF_ONLY
    assert "staff" not in sheet.to_csv()


def test_the_sheet_reads_the_book_s_own_index(sheet: DaySheet, book: Book) -> None:
    """Free stretches are where the book would book a new session, no more, no less."""
    occupancy = book.occupancy()
    for entry in sheet.chairs:
        assert [(minute(a), minute(b)) for a, b in entry.free] == list(
            occupancy.gaps(entry.chair, MONDAY)
        )


def test_a_closed_day_is_said_plainly(book: Book) -> None:
    thanksgiving = book.day_sheet("2026-11-26")
    assert thanksgiving.hours is None
    assert thanksgiving.closed == "Thanksgiving Day: clinic closed"
    assert thanksgiving.closed_text() == "The clinic is closed: Thanksgiving Day."
    assert all(not c.free and not c.sessions for c in thanksgiving.chairs)
    text = thanksgiving.to_text()
    assert text.splitlines()[:3] == [
        "Day sheet - Thu 26 Nov 2026",
        "For clinic staff only; not for patients.",
        "The clinic is closed: Thanksgiving Day.",
    ]
    assert "No session." in text and "free" not in text
    saturday = book.day_sheet(dt.date(2026, 11, 28))
    assert saturday.closed_text() == "The clinic is closed on Saturdays."
    assert "The clinic is closed on Saturdays." in saturday.to_html()


def test_the_clinic_s_limit_of_sessions_at_once_leaves_no_chair_free() -> None:
    chairs = (Chair("c1"), Chair("c2"))
    book = Book(DENVER, chairs, limits=(StaffLimit(1, "08:00-12:00"),)).add(
        course("c-1", "2026-11-16", "09:00")
    )
    sheet = book.day_sheet("2026-11-17")
    assert [(hm(a), hm(b)) for a, b in sheet.at_limit] == [("09:00", "09:40")]
    assert [(hm(a), hm(b)) for a, b in sheet.chair("c2").free] == [
        ("08:00", "09:00"),
        ("09:40", "18:00"),
    ]
    assert (
        "At the clinic's limit of sessions at once (no chair free): 09:00-09:40" in sheet.to_text()
    )


def test_the_text_matches_its_golden_file(sheet: DaySheet) -> None:
    check_golden("day-sheet.txt", sheet.to_text())


def test_the_csv_matches_its_golden_file(sheet: DaySheet) -> None:
    check_golden("day-sheet.csv", sheet.to_csv())


def test_the_csv_has_one_row_per_session_in_stable_columns(sheet: DaySheet) -> None:
    text = sheet.to_csv()
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == SHEET_CSV_COLUMNS
    assert len(rows) == len(sheet.sessions()) == 14
    assert rows[0] == {
        "date": "2026-11-30",
        "chair": "c1",
        "chair_label": "Chair 1",
        "start": "09:00",
        "end": "09:40",
        "timezone": "America/Denver",
        "course_id": "c-1",
        "protocol_id": "standard-10hz",
        "phase": "acute",
        "number": "10",
        "place": "10",
        "of": "36",
        "status": "scheduled",
        "cpt": "90869",
        "milestones": "Motor threshold re-determination; PHQ-9 due",
    }
    assert [(r["chair"], r["place"], r["status"]) for r in rows[-2:]] == [
        ("", "", "cancelled"),
        ("", "", "missed"),
    ]


def test_cells_a_spreadsheet_would_run_are_neutralised() -> None:
    book = Book(DENVER, (Chair("c1", "@Chair"),)).add(
        course('=HYPERLINK("x")', "2026-11-16", "09:00")
    )
    row = list(csv.reader(io.StringIO(book.day_sheet("2026-11-16").to_csv())))[1]
    assert row[1:3] == ["c1", "'@Chair"]
    assert row[6] == '\'=HYPERLINK("x")'


def test_every_line_of_the_text_fits_80_columns(book: Book) -> None:
    long_id = "course-" + "x" * 121
    wide = Book(
        DENVER, (Chair("c1", "A chair with a label of sixty characters, which is the most"),)
    )
    wide = wide.add(course(long_id, "2026-11-16", "09:00", "cluster-maintenance"))
    for sheet in (book.day_sheet(MONDAY), wide.day_sheet("2026-11-16")):
        lines = sheet.to_text().splitlines()
        assert max(len(line) for line in lines) <= 80
    assert long_id in wide.day_sheet("2026-11-16").to_text().replace("\n", "").replace(" ", "")


def test_nothing_about_a_patient_beyond_the_course_id(book: Book, sheet: DaySheet) -> None:
    # The course records' notes and causes never reach the sheet, in any rendering (the
    # notice that the sheet is not for patients aside).
    for rendering in (sheet.to_text(), sheet.to_csv(), sheet.to_html()):
        assert "Private note" not in rendering
        assert "patient" not in rendering.replace(STAFF_ONLY, "").lower()
        assert "sick" not in rendering and "travel" not in rendering


def test_the_page_is_self_contained_and_escapes_every_text() -> None:
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    chair = Chair("c1", "<b>Chair</b>")
    book = Book(DENVER, (chair,)).add(course("<i>c-1</i>", "2026-11-16", "09:00"))
    book, _ = book.enter_closure(
        dt.date(2026, 11, 17), reason=evil, hours="12:00-13:00", now=at("2026-11-13", "18:00")
    )
    page = book.day_sheet("2026-11-17").to_html(clinic_name=evil, issued=at("2026-11-17", "07:45"))
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">')
    assert "content=\"default-src 'none'; style-src 'unsafe-inline'\"" in page
    found = tags(page)
    assert {tag for tag, _ in found} <= PAGE_TAGS  # no script, img, link, b or i
    assert all(
        name in ("class", "colspan", "scope", "lang", "charset", "http-equiv", "content", "name")
        for _, names in found
        for name in names
    )
    for fetching in ("url(", "@import", "@font-face"):
        assert fetching not in page
    assert "&lt;i&gt;c-1&lt;/i&gt;" in page and "&lt;b&gt;Chair&lt;/b&gt;" in page
    assert "out: &lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img" in page
    style = page.split("<style>")[1].split("</style>")[0]
    assert "<" not in style  # the clinic's name at the foot of each page is CSS-escaped
    assert "Issued 17 Nov 2026 07:45" in page
    assert "@page { margin: 12mm; }" in page
    assert not re.search(r"(?<![-\w])size\s*:", page)  # neither A4 nor Letter forced


def test_bad_input_names_the_field() -> None:
    book = clinic_book()
    with pytest.raises(BookError, match="day: must be a date written YYYY-MM-DD, got '30/11/2026'"):
        book.day_sheet("30/11/2026")
    with pytest.raises(BookError, match="day: must be a date written YYYY-MM-DD, got datetime"):
        book.day_sheet(at("2026-11-30", "09:00"))  # type: ignore[arg-type]
    sheet = book.day_sheet(MONDAY)
    with pytest.raises(BookError, match="chair: no chair 'c9'; chairs: c1, c2, c3, c4"):
        sheet.chair("c9")
    with pytest.raises(BookError, match="issued: must be a date or a date and time"):
        sheet.to_html(issued="today")  # type: ignore[arg-type]


@PROPERTY
@given(book=books(), offset=st.integers(0, 70))
def test_the_sheet_lists_every_session_of_the_day_once(book: Book, offset: int) -> None:
    day = dt.date(2026, 10, 19) + dt.timedelta(days=offset)
    sheet = book.day_sheet(day)
    expected = Counter(
        (b.course_id, s.number)
        for b in book.courses
        for s in b.course.schedule.sessions
        if s.start.date() == day
    )
    listed = Counter((s.course_id, s.number) for s in sheet.sessions())
    assert listed == expected
    occupancy = book.occupancy()
    for entry in sheet.chairs:
        # Free stretches lie apart and in order, and on the chair's seats nothing else sits.
        assert [(minute(a), minute(b)) for a, b in entry.free] == list(
            occupancy.gaps(entry.chair, day)
        )
        for session in entry.sessions:
            assert session.chair == entry.chair.id
            assert all(b <= session.start or session.end <= a for a, b in entry.free)
    assert max(len(line) for line in sheet.to_text().splitlines()) <= 80


# -- when the book breaks its own rule -------------------------------------------------------------


CLUSTER_CLINIC = ClinicCalendar("America/Denver")


def cluster_around_a_session() -> Book:
    """Three chairs without turnover. c-a (08:00) and c-b (09:40) hold chair c1 each
    morning; a cluster-maintenance course from Tuesday 20 October at 08:40 has three
    sessions that day, each of which fits c1 on its own (08:40, 10:30, 12:00) around c-b's
    09:40 session, though the day keeps the chair from 08:40 to 12:40."""
    book = Book(CLUSTER_CLINIC, tuple(Chair(f"c{i}", turnover=0) for i in (1, 2, 3)))
    for course_id, protocol, start, time in (
        ("c-b", "standard-10hz", "2026-10-19", "09:40"),
        ("c-a", "standard-10hz", "2026-10-19", "08:00"),
        ("c-c", "cluster-maintenance", "2026-10-20", "08:40"),
    ):
        book = book.add(Course.start(Plan(protocol, CLUSTER_CLINIC, start, time, course_id)))
    return book


def broken_book() -> Book:
    """The same clinic with the cluster put on c1 around c-b's session (as a clinic's own
    database might hand it over): the book holds it, and says what is wrong."""
    book = cluster_around_a_session()
    cluster = book.course("c-c")
    seated = Booked(cluster, {s.number: "c1" for s in cluster.schedule.sessions})
    return attrs.evolve(
        book, courses=tuple(b if b.course_id != "c-c" else seated for b in book.courses)
    )


def test_the_sheet_shows_what_the_book_holds_even_where_two_overlap() -> None:
    book = broken_book()
    assert any("c-b" in problem and "c-c" in problem for problem in book.check())
    sheet = book.day_sheet("2026-10-20")
    assert timeline(sheet, "c1") == [
        ("08:00", "08:40", "session", "c-a"),
        ("08:40", "12:40", "held", "c-c"),
        ("08:40", "09:40", "session", "c-c"),
        ("09:40", "10:20", "session", "c-b"),
        ("10:30", "11:10", "session", "c-c"),
        ("12:00", "12:40", "session", "c-c"),
        ("12:40", "18:00", "free", ""),
    ]
    # Chair time counts the overlap once: 40 minutes for c-a and the cluster's 240.
    (day,) = book.usage("2026-10-20", "2026-10-20").days
    assert (day.open, day.booked, day.sessions) == (1800, 280, 5)


def test_a_cluster_day_is_seated_on_a_chair_free_for_the_whole_day() -> None:
    """Each of the cluster day's sessions would fit c1 around c-b's session; the day
    as a whole does not, so all three go to the next chair."""
    book = cluster_around_a_session()
    assert book.check() == []
    day = [s for s in book.course("c-c").schedule.sessions if s.date == dt.date(2026, 10, 20)]
    assert len(day) == 3
    assert {book.seats("c-c")[s.number] for s in day} == {"c2"}
    assert timeline(book.day_sheet("2026-10-20"), "c1")[:3] == [
        ("08:00", "08:40", "session", "c-a"),
        ("08:40", "09:40", "free", ""),
        ("09:40", "10:20", "session", "c-b"),
    ]


# -- a real browser ----------------------------------------------------------------------------

ISSUED = dt.datetime(2026, 11, 30, 7, 45, tzinfo=ZONE)


def page(book: Book, day: dt.date = MONDAY) -> str:
    return book.day_sheet(day).to_html(clinic_name="Example Clinic", issued=ISSUED)


@pytest.mark.parametrize("width", [320, 390, 600, 1024])
def test_the_sheet_reads_on_any_screen(book: Book, width: int) -> None:
    report = check_layout(page(book), width)
    assert report.width == width
    assert report.words > 200  # the check saw the page
    assert report.problems == ()


# (paper): pages. Fourteen sessions, four chairs and their free stretches: one page.
PRINTED = {"A4": 1, "letter": 1}


@pytest.mark.parametrize("paper", list(PRINTED))
def test_chromium_prints_the_sheet(book: Book, paper: str) -> None:
    printed = print_to_pdf(page(book), paper)
    assert printed.console == ()
    assert printed.page_size.endswith(f"({paper})")
    assert printed.pages == PRINTED[paper]
    text = printed.text
    assert "Day sheet: Monday 30 November 2026" in text
    for session in book.day_sheet(MONDAY).sessions():
        assert f"{session.start:%H:%M}\N{EN DASH}{session.end:%H:%M}" in text
    assert text.count("Mapping and motor threshold") == 2
    assert "Out all day: Device service" in text and "out: Coil repair" in text
    assert "snt-1 keeps the chair from first to last session" in text
    # The column heads repeat on each page; each page has its foot.
    for number, page_text in enumerate(printed.texts, start=1):
        flat = " ".join(page_text.split())
        assert "Time Course Protocol Session Status Due CPT" in flat
        assert "Day sheet Mon 30 Nov 2026 \N{EM DASH} Example Clinic" in flat
        assert f"Issued 30 Nov 2026 07:45 \N{MIDDLE DOT} Page {number} of {printed.pages}" in flat


def test_chromium_prints_a_closed_day_on_one_page(book: Book) -> None:
    printed = print_to_pdf(page(book, dt.date(2026, 11, 26)), "A4")
    assert printed.pages == 1
    assert "The clinic is closed: Thanksgiving Day." in printed.text


def test_chromium_keeps_each_chair_on_one_page() -> None:
    """A busy day runs to a second page between two chairs, never inside one (a chair's
    rows fit a page), and the column heads repeat."""
    busy = busy_book()
    sheet = busy.day_sheet("2026-11-17")
    for paper in PRINTED:
        printed = print_to_pdf(sheet.to_html(clinic_name="Example Clinic"), paper)
        assert printed.pages == 2
        for entry in sheet.chairs:
            heading = f"{entry.chair.name} ({entry.chair.id}) runs figure-8"
            (page_text,) = [t for t in printed.texts if heading in " ".join(t.split())]
            ids = set(re.findall(r"\bb-\d+\b", page_text))
            assert {s.course_id for s in entry.sessions} <= ids, entry.chair.id
        assert all("Time Course Protocol" in " ".join(t.split()) for t in printed.texts)
