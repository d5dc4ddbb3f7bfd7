"""The clinic's book: chairs shared by many courses, offers, re-plans and clinic-wide events."""

from __future__ import annotations

import datetime as dt
import itertools

import attrs
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tms_schedule import (
    ClinicCalendar,
    Course,
    CourseError,
    Daily,
    Plan,
    Protocol,
    get_protocol,
)
from tms_schedule.book import Book, Chair, Outage, StaffLimit
from tms_schedule.course import linked
from tms_schedule.course.authorization import Authorization
from tms_schedule.errors import (
    BookError,
    BookingConflictError,
    InvalidChairError,
    NoOfferError,
)

DENVER = ClinicCalendar("America/Denver", holidays="US-CO")
ZONE = DENVER.zone
NOW = dt.datetime(2026, 11, 13, 18, tzinfo=ZONE)  # a Friday evening, before the courses below


def chairs(n: int = 2, **kwargs: object) -> tuple[Chair, ...]:
    return tuple(Chair(f"c{i}", f"Chair {i}", **kwargs) for i in range(1, n + 1))  # type: ignore[arg-type]


def course(
    course_id: str, start: str = "2026-11-16", at: str = "09:00", protocol: str = "standard-10hz"
) -> Course:
    return Course.start(Plan(protocol, DENVER, start, at, course_id))


def at(day: str, time: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=ZONE)


def test_two_courses_at_the_same_time_take_two_chairs_and_a_third_is_refused() -> None:
    book = Book(DENVER, chairs(2)).add(course("c-1")).add(course("c-2"))
    assert {book.seats("c-1")[n] for n in range(1, 37)} == {"c1"}  # one chair all course
    assert {book.seats("c-2")[n] for n in range(1, 37)} == {"c2"}
    with pytest.raises(BookingConflictError, match="course c-3: no chair for 36 session") as caught:
        book.add(course("c-3"))
    assert caught.value.conflicts[0][0] == 1
    assert book.check() == []


def test_turnover_keeps_a_chair_free_between_patients() -> None:
    book = Book(DENVER, (Chair("c1", turnover=10),)).add(course("c-1", at="09:00"))
    # Session 1 runs 09:00-10:30; sessions 2 on run 09:00-09:40. 09:45 leaves 5 minutes.
    with pytest.raises(BookingConflictError):
        book.add(course("c-2", start="2026-11-17", at="09:45"))
    book = book.add(course("c-2", start="2026-11-17", at="09:50"))
    assert book.check() == []


def test_a_protocol_runs_only_on_a_chair_with_its_equipment() -> None:
    book = Book(DENVER, (Chair("fig", runs="figure-8"), Chair("deep", runs=("h1", "h7"))))
    book = book.add(course("ocd", protocol="deep-tms-h7-ocd")).add(course("mdd"))
    assert set(book.seats("ocd").values()) == {"deep"}
    assert set(book.seats("mdd").values()) == {"fig"}
    with pytest.raises(NoOfferError, match="no chair runs deep-tms-h4-smoking .*needs h4"):
        book.offers("deep-tms-h4-smoking", "2026-11-16", "09:00")


def test_offers_book_the_same_time_on_one_chair_when_they_can() -> None:
    book = Book(DENVER, chairs(2)).add(course("c-1"))
    (best, *_) = book.offers("standard-10hz", "2026-11-16", "09:00")
    assert best.tradeoffs == () and best.start == dt.date(2026, 11, 16)
    assert best.chairs() == ["c2"]
    assert best.describe(book.chair_names()).endswith(": as asked")
    taken = book.take(best, "c-2")
    assert taken.course("c-2").schedule.sessions == best.schedule.sessions or [
        (s.start, s.end) for s in taken.course("c-2").schedule
    ] == [(s.start, s.end) for s in best.schedule]
    assert taken.check() == []


