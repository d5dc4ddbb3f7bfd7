"""The clinic's book in the situations clinics meet: a busy week, a snow day, a broken coil,
two accelerated blocks wanting the same week. The busy clinic is the benchmarks' own."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from busy_clinic import CLINIC, NOW, busy_book, future_sessions
from tms_schedule import Course, Plan
from tms_schedule.book import Book, Chair
from tms_schedule.errors import BlockBreakError, BookError, CourseError, NoOfferError


@pytest.fixture(scope="module")
def busy() -> Book:
    book = busy_book()
    assert len(book.courses) == 60 and len(book.chairs) == 4
    assert future_sessions(book) > 1500
    assert book.check() == []
    return book


def test_a_new_standard_course_at_nine_in_a_full_clinic(busy: Book) -> None:
    """Nine o'clock is taken for weeks: the front desk hears when it frees up, and what is
    free at other times now."""
    with pytest.raises(NoOfferError) as caught:
        busy.offers("standard-10hz", NOW.date(), "09:00")
    assert caught.value.next_dates  # the first start dates that could hold it
    assert all(day > NOW.date() + dt.timedelta(days=14) for day in caught.value.next_dates)
    offers = busy.offers("standard-10hz", NOW.date(), "14:00")
    best = offers[0]
    assert best.start == NOW.date()
    booked = busy.take(best, "new-1")
    assert booked.check() == []
    assert booked.course("new-1").schedule.sessions[0].start.date() == NOW.date()


def test_a_snow_day_moves_forty_courses_and_lists_whom_to_call(busy: Book) -> None:
    tuesday = NOW.date() + dt.timedelta(days=8)
    on_the_day = [
        b.course_id
        for b in busy.courses
        if any(s.date == tuesday and s.status == "scheduled" for s in b.course.schedule)
    ]
    assert len(on_the_day) >= 35
    after, report = busy.enter_closure(tuesday, reason="Snow day", now=NOW)
    assert sorted(e.course_id for e in report.courses) == sorted(on_the_day)
    assert after.check() == []
    text = report.to_text()
    for course_id in on_the_day:
        assert f"Course {course_id}:" in text
    for entry in report.courses:
        moved = [
            c for c in entry.changes if c.kind == "moved" and c.old and c.old.date() == tuesday
        ]
        assert moved, entry.course_id  # each course's Tuesday session moved
        assert all(c.new and c.new.date() != tuesday for c in moved)
        assert (
            len(entry.course.schedule.active_sessions())
            == entry.course.plan.protocol.total_sessions
        )
    # Nothing before the snow day moved, for any course.
    for booked in after.courses:
        was = {s.number: s.start for s in busy.course(booked.course_id).schedule}
        assert all(
            s.start == was[s.number]
            for s in booked.course.schedule
            if s.number in was and s.date < tuesday
        )


def test_a_coil_breaks_on_chair_two_for_a_week(busy: Book) -> None:
    first = NOW.date() + dt.timedelta(days=1)
    last = first + dt.timedelta(days=6)
    after, report = busy.enter_closure(first, last, reason="Coil broken", chair="c2", now=NOW)
    assert after.check() == []
    for booked in after.courses:
        seats = booked.seat_map()
        for session in booked.course.schedule:
            if session.status == "scheduled" and first <= session.date <= last:
                assert seats[session.number] != "c2"
    # Each session that was on chair 2 that week kept its time on another chair, or its
    # course was re-planned and the report says where it went.
    on_two = {
        (b.course_id, n)
        for b in busy.courses
        for n, chair in b.seats
        if chair == "c2"
        and any(
            s.number == n and s.status == "scheduled" and first <= s.date <= last
            for s in b.course.schedule
        )
    }
    said = {(e.course_id, number) for e in report.courses for number, *_ in e.chairs}
    said |= {(e.course_id, c.session) for e in report.courses for c in e.changes}
    assert on_two and on_two <= said
    assert any(e.chairs for e in report.courses)  # some simply changed chair


def test_two_accelerated_blocks_compete_for_the_same_week() -> None:
    book = Book(CLINIC, (Chair("c1"),))
    monday = dt.date(2026, 11, 30)
    first = book.offers("snt", monday, "08:00", count=1)[0]
    book = book.take(first, "snt-1")
    assert first.start == monday
    second = book.offers("snt", monday, "08:00", count=1)[0]
    assert second.start == monday + dt.timedelta(days=7)  # the chair is snt-1's all week
    book = book.take(second, "snt-2")
    assert book.check() == []
    # With a second chair both run the same week.
    two = Book(CLINIC, (Chair("c1"), Chair("c2")))
    two = two.take(two.offers("snt", monday, "08:00", count=1)[0], "snt-1")
    other = two.offers("snt", monday, "08:00", count=1)[0]
    assert other.start == monday and other.chairs() == ["c2"]


def test_a_course_imported_into_a_full_book_says_which_sessions_have_no_chair(busy: Book) -> None:
    course = Course.start(Plan("standard-10hz", CLINIC, NOW.date(), "09:00", "walk-in"))
    with pytest.raises(Exception, match="course walk-in: no chair for") as caught:
        busy.add(course)
    assert getattr(caught.value, "conflicts", ())


# -- one patient across courses (issue 17, item 4) ---------------------------------------------------


def window_of(book: Book, course_ids: list[str]) -> Book:
    """A window of ``book`` as a store hands it out: these courses in full, the chair time
    of the others."""
    held = [b for b in book.courses if b.course_id in course_ids]
    others = tuple(entry for b in book.courses if b not in held for entry in b.bookings())
    return Book(book.clinic, book.chairs, book.limits, book.outages, held, book.events, others)


def acute_then_maintenance() -> tuple[Book, dt.datetime]:
    """Chair 1: c-1 (standard 10 Hz from 30 Nov 2026 at 09:00, to 25 Jan 2027), then m-1
    (monthly maintenance boosters from February); chair 2: another patient's course."""
    book = Book(CLINIC, (Chair("c1"), Chair("c2")))
    monday = dt.date(2026, 11, 30)
    book = book.take(book.offers("standard-10hz", monday, "09:00", count=1)[0], "c-1")
    book = book.take(book.offers("itbs", monday, "09:00", count=1)[0], "other")
    first = book.offers("maintenance", "2027-02-01", "09:00", follows="c-1", count=1)[0]
    return book.take(first, "m-1", follows="c-1"), NOW


