"""The re-plan's rules, as properties (``course.replan``'s module and the design's "Minimal
change"): each phase gets its count back, nothing is booked before the re-plan's moment or
on a closed day, a session moves only when it must, records never change, the same re-plan
twice changes nothing, and a closure and a clinic-caused miss of the same day give the same
times."""

from __future__ import annotations

import datetime as dt
import itertools

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from course_steps import run_steps, steps
from strategies import clinics, plans, start_dates
from tms_schedule import ClinicCalendar, Closure, Course, CourseError, Plan, TmsScheduleError
from tms_schedule._time import add_elapsed, resolve_wall_time
from tms_schedule.course import POLICIES
from tms_schedule.course.replan import Availability, Free, Unavailable
from tms_schedule.errors import BlockBreakError
from tms_schedule.phase import Accelerated, Periodic

UTC = dt.UTC


def booked(course: Course) -> list[tuple[dt.datetime, dt.datetime]]:
    """The times of the sessions still to come, whatever their numbers."""
    return sorted(
        (s.start.astimezone(UTC), s.end.astimezone(UTC))
        for s in course.schedule
        if s.status == "scheduled"
    )


# -- every re-plan, and the course around it --------------------------------------------------------


def _one_a_day(course: Course, phase: str) -> bool:
    return not any(
        p.name == phase
        and (isinstance(p, Accelerated) or (isinstance(p, Periodic) and p.cluster_sessions > 1))
        for p in course.plan.protocol.phases
    )


def check_replan(before: Course, after: Course, moment: dt.datetime, policy: str) -> None:
    """What every re-plan must keep, written so that each can fail."""
    clinic = after.plan.clinic
    old = {s.number: s for s in before.schedule}
    new = after.schedule
    # Each phase has its count again; sessions attended beyond it (a voided miss whose
    # make-up was attended too) cannot be taken back.
    target = sum(
        max(p.total, sum(1 for s in new if s.phase == p.name and s.status == "attended"))
        for p in after.plan.protocol.phases
    )
    assert len(new.active_sessions()) == target, "the count is not kept"
    for s in new:
        was = old.get(s.number)
        moved = was is None or (was.start, was.end) != (s.start, s.end)
        if s.status == "scheduled" and moved:
            assert s.start >= moment, "a session was booked before the re-plan's moment"
            hours = clinic.hours_on(s.date)
            assert hours is not None, "a session was booked on a closed day"
            assert hours.opens <= s.start.time() and s.end.time() <= hours.closes
        if was is not None and was.status != "scheduled":
            assert (was.start, was.status) == (s.start, s.status), "a record changed"
    # Minimal change: a session that moved could not have kept its time.
    for s in new:
        was = old.get(s.number)
        if was is None or s.status != "scheduled" or (was.start, was.end) == (s.start, s.end):
            continue
        if was.start == s.start:
            continue  # only its length: the first visit handed on to the next session
        hours = clinic.hours_on(was.date)
        clash = any(
            o.number != s.number
            and o.start.astimezone(UTC) < was.end.astimezone(UTC)
            and was.start.astimezone(UTC) < o.end.astimezone(UTC)
            for o in before.schedule.active_sessions()
        )
        could_stay = (
            hours is not None
            and hours.opens <= was.start.time()
            and was.end.time() <= hours.closes
            and was.end.date() == was.date
            and not clash
        )
        if could_stay:
            # Only a phase before it that now reaches its own day moves it (a taper or a
            # continuation too: the sessions after one in the way keep their times).
            names = [p.name for p in after.plan.protocol.phases]
            earlier = names[: names.index(s.phase)]
            in_the_way = [
                e for e in new.active_sessions() if e.phase in earlier and e.date >= was.date
            ]
            assert in_the_way, f"session {s.number} moved though it could keep its time"
    # One session a day in one-a-day phases, but for the double policy's second sessions
    # (this re-plan's, or an earlier one's, which keep their times).
    if policy != "double":
        earlier_days = {
            day: len(list(group))
            for day, group in itertools.groupby(
                before.schedule.active_sessions(), key=lambda s: s.date
            )
        }
        for day, group in itertools.groupby(new.active_sessions(), key=lambda s: s.date):
            group = list(group)
            if len(group) > max(1, earlier_days.get(day, 0)):
                assert not all(_one_a_day(after, s.phase) for s in group), f"two on {day}"
    active = new.active_sessions()
    for a, b in itertools.pairwise(active):
        assert a.end.astimezone(UTC) <= b.start.astimezone(UTC), "sessions overlap"
    again = after.replan(moment, policy)
    assert again is after, "the same re-plan changed something the second time"