def test_offers_say_what_they_trade_off_when_the_time_is_taken() -> None:
    # c-1 holds the only chair from 09:00: 90 minutes on day 1, 40 after, 5 to turn over.
    book = Book(DENVER, chairs(1)).add(course("c-1", at="09:00"))
    offers = book.offers("standard-10hz", "2026-11-16", "09:00", window=120)
    by_start = {offer.start: offer for offer in offers}
    same_day = by_start[dt.date(2026, 11, 16)]  # the earliest start is always offered
    assert same_day.tradeoffs in (
        ("at 10:40 instead of 09:00",),
        ("at 09:50 instead of 09:00", "the time differs on 1 day (by up to 50 minutes)"),
    )
    day_one, *rest = same_day.schedule.sessions
    assert day_one.start.time() >= dt.time(10, 35)
    assert all(s.start.time() >= dt.time(9, 45) for s in rest)
    # Starting a day later avoids c-1's long first session: one time every day.
    later = by_start[dt.date(2026, 11, 17)]
    assert later.tradeoffs == (
        "starts Tue 17 Nov 2026, 1 day after the earliest date",
        "at 09:50 instead of 09:00",
    )
    assert [o.cost for o in offers] == sorted(o.cost for o in offers)


def test_offers_are_deterministic_and_taking_a_stale_offer_fails_cleanly() -> None:
    book = Book(DENVER, chairs(1))
    first = book.offers("itbs", "2026-11-16", "09:00")
    assert first == book.offers("itbs", "2026-11-16", "09:00")
    taken = book.take(first[0], "c-1")
    with pytest.raises(BookingConflictError, match=f"offer {first[0].key}: the book changed"):
        taken.take(first[0], "c-2")


def test_no_offer_names_the_first_dates_that_could_hold_it() -> None:
    book = Book(DENVER, chairs(1)).add(
        course("snt-1", start="2026-11-30", at="08:00", protocol="snt")
    )
    with pytest.raises(NoOfferError) as caught:
        book.offers("snt", "2026-11-30", "08:00", dates=1)
    assert caught.value.next_dates[0] == dt.date(2026, 12, 7)


def test_an_accelerated_course_asked_at_a_time_too_late_for_its_day_gets_the_window_s_latest() -> (
    None
):
    """Ten SNT sessions an hour apart from 09:00 end at 18:10, after closing: 09:00 give or
    take 60 minutes still holds them from 08:50, and that is offered (not refused)."""
    book = Book(DENVER, chairs(2)).add(course("c-1", start="2026-11-30"))
    (best, *_) = book.offers("snt", "2026-11-30", "09:00")
    assert best.start == dt.date(2026, 11, 30) and best.at == dt.time(8, 50)
    assert best.tradeoffs == ("at 08:50 instead of 09:00",)
    assert best.chairs() == ["c2"]
    assert {s.start.time() for s in best.schedule if s.number % 10 == 1} == {dt.time(8, 50)}
    assert book.take(best, "snt-1").check() == []
    # Without a time in the window that holds the day, the refusal says what fits.
    with pytest.raises(
        NoOfferError, match=r"snt at 10:00 give or take 30 minutes: .*fits is 08:50"
    ):
        book.offers("snt", "2026-11-30", "10:00", window=30, dates=2)


def test_an_offer_starts_on_its_first_session_s_day_and_is_offered_once() -> None:
    """A maintenance cluster needs two open days in a row: asked for on a Friday, the
    course starts on Monday, says so, and counts its clusters from there."""
    book = Book(DENVER, chairs(1))
    offers = book.offers("cluster-maintenance", "2026-12-04", "09:00", window=0, count=3)
    assert [o.start for o in offers] == [
        dt.date(2026, 12, 7),
        dt.date(2026, 12, 8),
        dt.date(2026, 12, 9),
    ]
    assert len({o.key for o in offers}) == 3
    first = offers[0]
    assert first.tradeoffs == ("starts Mon 7 Dec 2026, 3 days after the earliest date",)
    assert first.plan.start == first.schedule.first.date == dt.date(2026, 12, 7)
    clusters = sorted({s.date for s in first.schedule if s.phase_number % 5 == 1})
    assert clusters[1] - clusters[0] == dt.timedelta(weeks=4)
    room = book.room_for("cluster-maintenance", "2026-12-04", "09:00", "10:00")
    assert room.to_text().endswith("(its first session would fall on Mon 7 Dec 2026).\n")


def test_an_offer_made_before_a_closure_is_refused_as_stale_when_taken() -> None:
    book = Book(DENVER, chairs(1))
    (offer,) = book.offers("itbs", "2026-12-07", "16:00", count=1)
    closed, _ = book.enter_closure(dt.date(2026, 12, 8), reason="Snow day", now=NOW)
    with pytest.raises(BookingConflictError, match=f"offer {offer.key}: the clinic's calendar"):
        closed.take(offer, "c-1")