def test_a_course_that_follows_never_overlaps_the_patient_s_courses() -> None:
    book, _ = acute_then_maintenance()
    assert book.course("m-1").relation == "maintenance" and book.linked("other") == ["other"]
    assert book.linked("m-1") == ["c-1", "m-1"] == book.linked("c-1")
    # Offers that follow start after every course of the patient.
    with pytest.raises(BookError, match="earliest: course m-1 runs until 2027-07-12; one"):
        book.offers("standard-10hz", "2027-03-01", "09:00", follows="c-1")
    # A rescue during the acute course is refused with the dates that clash.
    with pytest.raises(BookError, match="earliest: course c-1 runs until 2027-01-25"):
        book.offers("itbs", "2027-01-04", "09:00", follows="c-1", relation="rescue")
    offer = book.offers("itbs", "2027-01-04", "10:00", count=1)[0]  # asked without follows
    with pytest.raises(CourseError, match=r"overlap; one patient's courses never run at the"):
        book.take(offer, "r-0", follows="c-1", relation="rescue")
    window = window_of(book, ["c-1", "m-1"])
    with pytest.raises(CourseError, match=r"overlap"):
        window.take(offer, "r-0", follows="c-1", relation="rescue")


def test_a_rescue_supersedes_the_maintenance_it_interrupts_and_maintenance_resumes() -> None:
    book, now = acute_then_maintenance()
    boosters = book.course("m-1").schedule.active_sessions()
    assert len(boosters) == 11
    (rescue,) = book.offers(
        "itbs", "2027-04-05", "09:00", follows="m-1", relation="rescue", count=1
    )
    with pytest.raises(BookError, match="now: rescue course r-1 supersedes maintenance course m-1"):
        book.take(rescue, "r-1", follows="m-1", relation="rescue")
    for whole in (book, window_of(book, ["c-1", "m-1"])):
        rescued = whole.take(rescue, "r-1", follows="m-1", relation="rescue", now=now)
        m1 = rescued.course("m-1")
        assert m1.ended is not None and m1.ended.superseded_by == "r-1"
        first = rescued.course("r-1").schedule.first.start
        cancelled = [s for s in m1.schedule if s.status == "cancelled"]
        assert cancelled and all(s.start >= first for s in cancelled)
        assert all(dict(m1.revision.reasons)[s.number] for s in cancelled)
        assert "superseded by rescue course r-1" in dict(m1.revision.reasons)[cancelled[0].number]
        # The cancelled boosters hold no chair.
        assert all(s.number not in rescued.seats("m-1") for s in cancelled)
        assert rescued.check() == []
    # Maintenance resumes after the rescue, when asked: the boosters not given.
    resumed = rescued.resumed("r-1")
    assert resumed.total_sessions == len(cancelled)
    last = rescued.course("r-1").schedule.last.date
    with pytest.raises(BookError, match="earliest: course r-1 runs until"):
        rescued.offers(resumed, last, "09:00", follows="r-1")
    (again,) = rescued.offers(resumed, last + dt.timedelta(days=7), "09:00", follows="r-1", count=1)
    rescued = rescued.take(again, "m-2", follows="r-1")
    assert rescued.course("m-2").relation == "maintenance"
    assert rescued.linked("c-1") == ["c-1", "m-1", "r-1", "m-2"]
    assert rescued.check() == []