PROPERTY = settings(
    # 60 in the suite; the "thorough" profile (see conftest) runs its own, larger number.
    max_examples=max(60, settings.default.max_examples)
    if settings.default.max_examples > 100
    else 60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY
@given(plans(), steps)
def test_recording_and_replanning_keep_their_rules(
    plan: Plan, chosen: list[tuple[str, int, str, int]]
) -> None:
    history = run_steps(plan, chosen, check_replan)
    for before, after in itertools.pairwise(history):
        old = {s.number: s for s in before.schedule}
        new = {s.number: s for s in after.schedule}
        voided = {r.voids for r in after.records if r.kind == "void"}
        for number, session in old.items():
            assert number in new, "a session was lost"
            if session.status == "attended" and new[number].status == "attended":
                assert new[number].start == session.start, "an attended session moved"
            assert new[number].sequence >= session.sequence, "SEQUENCE went down"
        assert after.records[: len(before.records)] == before.records, "a record was lost"
        for index, record in enumerate(after.records):
            if record.kind == "attended" and index not in voided:
                assert new[record.session].status == "attended"
    final = history[-1]
    assert Course.from_json(final.to_json()) == final


@PROPERTY
@given(plans(), st.integers(0, 200), st.integers(-3, 3), st.sampled_from(POLICIES))
def test_a_closure_and_a_clinic_miss_of_the_same_day_give_the_same_times(
    plan: Plan, pick: int, shift: int, policy: str
) -> None:
    """Whichever route, and whether the re-plan starts before or after the day."""
    try:
        course = Course.start(plan)
    except TmsScheduleError:
        assume(False)
        return
    sessions = [s for s in course.schedule if _one_a_day(course, s.phase)]
    assume(sessions)
    session = sessions[pick % len(sessions)]
    clinic = plan.clinic
    closed = attrs.evolve(clinic, closures=(*clinic.closures, Closure(session.date)))
    assume(not closed.is_open(session.date))  # an extra open day outranks a closure
    moment = dt.datetime.combine(
        max(plan.start, session.date + dt.timedelta(days=shift)), dt.time(0), tzinfo=clinic.zone
    )
    try:
        by_closure = course.with_clinic(closed).replan(moment, policy)
        by_miss = (
            course.with_clinic(closed)
            .missed(session.number, "clinic", now=session.end)
            .replan(moment, policy)
        )
    except TmsScheduleError:
        assume(False)
        return
    assert booked(by_closure) == booked(by_miss)


# -- the book's check ------------------------------------------------------------------------------


def test_a_time_the_book_says_is_unavailable_moves_and_says_why() -> None:
    """The clinic book's check answers a type: ``Free()`` keeps a session where it is,
    ``Unavailable(reason)`` moves it, with the reason, and nothing is placed there."""
    clinic = ClinicCalendar("America/Denver", holidays="US-CO")
    course = Course.start(Plan("itbs", clinic, "2026-11-16", "09:00", "c-1"))
    taken = dt.date(2026, 11, 18)

    def bookable(start: dt.datetime, end: dt.datetime) -> Availability:
        if start.astimezone(clinic.zone).date() == taken:
            return Unavailable("Chair 1 out: coil repair")
        return Free()

    now = dt.datetime(2026, 11, 16, 7, tzinfo=clinic.zone)
    after = course.replan(now, bookable=bookable)
    moved = {s.number: s for s in after.schedule}[3]
    assert moved.date != taken and all(s.date != taken for s in after.schedule.active_sessions())
    assert dict(after.revision.reasons) == {3: "Chair 1 out: coil repair"}
    assert booked(after)[:2] == booked(course)[:2]  # the others keep their times
    assert after.replan(now, bookable=bookable) is after


# -- minimal change: the fewest moves, the same day before another day ----------------------------

# The catalogue's courses whose daily phase runs into a taper or a continuation.
_RUNS_INTO_A_TAPER = (
    "standard-10hz",
    "dash-10hz",
    "medicare-20-5",
    "deep-tms-h1",
    "deep-tms-h4-smoking",
)


@PROPERTY
@given(
    st.sampled_from(_RUNS_INTO_A_TAPER),
    start_dates,
    st.integers(7 * 4, 16 * 4),
    st.integers(0, 60),
    st.sampled_from(POLICIES),
)
def test_one_missed_session_moves_no_session_but_those_in_its_way(
    protocol: str, start: dt.date, quarter: int, pick: int, policy: str
) -> None:
    """A miss made up at the end of the daily phase reaches the taper's first day: that
    taper session moves, the taper's others keep their times (not the whole taper a week
    on). ``check_replan`` says which sessions may move."""
    clinic = ClinicCalendar("America/Denver", holidays="US-CO")
    try:
        course = Course.start(
            Plan(protocol, clinic, start, dt.time(quarter // 4, quarter % 4 * 15), "c-1")
        )
    except TmsScheduleError:
        assume(False)
        return
    session = list(course.schedule)[pick % len(course.schedule)]
    missed = course.missed(session.number, "patient", now=session.end)
    after = missed.replan(session.end, policy)
    check_replan(missed, after, session.end, policy)


@PROPERTY
@given(
    st.data(),
    start_dates,
    st.integers(6 * 4, 12 * 4),
    st.integers(0, 200),
    st.sampled_from(POLICIES),
)
def test_a_time_only_the_book_refuses_keeps_its_day_at_the_nearest_time_the_book_holds(
    data: st.DataObject, start: dt.date, quarter: int, pick: int, policy: str
) -> None:
    """A chair booked at a session's time (another chair free later that day): the session
    moves within its day, to the free time nearest its own, and nothing else moves. Only
    when no time of its day fits does it go to another day."""
    clinic = data.draw(clinics(start))
    plan = Plan("standard-10hz", clinic, start, dt.time(quarter // 4, quarter % 4 * 15), "c-1")
    try:
        course = Course.start(plan)
    except TmsScheduleError:
        assume(False)
        return
    sessions = list(course.schedule)
    session = sessions[pick % len(sessions)]
    refused = (session.start.astimezone(UTC), session.end.astimezone(UTC))

    def bookable(start: dt.datetime, end: dt.datetime) -> Availability:
        if start.astimezone(UTC) < refused[1] and refused[0] < end.astimezone(UTC):
            return Unavailable("Chair 1 booked then")
        return Free()

    moment = dt.datetime.combine(start, dt.time(0), tzinfo=clinic.zone)
    try:
        after = course.replan(moment, policy, bookable=bookable)
    except TmsScheduleError:
        assume(False)
        return
    old = {s.number: s for s in course.schedule}
    moved = {
        s.number: s
        for s in after.schedule
        if (s.start, s.end) != (old[s.number].start, old[s.number].end)
    }
    new = moved[session.number]
    hours = clinic.hours_on(session.date)
    assert hours is not None
    length = session.duration
    step = dt.timedelta(minutes=5)
    # Every time of its day (every five minutes from opening) the hours and the book hold.
    candidates = []
    begin = resolve_wall_time(session.date, hours.opens, clinic.zone)
    while begin.date() == session.date:
        end = add_elapsed(begin, length, clinic.zone)
        if hours.holds(begin, end) and isinstance(bookable(begin, end), Free):
            candidates.append(begin)
        begin = add_elapsed(begin, step, clinic.zone)
    if candidates:
        nearest = min(
            candidates,
            key=lambda c: (
                abs(c.astimezone(UTC) - session.start.astimezone(UTC)),
                c.astimezone(UTC),
            ),
        )
        assert (new.date, new.start) == (session.date, nearest), "not the nearest time that day"
        assert set(moved) == {session.number}, "a session the book did not refuse moved"
    else:
        assert new.date != session.date


# -- accelerated blocks: never broken without the clinician's choice ------------------------------


def test_a_re_plan_that_would_break_a_block_asks_and_records_the_choice() -> None:
    """SNT's five consecutive days, a closure on the third: the re-plan raises with the
    days it would give and the two choices, and changes nothing; ``continue`` keeps the
    days that can stay and records a warning; ``restart`` lays the block's sessions to
    come on the first five consecutive open days. Either, asked again, changes nothing."""
    clinic = ClinicCalendar("America/Denver", holidays="US-CO")
    course = Course.start(Plan("snt", clinic, "2026-11-30", "08:00", "s-1"))
    now = dt.datetime(2026, 11, 30, 18, tzinfo=clinic.zone)
    for session in [s for s in course.schedule if s.date == dt.date(2026, 11, 30)]:
        course = course.attended(session.number, now=now)
    closed = course.with_clinic(attrs.evolve(clinic, closures=(Closure("2026-12-02"),)))
    with pytest.raises(BlockBreakError, match=r"2026-12-04, 2026-12-07\); choose 'continue'"):
        closed.replan(now)
    with pytest.raises(CourseError, match="block: must be one of continue, restart"):
        closed.replan(now, block="later")

    def days(c: Course) -> list[str]:
        return sorted({s.date.isoformat() for s in c.schedule.active_sessions()})

    went_on = closed.replan(now, block="continue")
    assert days(went_on) == ["2026-11-30", "2026-12-01", "2026-12-03", "2026-12-04", "2026-12-07"]
    restarted = closed.replan(now, block="restart")
    # The day given stays; the four to come start again on four days in a row (Thursday
    # and Friday then the weekend would not be).
    assert days(restarted) == ["2026-11-30", "2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10"]
    for after in (went_on, restarted):
        assert len(after.schedule.active_sessions()) == 50
        assert any("as the clinician chose" in w for w in after.revision.warnings)
        assert after.replan(now) is after and after.replan(now, block="restart") is after