def test_a_snow_day_replans_every_course_it_touches_and_undo_puts_them_back() -> None:
    book = Book(DENVER, chairs(3))
    for i, time in enumerate(("09:00", "10:00", "11:00")):
        book = book.add(course(f"c-{i}", at=time))
    before = {cid: book.course(cid).schedule.sessions for cid in book.course_ids()}
    closed, report = book.enter_closure(dt.date(2026, 12, 1), reason="Snow day", now=NOW)
    assert [entry.course_id for entry in report.courses] == ["c-0", "c-1", "c-2"]
    text = report.to_text()
    assert text.startswith("Snow day: 2026-12-01, every chair\nCourse c-0:\n")
    assert (
        "Session 11 moved from Tue 1 Dec 2026 09:00" in text and "(Snow day: clinic closed)" in text
    )
    assert closed.check() == []
    for cid in closed.course_ids():
        was = {s.number: (s.start, s.end) for s in before[cid]}
        moved = [
            s.number for s in closed.course(cid).schedule if was.get(s.number) != (s.start, s.end)
        ]
        assert min(moved) == 11  # nothing before the closure moves
    reopened, undone = closed.undo(1, now=NOW)
    assert reopened.events[0].undone
    assert len(undone.courses) == 3
    for cid in reopened.course_ids():
        assert [(s.start, s.end) for s in reopened.course(cid).schedule if s.active] == [
            (s.start, s.end) for s in before[cid]
        ]
    assert reopened.check() == []
    with pytest.raises(BookError, match="event 1 .* is undone already"):
        reopened.undo(1, now=NOW)


def test_a_broken_chair_moves_its_sessions_to_another_chair_at_the_same_time() -> None:
    book = Book(DENVER, chairs(2)).add(course("c-1"))
    assert book.seats("c-1")[5] == "c1"
    broken, report = book.enter_closure(
        dt.date(2026, 11, 23), dt.date(2026, 11, 27), reason="Coil repair", chair="c1", now=NOW
    )
    seats = broken.seats("c-1")
    assert [seats[n] for n in range(6, 10)] == ["c2"] * 4
    assert broken.course("c-1") == book.course("c-1")  # no time changed
    assert "Session 6 on Mon 23 Nov 2026 09:00: now on Chair 2 (was Chair 1)" in report.to_text()
    assert broken.check() == []


def test_an_outage_for_some_hours_moves_only_the_sessions_in_them() -> None:
    book = Book(DENVER, chairs(1)).add(course("c-1", at="09:00")).add(course("c-2", at="14:00"))
    after, report = book.enter_closure(
        dt.date(2026, 11, 24), reason="Staff meeting", hours="13:00-15:00", now=NOW
    )
    assert [entry.course_id for entry in report.courses] == ["c-2"]
    assert after.course("c-1") == book.course("c-1")
    assert after.check() == []


def test_a_staff_limit_caps_sessions_at_once() -> None:
    book = Book(DENVER, chairs(3), limits=(StaffLimit(2, "08:00-12:00"),))
    book = book.add(course("c-1")).add(course("c-2"))
    with pytest.raises(BookingConflictError, match="limit of sessions at once"):
        book.add(course("c-3"))
    book = book.add(course("c-3", at="12:00"))  # outside the limit's hours
    assert book.check() == []


def test_replans_in_the_book_put_make_ups_only_where_a_chair_is_free() -> None:
    visit = Protocol(id="visit", name="One visit", phases=(Daily(1),), session=40, first_session=40)
    one_visit = Course.start(Plan(visit, DENVER, "2026-12-30", "09:00", "v-1"))
    book = Book(DENVER, chairs(1)).add(course("c-1")).add(one_visit)
    c1 = book.course("c-1").missed(2, "patient", now=at("2026-11-17", "18:00"))
    book = book.update(c1).replan("c-1", at("2026-11-17", "18:00"))
    (added,) = [s for s in book.course("c-1").schedule if s.number == 37]
    # The acute phase ends on Tue 29 Dec; v-1 holds the chair on Wed 30 Dec at 09:00: the
    # make-up takes the nearest time of that day the chair holds (its 40 minutes and five
    # to turn over before v-1), not the next day.
    assert added.start == at("2026-12-30", "08:15")
    assert book.check() == []
    # Without the book the make-up would have gone on the 30th.
    alone = c1.replan(at("2026-11-17", "18:00"))
    assert [s.start for s in alone.schedule if s.number == 37] == [at("2026-12-30", "09:00")]