# -- accelerated blocks stay whole (issue 17, item 5) --------------------------------------------------


def snt_week(busy_second_chair: bool) -> Book:
    """SNT's five days from Monday 30 November on chair 1; on chair 2 an iTBS course at
    09:00 when ``busy_second_chair``."""
    book = Book(CLINIC, (Chair("c1"), Chair("c2")))
    book = book.add(Course.start(Plan("snt", CLINIC, "2026-11-30", "08:00", "s-1")), chair="c1")
    if busy_second_chair:
        itbs = Course.start(Plan("itbs", CLINIC, "2026-11-30", "09:00", "i-1"))
        book = book.add(itbs, chair="c2")
    return book


def test_a_chair_out_on_a_block_day_moves_the_day_to_another_chair_that_holds_it() -> None:
    book = snt_week(busy_second_chair=False)
    after, report = book.enter_closure("2026-12-02", chair="c1", reason="Coil", now=NOW)
    seats = after.seats("s-1")
    assert {seats[n] for n in range(21, 31)} == {"c2"}  # the whole day, on one chair
    assert after.course("s-1") == book.course("s-1")  # no day moved
    assert after.check() == [] and after.unseated() == []
    assert "Session 21 on Wed 2 Dec 2026 08:00: now on c2 (was c1)" in report.to_text()


