"""Offers for a new course: named strategies ranked by one cost model, never in the past;
and, as properties over random clinics and days at the front desk, offers asked twice are
the same, a taken offer books what it offered, and the book never breaks its rules."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tms_schedule import ClinicCalendar, Closure, Course, CourseError, Plan
from tms_schedule.book import Book, Chair, StaffLimit
from tms_schedule.book.offers import COSTS, STRATEGIES, CostModel
from tms_schedule.errors import BookError, BookingConflictError, NoOfferError

DENVER = ClinicCalendar("America/Denver", holidays="US-CO")
ZONE = DENVER.zone
MONDAY = dt.date(2026, 11, 30)


def at(day: dt.date, time: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(time), tzinfo=ZONE)


def test_the_strategies_are_named_and_the_last_resort_comes_last() -> None:
    assert [s.name for s in STRATEGIES] == [
        "one time, one chair",
        "one time, chairs change",
        "one chair, times change",
        "both change",
    ]
    assert [s.last_resort for s in STRATEGIES] == [False, False, False, True]


def test_one_cost_model_prices_every_trade_off() -> None:
    """Ten minutes off the time asked for cost 1; the rest is priced in that unit."""
    assert CostModel(3.0, 1.0, 1.5, 1.0, 2.0) == COSTS
    assert COSTS.minutes_off(-30) == 3.0
    assert COSTS.day_at(0) == 0.0 and COSTS.day_at(20) == 3.5
    book = Book(DENVER, (Chair("c1"), Chair("c2")))
    book = book.add(Course.start(Plan("itbs", DENVER, MONDAY, "09:00", "c-1")), chair="c1")
    book = book.add(Course.start(Plan("itbs", DENVER, MONDAY, "09:00", "c-2")), chair="c2")
    (offer,) = book.offers("itbs", MONDAY, "09:00", window=60, count=1)
    # Both chairs hold 09:00 every day (an hour on Monday, the first visit's): a day later
    # and 20 minutes on (3 + 2) beats Monday at 10:05 (6.5).
    assert offer.tradeoffs == (
        "starts Tue 1 Dec 2026, 1 day after the earliest date",
        "at 09:20 instead of 09:00",
    )
    assert offer.cost == COSTS.day_later + COSTS.minutes_off(20) == 5.0


def test_an_earliest_date_in_the_past_is_refused_a_wrong_year_most_often() -> None:
    book = Book(DENVER, (Chair("c1"),))
    now = at(MONDAY, "08:00")
    with pytest.raises(BookError, match=r"earliest: 2025-11-30 is before today \(2026-11-30\)"):
        book.offers("itbs", "2025-11-30", "09:00", now=now)
    with pytest.raises(BookError, match="now: must be a date and time with its time zone"):
        book.offers("itbs", MONDAY, "09:00", now=dt.datetime(2026, 11, 30, 8))
    assert book.offers("itbs", "2025-11-30", "09:00", count=1)  # without now: as asked


def test_today_at_a_time_already_passed_is_not_offered_as_asked() -> None:
    book = Book(DENVER, (Chair("c1"),))
    before, after = at(MONDAY, "08:00"), at(MONDAY, "09:05")
    (asked,) = book.offers("itbs", MONDAY, "09:00", now=before, count=1)
    assert asked.tradeoffs == () and asked.start == MONDAY
    offers = book.offers("itbs", MONDAY, "09:00", now=after, count=3)
    assert all(o.tradeoffs for o in offers)
    assert all(s.start >= after for o in offers for s in o.schedule)
    today = [o for o in offers if o.start == MONDAY]
    assert today and today[0].tradeoffs[0] == "at 09:10 instead of 09:00"
    # With no time left in the window today, the course starts tomorrow.
    late = at(MONDAY, "10:30")
    assert {o.start for o in book.offers("itbs", MONDAY, "09:00", now=late)} >= {
        MONDAY + dt.timedelta(days=1)
    }
    with pytest.raises(NoOfferError):
        book.offers("itbs", MONDAY, "09:00", now=late, dates=1)


# -- properties ------------------------------------------------------------------------------------

_PROTOCOLS = ("standard-10hz", "itbs", "snt", "cluster-maintenance", "1hz-right")
_TIMES = ("07:30", "09:00", "12:10", "16:40")


@st.composite
def busy_books(draw: st.DrawFn) -> Book:
    """One to three chairs and a few courses booked by offers."""
    chairs = tuple(Chair(f"c{i}") for i in range(1, draw(st.integers(1, 3)) + 1))
    book = Book(DENVER, chairs)
    for n in range(draw(st.integers(0, 4))):
        protocol = draw(st.sampled_from(_PROTOCOLS))
        day = MONDAY + dt.timedelta(days=draw(st.integers(0, 9)))
        try:
            offer = book.offers(protocol, day, draw(st.sampled_from(_TIMES)), count=1)[0]
        except NoOfferError:
            continue
        book = book.take(offer, f"b-{n}")
    return book


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    busy_books(),
    st.sampled_from(_PROTOCOLS),
    st.integers(0, 6),
    st.sampled_from(_TIMES),
    st.sampled_from([0, 30, 60]),
    st.integers(0, 11 * 60),
)
def test_offers_are_ranked_by_cost_never_past_and_as_asked_only_when_they_are(
    book: Book, protocol: str, days: int, time: str, window: int, minutes: int
) -> None:
    """Every offer fits the book, none starts before now, they come cheapest first, the
    same question gives the same offers, and an offer that trades nothing off starts on the
    earliest date at the time asked for, on one chair, every day."""
    earliest = MONDAY + dt.timedelta(days=days)
    now = at(earliest, "07:00") + dt.timedelta(minutes=minutes)
    try:
        offers = book.offers(protocol, earliest, time, window=window, now=now)
    except NoOfferError:
        return
    assert offers == book.offers(protocol, earliest, time, window=window, now=now)
    assert [o.cost for o in offers] == sorted(o.cost for o in offers)
    assert book.take(offers[-1], "new").check() == []
    for offer in offers:
        assert offer.schedule.first.start >= now
        assert (offer.cost == 0) == (offer.tradeoffs == ())
        if offer.tradeoffs == ():
            assert offer.start == earliest and len(offer.chairs()) == 1
            asked = Plan(offer.plan.protocol, DENVER, offer.start, time, "offer").expand()
            assert [(s.start, s.end) for s in offer.schedule] == [(s.start, s.end) for s in asked]


# -- properties over random clinics and random days at the front desk --------------------------

_TAGS = st.sampled_from([("figure-8",), ("figure-8", "h1"), ("h1", "h7"), ("figure-8", "h7")])
_PROTOCOLS = ("standard-10hz", "itbs", "dash-10hz", "deep-tms-h1", "snt", "maintenance")


@st.composite
def clinics(draw: st.DrawFn) -> Book:
    count = draw(st.integers(1, 4))
    made = []
    for i in range(count):
        service = draw(st.lists(st.integers(0, 60), max_size=2))
        made.append(
            Chair(
                f"c{i}",
                runs=draw(_TAGS),
                turnover=draw(st.sampled_from([0, 5, 15])),
                closures=tuple(
                    Closure(dt.date(2026, 11, 16) + dt.timedelta(days=d), reason="Service")
                    for d in service
                ),
            )
        )
    limits = (StaffLimit(draw(st.integers(1, 3)), "08:00-12:00"),) if draw(st.booleans()) else ()
    return Book(DENVER, tuple(made), limits)


_STEPS = st.lists(
    st.tuples(
        st.sampled_from(["offer", "offer", "offer", "record", "replan", "close", "undo"]),
        st.integers(0, 10_000),
        st.sampled_from(["07:40", "09:00", "12:00", "16:20"]),
    ),
    min_size=4,
    max_size=16,
)


@settings(
    max_examples=max(40, settings.default.max_examples)
    if settings.default.max_examples > 100
    else 40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(clinics(), _STEPS)
def test_the_book_never_breaks_its_rules(book: Book, steps: list[tuple[str, int, str]]) -> None:
    """Whatever the front desk does: never two sessions on one chair at once, never a chair
    that cannot run the session or is out, offers are the same asked twice, a taken offer
    is what was offered, and a re-planned course keeps its count."""
    now = dt.datetime(2026, 11, 16, 7, tzinfo=ZONE)
    for n, (kind, pick, time) in enumerate(steps):
        now += dt.timedelta(days=pick % 4)
        try:
            if kind == "offer":
                protocol = _PROTOCOLS[pick % len(_PROTOCOLS)]
                earliest = now.date() + dt.timedelta(days=pick % 9)
                offers = book.offers(protocol, earliest, time, count=2)
                assert offers == book.offers(protocol, earliest, time, count=2)
                offer = offers[pick % len(offers)]
                book = book.take(offer, f"p-{n}")
                taken = book.course(f"p-{n}")
                assert [(s.start, s.end) for s in taken.schedule] == [
                    (s.start, s.end) for s in offer.schedule
                ]
                assert book.seats(f"p-{n}") == dict(offer.seats)
            elif kind == "record" and book.courses:
                booked = book.courses[pick % len(book.courses)]
                past = [s for s in booked.course.remaining() if s.start <= now]
                if past:
                    session = past[pick % len(past)]
                    course = (
                        booked.course.missed(session.number, "patient", now=now)
                        if pick % 2
                        else booked.course.attended(session.number, now=now)
                    )
                    book = book.update(course)
            elif kind == "replan" and book.courses:
                booked = book.courses[pick % len(book.courses)]
                book = book.replan(booked.course_id, now)
                course = book.course(booked.course_id)
                target = course.plan.protocol.total_sessions
                assert len(course.schedule.active_sessions()) == target
            elif kind == "close":
                day = now.date() + dt.timedelta(days=pick % 20)
                chair = book.chairs[pick % len(book.chairs)].id if pick % 3 == 1 else None
                hours = "12:00-15:00" if pick % 3 == 2 else None
                book, _ = book.enter_closure(
                    day, reason="Closed", chair=chair, hours=hours, now=now
                )
            elif kind == "undo":
                live = [e.number for e in book.events if not e.undone]
                if live:
                    book, _ = book.undo(live[pick % len(live)], now=now)
        except (NoOfferError, BookingConflictError, CourseError, BookError):
            pass  # refused as a whole: the book is as it was
        assert book.check() == [], (kind, book.check()[:3])