def test_bad_chairs_and_books_are_refused_with_the_field() -> None:
    with pytest.raises(InvalidChairError, match="chair id"):
        Chair("chair one")
    with pytest.raises(InvalidChairError, match="runs: must be equipment tags"):
        Chair("c1", runs=("Figure 8",))
    with pytest.raises(InvalidChairError, match="given twice: c1"):
        Book(DENVER, (Chair("c1"), Chair("c1")))
    with pytest.raises(InvalidChairError, match="at least one Chair"):
        Book(DENVER, ())
    with pytest.raises(InvalidChairError, match="end: must be after start"):
        Outage(at("2026-11-16", "10:00"), at("2026-11-16", "09:00"))
    book = Book(DENVER, chairs(1)).add(course("c-1"))
    with pytest.raises(BookError, match="course c-1 is in the book already"):
        book.add(course("c-1"))
    with pytest.raises(BookError, match="no course 'c-9' in the book; courses: c-1"):
        book.course("c-9")
    with pytest.raises(BookError, match="window: must be a whole number from 0 to 240"):
        book.offers("itbs", "2026-11-16", "09:00", window=500)
    assert get_protocol("deep-tms-h1").requires == frozenset({"h1"})
    assert attrs.evolve(book.chairs[0], label="Room A").name == "Room A"


# -- the same closure twice, days gone by (issue 17, items 8 and 10) ----------------------------------


def test_the_same_closure_twice_is_refused_naming_the_one_entered() -> None:
    book = Book(DENVER, chairs(2)).add(course("c-1")).add(course("c-2", at="10:00"))
    closed, _ = book.enter_closure("2026-12-10", reason="Snow day", now=NOW)
    for again in (
        {"first": "2026-12-10"},
        {"first": "2026-12-09", "last": "2026-12-11"},  # a longer one over it
    ):
        with pytest.raises(BookError, match=r"overlaps event 1 \(Snow day: 2026-12-10, every"):
            closed.enter_closure(reason="Snow day", now=NOW, **again)  # type: ignore[arg-type]
    # Another day, a chair's days or some hours are another event.
    closed, _ = closed.enter_closure("2026-12-11", reason="Snow day", now=NOW)
    closed, _ = closed.enter_closure("2026-12-14", chair="c1", reason="Coil", now=NOW)
    with pytest.raises(BookError, match=r"overlaps event 3 \(Coil: 2026-12-14, chair c1\)"):
        closed.enter_closure("2026-12-14", chair="c1", reason="Coil", now=NOW)
    closed, _ = closed.enter_closure("2026-12-14", chair="c2", reason="Coil", now=NOW)
    closed, _ = closed.enter_closure("2026-12-15", hours="12:00-13:00", reason="Staff", now=NOW)
    with pytest.raises(BookError, match="overlaps event 5"):
        closed.enter_closure("2026-12-15", chair="c2", hours="12:30-14:00", reason="x", now=NOW)
    closed, _ = closed.enter_closure("2026-12-15", hours="13:00-14:00", reason="Staff", now=NOW)
    assert closed.check() == []
    # Taken back, it can be entered again.
    reopened, _ = closed.undo(6, now=NOW)
    assert reopened.enter_closure("2026-12-15", hours="13:00-14:00", reason="Staff", now=NOW)


def test_a_closure_over_sessions_recorded_attended_is_refused_unless_forced() -> None:
    now = at("2026-11-18", "18:00")
    c1 = course("c-1").attended(1, now=now).attended(2, now=now).attended(3, now=now)
    book = Book(DENVER, chairs(1)).add(c1).add(course("c-2", at="11:00"))
    with pytest.raises(
        BookError,
        match=r"first: Snow day: 2026-11-17, every chair covers sessions recorded attended"
        r" \(course c-1 session 2\).*enter it anyway with force",
    ):
        book.enter_closure("2026-11-17", reason="Snow day", now=now)
    with pytest.raises(BookError, match=r"\(course c-1 session 3\)"):
        book.enter_closure("2026-11-18", chair="c1", hours="08:00-10:00", reason="x", now=now)
    closed, report = book.enter_closure("2026-11-17", reason="Snow day", now=now, force=True)
    assert closed.course("c-1").records == c1.records
    # c-2's session that day was not recorded: closed, it could not have happened.
    assert [e.course_id for e in report.courses] == ["c-2"]
    assert closed.check() == []


# -- whole-course actions (issue 17, item 11) ----------------------------------------------------------