def test_a_chair_out_on_a_block_day_no_chair_holds_leaves_the_day_for_the_front_desk() -> None:
    book = snt_week(busy_second_chair=True)
    for hours in (None, "12:00-13:00"):
        after, report = book.enter_closure(
            "2026-12-02", chair="c1", hours=hours, reason="Coil", now=NOW
        )
        s1 = after.course("s-1")
        assert s1 == book.course("s-1")  # the block keeps its five days
        assert [(c, s.number) for c, s in after.unseated()] == [("s-1", n) for n in range(21, 31)]
        assert after.check() == []
        assert (
            "Sessions 21 to 30 on Wed 2 Dec 2026: no chair that runs snt holds them; kept on"
            " their day without a chair, for the front desk to resolve" in report.to_text()
        )
        assert report.event.revisions == ()  # nothing re-planned
        # Taken back, the day has its chair again.
        undone, _ = after.undo(1, now=NOW)
        assert undone.unseated() == [] and undone.seats("s-1") == book.seats("s-1")
    # With the day's other chair free again later, the next change of the course seats it.
    freed = after.end("i-1", "moved away", now=NOW)
    assert freed.update(freed.course("s-1")).unseated() == []


def test_a_chair_out_moves_a_session_to_another_chair_later_that_day_not_a_month_on() -> None:
    """Chair c1 out for a day; c2, which runs the protocol too, is booked from 08:30 to
    09:10 (and five minutes to turn over): the nine o'clock session waits a quarter of an
    hour for c2, not a month."""
    book = Book(CLINIC, (Chair("c1"), Chair("c2")))
    book = book.add(
        Course.start(Plan("standard-10hz", CLINIC, "2026-11-30", "09:00", "a")), chair="c1"
    )
    other = Course.start(Plan("standard-10hz", CLINIC, "2026-11-30", "08:30", "b"))
    book = book.add(other, chair="c2")
    before = {s.number: s for s in book.course("a").schedule}
    after, report = book.enter_closure("2026-12-03", chair="c1", reason="Coil", now=NOW)
    moved = [
        s
        for s in after.course("a").schedule
        if (s.start, s.end) != (before[s.number].start, before[s.number].end)
    ]
    assert [(s.number, s.date.isoformat(), s.start.strftime("%H:%M")) for s in moved] == [
        (4, "2026-12-03", "09:15")
    ]
    assert after.seats("a")[4] == "c2"
    assert after.course("b") == book.course("b") and after.check() == []
    assert "Session 4" in report.to_text() and "09:15" in report.to_text()


def test_a_closure_on_a_block_day_asks_the_clinician_continue_or_restart() -> None:
    """A snow day on the SNT block's third day: the re-plan would break its five
    consecutive days, so the book says so, with the days and the two choices, and enters
    nothing; each choice is then entered with its warning in the course's revision."""
    book = snt_week(busy_second_chair=False)
    with pytest.raises(BlockBreakError, match="course s-1: the re-plan would break") as caught:
        book.enter_closure("2026-12-02", reason="Snow day", now=NOW)
    assert caught.value.field == "block" and caught.value.phase == "accelerated"
    assert "'continue'" in str(caught.value) and "'restart'" in str(caught.value)
    assert "2026-12-01, 2026-12-03" in str(caught.value)  # the days it would have
    assert book.events == ()

    def days(after: Book) -> list[str]:
        active = after.course("s-1").schedule.active_sessions()
        return sorted({s.date.isoformat() for s in active})

    went_on, _ = book.enter_closure("2026-12-02", reason="Snow day", now=NOW, block="continue")
    assert days(went_on) == ["2026-11-30", "2026-12-01", "2026-12-03", "2026-12-04", "2026-12-07"]
    (warning,) = [w for w in went_on.course("s-1").revision.warnings if "consecutive" in w]
    assert "continued on the next open days, as the clinician chose" in warning
    restarted, _ = book.enter_closure("2026-12-02", reason="Snow day", now=NOW, block="restart")
    assert days(restarted) == ["2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10", "2026-12-11"]
    (warning,) = [w for w in restarted.course("s-1").revision.warnings if "consecutive" in w]
    assert "restarted on consecutive days from 2026-12-07" in warning
    for after in (went_on, restarted):
        assert after.check() == [] and after.unseated() == []
        assert len(after.course("s-1").schedule.active_sessions()) == 50
        # Asked again, the re-plan changes nothing, and asks nothing.
        assert after.replan("s-1", NOW) is after