def test_a_course_ended_early_frees_its_chairs() -> None:
    book = Book(DENVER, chairs(1)).add(course("c-1"))
    now = at("2026-12-01", "18:00")
    ended = book.end("c-1", "moved away", now=now)
    c1 = ended.course("c-1")
    assert c1.ended is not None and c1.ended.reason == "moved away"
    gone = [s.number for s in c1.schedule if s.status == "cancelled"]
    assert gone == list(range(12, 37)) and not set(gone) & set(ended.seats("c-1"))
    # The chair is free at 09:00 from the next day: a new course is offered it as asked.
    (offer,) = ended.offers("standard-10hz", "2026-12-02", "09:00", count=1, now=now)
    assert offer.tradeoffs == () and ended.take(offer, "c-2").check() == []
    with pytest.raises(CourseError, match="ended already"):
        ended.end("c-1", "again", now=now)


def test_a_course_s_authorization_is_set_and_checked_in_the_book() -> None:
    book = Book(DENVER, chairs(1)).add(course("c-1"))
    authorization = Authorization(30, dt.date(2026, 11, 16), dt.date(2026, 12, 31))
    book = book.authorize("c-1", authorization)
    report = book.course("c-1").check_authorization()
    assert not report.ok and len(report.beyond_count) == 6
    book = book.extend_authorization("c-1", 6, dt.date(2027, 1, 31))
    assert book.course("c-1").check_authorization().ok
    assert book.seats("c-1") == Book(DENVER, chairs(1)).add(course("c-1")).seats("c-1")


def test_a_new_regular_time_from_a_date_on_goes_where_chairs_are_free() -> None:
    """From Monday 7 December, 17:00 instead of 09:00: the sessions before keep their
    time; from then on each is at 17:00 where a chair is free, the chairs of the old times
    free again, and the move is in the course's records."""
    book = Book(DENVER, chairs(2)).add(course("c-1")).add(course("late", at="16:30"))
    now = at("2026-12-04", "12:00")
    (offer,) = book.move_offers("c-1", "2026-12-07", "17:00", now=now, count=1)
    # Its own chair first: c1 holds 17:00 (late), so c2, and the offer says so.
    assert offer.tradeoffs == ("not on c1",) and offer.chairs() == ["c2"]
    assert offer.describe(book.chair_names()).startswith("from Mon 7 Dec 2026 at 17:00 on Chair 2")
    moved = book.move("c-1", offer, now=now)
    c1 = moved.course("c-1")
    times = {s.number: s.start.astimezone(ZONE).time() for s in c1.schedule}
    assert {times[n] for n in range(1, 15)} == {dt.time(9)}
    assert {times[n] for n in range(15, 37)} == {dt.time(17)}
    assert {r.kind for r in c1.records} == {"moved"} and len(c1.records) == 22
    assert c1.records[0].note == "regular time from 2026-12-07: 17:00"
    assert moved.check() == []
    # 09:00 is free again from Monday on.
    (nine,) = moved.offers("itbs", "2026-12-07", "09:00", count=1, chair="c1", now=now)
    assert nine.tradeoffs == ()
    assert moved.move("c-1", offer, now=now).course("c-1") == c1  # again: nothing new
    # Chair 2 taken at 17:00 on one of the days since: the offer is stale.
    taken = book.add(course("x", "2026-12-08", "16:30", "itbs"), chair="c2")
    with pytest.raises(BookingConflictError, match=f"offer {offer.key}: the book changed"):
        taken.move("c-1", offer, now=now)
    # Nowhere at that time: the first day no chair holds, in words.
    full = book.add(course("late-2", "2026-12-07", "16:20", "itbs"), chair="c2")
    with pytest.raises(NoOfferError, match="no chair that runs standard-10hz is free on Mon 7"):
        full.move_offers("c-1", "2026-12-07", "16:30", now=now)


# -- closures and undos in any order (issue 17, item 8) -----------------------------------------------


_EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["close", "close", "chair", "hours", "undo", "undo"]),
        st.integers(0, 60),
        st.integers(0, 1),
        st.integers(0, 30),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_EVENTS)
# Found by Hypothesis in CI, and there since before the store's window work: two undos after
# three closures on neighbouring days, the first undo later than the second, put a session
# in a third place. Kept here, known to fail, until undo is mended; it turns red then.
@example(
    steps=[
        ("close", 0, 0, 0),
        ("close", 2, 0, 0),
        ("close", 1, 0, 0),
        ("undo", 44, 0, 4),
        ("undo", 1, 0, 0),
    ]
).xfail(raises=AssertionError, reason="an undo can still put a session in a third place")
def test_closures_and_undos_in_any_order_keep_each_course_s_phases_in_order_and_count(
    steps: list[tuple[str, int, int, int]],
) -> None:
    """Random closures (of the clinic, a chair, some hours) and undos, in any order the
    book accepts: every course keeps its count and its phases in order, and an undo puts
    each session back where it was before the event or leaves it where it is (never a
    third place: a taper session after the course's last, a continuation past its end)."""
    book = Book(DENVER, (Chair("c1"), Chair("c2"), Chair("deep", runs=("h1",))))
    for course_id, protocol, time in (
        ("c-1", "standard-10hz", "09:00"),
        ("d-1", "deep-tms-h1", "10:00"),
        ("c-2", "standard-10hz", "09:00"),
    ):
        book = book.add(course(course_id, "2026-11-30", time, protocol))
    now = at("2026-11-27", "12:00")
    before_event: dict[int, Book] = {}
    for kind, day, length, later in steps:
        when = now + dt.timedelta(days=later)
        try:
            if kind == "undo":
                live = [e.number for e in book.events if not e.undone]
                if not live:
                    continue
                number = live[day % len(live)]
                after, _ = book.undo(number, now=when)
                for booked in after.courses:
                    was = book.course(booked.course_id).schedule.sessions
                    then = before_event[number].course(booked.course_id).schedule.sessions
                    places = {s.number: {(s.start, s.end)} for s in was if s.active}
                    for s in then:
                        if s.active and s.number in places:
                            places[s.number].add((s.start, s.end))
                    for s in booked.course.schedule.active_sessions():
                        assert s.number not in places or (s.start, s.end) in places[s.number]
                book = after
            else:
                first = dt.date(2026, 11, 30) + dt.timedelta(days=day)
                last = first + dt.timedelta(days=length)
                options = {"chair": "c1"} if kind == "chair" else {}
                options |= {"hours": "08:00-12:00"} if kind == "hours" else {}
                after, _ = book.enter_closure(first, last, reason="Snow", now=when, **options)
                before_event[len(after.events)] = book
                book = after
        except (BookError, BookingConflictError, CourseError):
            continue  # refused as a whole: the book is as it was
        assert book.check() == []
        for booked in book.courses:
            active = booked.course.schedule.active_sessions()
            order = [p.name for p in booked.course.plan.protocol.phases]
            phases = [order.index(s.phase) for s in sorted(active, key=lambda s: s.start)]
            assert phases == sorted(phases)
            assert len(active) == booked.course.plan.protocol.total_sessions


# -- a clinic's weeks: the book never scrambles a course (issue 17, "How it is checked") ---------------


_WEEKS = st.lists(
    st.tuples(
        st.sampled_from(["close", "chair", "hours", "miss", "miss", "undo"]),
        st.integers(0, 80),  # a day from 30 November, or which session, course or event
        st.integers(0, 2),  # how many days more
        st.sampled_from([None, "continue", "restart"]),  # the clinician's choice for a block
    ),
    min_size=1,
    max_size=8,
)


def _attended_until(book: Book, now: dt.datetime, but: tuple[str, int]) -> Book:
    """Every session that ended by ``now`` recorded attended, as a clinic records its days
    (but the one ``but`` names)."""
    for booked in book.courses:
        course = booked.course
        for s in course.schedule:
            if s.status == "scheduled" and s.end <= now and (course.course_id, s.number) != but:
                course = course.attended(s.number, now=now)
        if course is not booked.course:
            book = book.update(course)
    return book


def _blocks_whole_or_decided(course: Course) -> bool:
    """An accelerated block's days follow one another, or a revision records the choice."""
    days = sorted({s.date for s in course.schedule if s.phase == "accelerated" and s.active})
    whole = all((b - a).days == 1 for a, b in itertools.pairwise(days))
    return whole or any("as the clinician chose" in w for r in course.revisions for w in r.warnings)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_WEEKS)
# Undoing a closure once let a course come back longer than it was (a session it could not
# have again, under an outage or missed since, made up at its end), into its maintenance.
@example(steps=[("close", 0, 0, None), ("hours", 0, 0, None), ("undo", 0, 0, None)])
@example(steps=[("close", 1, 0, None), ("miss", 0, 0, None), ("undo", 0, 0, None)])
def test_closures_outages_misses_and_undos_never_scramble_a_patient_s_courses(
    steps: list[tuple[str, int, int, str | None]],
) -> None:
    """Patients with linked courses (a course and the maintenance that follows it), an SNT
    block and Deep TMS, through random closures, chair and hours outages, misses and undos
    in any order the book accepts: one patient's courses never overlap, a block is never
    split without a recorded choice, every course keeps its count and its phases in order,
    the book's rules hold, and re-running a re-plan changes nothing."""
    book = Book(DENVER, (Chair("c1"), Chair("c2"), Chair("deep", runs=("h1",))))
    first = course("a-1", "2026-11-30", "09:00")
    book = book.add(first)
    book = book.add(first.next_course("maintenance", "a-2", relation="maintenance"))
    book = book.add(course("s-1", "2026-12-07", "08:00", "snt"))
    book = book.add(course("d-1", "2026-11-30", "10:00", "deep-tms-h1"))
    when = at("2026-11-27", "12:00")
    for kind, pick, length, block in steps:
        try:
            if kind == "undo":
                live = [e.number for e in book.events if not e.undone]
                if not live:
                    continue
                book, _ = book.undo(live[pick % len(live)], now=when)
            elif kind == "miss":  # one of the next sessions; those before it attended
                course_id = ("a-1", "s-1", "d-1")[pick % 3]
                to_come = [s for s in book.course(course_id).schedule if s.status == "scheduled"]
                if not to_come:
                    continue
                session = to_come[min(pick % 4, len(to_come) - 1)]
                when = max(when, session.end)
                book = _attended_until(book, when, but=(course_id, session.number))
                missed = book.course(course_id).missed(session.number, "patient", now=when)
                book = book.update(missed).replan(course_id, when, block=block)
            else:
                day = dt.date(2026, 11, 30) + dt.timedelta(days=pick)
                options = {"chair": "c1"} if kind == "chair" else {}
                options |= {"hours": "08:00-12:00"} if kind == "hours" else {}
                book, _ = book.enter_closure(
                    day,
                    day + dt.timedelta(days=length),
                    reason="Snow",
                    now=when,
                    block=block,
                    **options,
                )
        except (BookError, BookingConflictError, CourseError):
            continue  # refused as a whole (a block with no choice made, say): as it was
        assert book.check() == []
        for booked in book.courses:
            c = booked.course
            active = c.schedule.active_sessions()
            assert len(active) == c.plan.protocol.total_sessions, f"{c.course_id}: count"
            order = [p.name for p in c.plan.protocol.phases]
            phases = [order.index(s.phase) for s in active]
            assert phases == sorted(phases), f"{c.course_id}: phases out of order"
            assert _blocks_whole_or_decided(c), f"{c.course_id}: a block split undecided"
            assert book.replan(c.course_id, when) is book, f"{c.course_id}: re-run changed"
        linked.check_apart(book.course(i).schedule for i in book.linked("a-1"))


def test_a_window_s_chair_time_of_others_is_checked_each_time_a_book_is_made_of_it() -> None:
    from tms_schedule.book.book import Booked
    from tms_schedule.book.occupancy import Booking

    day = dt.date(2026, 11, 30)
    held = Booking("c1", 29_920_000, 29_920_040, "o-1", 1)
    others = ((day, held),)
    window = Book(DENVER, (Chair("c1"), Chair("c2")), others=others)
    assert window.add(course("a-1", "2026-11-30", "09:00")).others is others
    # A book made again of the same chair time (as each change does) refuses what the
    # first refused: a course held in full whose chair time is counted as another's too.
    with pytest.raises(BookError, match="others: course o-1 is held in full"):
        attrs.evolve(window, courses=(Booked(course("o-1", "2026-11-30", "11:00")),))
    for bad in ((day, ("c1", 1, 2, "o-2", 1)), (day,), (day, held._replace(chair="c9"))):
        with pytest.raises(BookError, match=r"others: must be \(date, Booking\) pairs on the"):
            Book(DENVER, (Chair("c1"), Chair("c2")), others=(*others, bad))
    with pytest.raises(BookError, match=r"others: must be \(date, Booking\) pairs .*\(c1\)"):
        attrs.evolve(window, chairs=(Chair("c1"),), others=((day, held._replace(chair="c2")),))
