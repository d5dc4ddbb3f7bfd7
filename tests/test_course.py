"""The course lifecycle: recordings, re-plans, revisions, milestones, authorization."""

from __future__ import annotations

import datetime as dt
import itertools

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from strategies import plans
from tms_schedule import (
    Authorization,
    ClinicCalendar,
    Closure,
    Course,
    CourseError,
    ExtraOpenDay,
    MilestoneRules,
    Plan,
    TmsScheduleError,
)
from tms_schedule.course import POLICIES

DENVER = ClinicCalendar("America/Denver", holidays="US-CO")
UTC = dt.UTC


def standard(clinic: ClinicCalendar = DENVER, protocol: str = "standard-10hz") -> Course:
    return Course.start(Plan(protocol, clinic, "2026-11-16", "09:00", "c-1"))


def dates(course: Course, status: str = "scheduled") -> list[str]:
    return [s.date.isoformat() for s in course.schedule if s.status == status]


# -- properties -------------------------------------------------------------------------------

# A step: (kind, which session among the scheduled ones, how many days from it to re-plan).
steps = st.lists(
    st.tuples(
        st.sampled_from(["attended", "missed", "cancelled", "moved", "replan", "bad"]),
        st.integers(0, 60),
        st.sampled_from(POLICIES),
    ),
    min_size=1,
    max_size=8,
)


def run_steps(course: Course, chosen: list[tuple[str, int, str]]) -> list[Course]:
    history = [course]
    for kind, pick, policy in chosen:
        scheduled = course.remaining()
        if not scheduled:
            break
        session = scheduled[pick % len(scheduled)]
        try:
            match kind:
                case "attended":
                    course = course.attended(session.number)
                case "missed":
                    course = course.missed(session.number, "clinic")
                case "cancelled":
                    course = course.cancelled(session.number)
                case "moved":
                    course = course.moved(session.number, session.start + dt.timedelta(hours=1))
                case "replan":
                    course = course.replan(session.date, policy)
                case "bad":
                    before = course
                    with pytest.raises(TmsScheduleError):
                        course.attended(99_999)
                    assert course == before
        except CourseError:
            continue  # e.g. a move outside opening hours: refused, course unchanged
        except TmsScheduleError:
            continue  # e.g. no open day left within the horizon for a re-plan
        history.append(course)
    return history


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(plans(), steps)
def test_lifecycle_invariants(plan: Plan, chosen: list[tuple[str, int, str]]) -> None:
    try:
        course = Course.start(plan)
    except TmsScheduleError:
        assume(False)
        return
    history = run_steps(course, chosen)
    total = plan.protocol.total_sessions
    for before, after in itertools.pairwise(history):
        old = {s.number: s for s in before.schedule}
        new = {s.number: s for s in after.schedule}
        for number, session in old.items():
            assert number in new, "a session was lost"
            if session.status == "attended":
                assert new[number].start == session.start, "an attended session moved"
                assert new[number].status == "attended"
            assert new[number].sequence >= session.sequence, "SEQUENCE went down"
        assert after.records[: len(before.records)] == before.records, "a record was lost"
    final = history[-1]
    replanned = final.revision.number > 0 and final.revision.records == len(final.records)
    if replanned:
        # After a re-plan every phase has its full count again: delivered + remaining.
        assert len(final.schedule.active_sessions()) == total
    for s in final.schedule.active_sessions():
        if s.status == "scheduled":
            assert plan.clinic.hours_on(s.date) is not None, "a session on a closed day"
    active = final.schedule.active_sessions()
    for a, b in itertools.pairwise(active):
        assert a.end.astimezone(UTC) <= b.start.astimezone(UTC), "sessions overlap"


@PROPERTY
@given(plans(), steps)
def test_course_round_trips_through_json(plan: Plan, chosen: list[tuple[str, int, str]]) -> None:
    try:
        course = Course.start(plan)
    except TmsScheduleError:
        assume(False)
        return
    final = run_steps(course, chosen)[-1]
    again = Course.from_json(final.to_json())
    assert again == final
    assert again.schedule == final.schedule
    assert again.to_json() == final.to_json()


# -- recording ----------------------------------------------------------------------------------


def test_impossible_recordings_are_refused_and_change_nothing() -> None:
    course = standard().attended(1)
    with pytest.raises(CourseError, match="session 1 is already attended"):
        course.attended(1)
    with pytest.raises(CourseError, match="the course has no session 99; sessions are 1 to 36"):
        course.missed(99)
    with pytest.raises(CourseError, match="before the course began"):
        course.attended(2, dt.datetime(2026, 11, 1, 9, tzinfo=UTC))
    with pytest.raises(CourseError, match="cause: must be one of patient, clinic, device, other"):
        course.missed(2, cause="weather")
    with pytest.raises(CourseError, match="clinic is closed on 2026-11-26"):
        course.moved(3, dt.datetime(2026, 11, 26, 9, tzinfo=DENVER.zone))
    with pytest.raises(CourseError, match="outside the opening hours"):
        course.moved(3, dt.datetime(2026, 11, 18, 17, 45, tzinfo=DENVER.zone))
    with pytest.raises(CourseError, match="session 4 is already on 2026-11-19"):
        course.moved(3, dt.datetime(2026, 11, 19, 14, tzinfo=DENVER.zone))
    with pytest.raises(CourseError, match="timezone-aware"):
        course.moved(3, dt.datetime(2026, 11, 18, 14))
    assert course == standard().attended(1)


def test_a_moved_session_keeps_its_number_and_length_with_a_higher_sequence() -> None:
    course = standard().moved(
        3, dt.datetime(2026, 11, 21, 10, tzinfo=DENVER.zone) - dt.timedelta(days=3)
    )
    moved = next(s for s in course.schedule if s.number == 3)
    assert moved.start.isoformat() == "2026-11-18T10:00:00-07:00"
    assert moved.duration == dt.timedelta(minutes=40)
    assert moved.sequence == 1
    assert str(course.changes_since(0).changes[0]) == (
        "Session 3 moved from Wed 18 Nov 2026 09:00 to Wed 18 Nov 2026 10:00"
    )


# -- scenarios from the clinic's side --------------------------------------------------------------


def test_snow_closure_in_week_two() -> None:
    course = standard()
    for n in range(1, 6):
        course = course.attended(n)
    course = course.missed(6, "clinic", "snow").missed(7, "clinic", "snow")
    snowed = attrs.evolve(
        DENVER, closures=(Closure(dt.date(2026, 11, 23), dt.date(2026, 11, 24), "Snow"),)
    )
    course = course.with_clinic(snowed).replan(dt.date(2026, 11, 25))
    assert len(course.schedule.active_sessions()) == 36
    assert dates(course, "missed") == ["2026-11-23", "2026-11-24"]
    # the acute phase takes two more open days: Wed 30 and Thu 31 Dec (1 Jan is a holiday)
    assert course.schedule.in_phase("acute")[-1].date.isoformat() == "2026-12-31"
    assert course.schedule.last.date == standard().schedule.last.date
    text = course.changes_since(0).to_text()
    assert "Session 6 on Mon 23 Nov 2026 09:00: missed (clinic)" in text
    assert "Session 37 added on" in text and "Session 38 added on" in text


def test_patient_misses_three_days_each_policy_on_the_same_gaps() -> None:
    base = standard().attended(1).attended(2)
    for n in (3, 4, 5):
        base = base.missed(n, "patient")
    start = dt.date(2026, 11, 23)
    extend = base.replan(start, "extend")
    double = base.replan(start, "double", min_gap=dt.timedelta(hours=4))
    catch_up_days = attrs.evolve(
        DENVER,
        extra_open_days=tuple(
            ExtraOpenDay(
                dt.date(2026, 11, 28) + dt.timedelta(weeks=i),
                "09:00-13:00",
                "Makeup Saturday",
                True,
            )
            for i in range(3)
        ),
    )
    extra = base.with_clinic(catch_up_days).replan(start, "extra-day")
    for course in (extend, double, extra):
        assert len(course.schedule.active_sessions()) == 36
    # extend: the acute phase ends three open days later
    assert (
        extend.schedule.in_phase("acute")[-1].date > standard().schedule.in_phase("acute")[-1].date
    )
    # double: second sessions four hours after the first, at most two a week
    seconds = [s for s in double.schedule if s.number > 36]
    assert [f"{s.start:%Y-%m-%d %H:%M}" for s in seconds] == [
        "2026-11-23 13:40",
        "2026-11-24 13:40",
        "2026-11-30 13:40",
    ]
    # extra-day: the makeup Saturdays
    assert [s.date.isoformat() for s in extra.schedule if s.number > 36] == [
        "2026-11-28",
        "2026-12-05",
        "2026-12-12",
    ]
    assert extra.schedule.last.date == standard().schedule.last.date
    assert double.schedule.last.date == standard().schedule.last.date


def test_catch_up_days_are_not_used_by_the_regular_cadence() -> None:
    clinic = attrs.evolve(
        DENVER, extra_open_days=(ExtraOpenDay(dt.date(2026, 11, 28), catch_up_only=True),)
    )
    assert dt.date(2026, 11, 28) not in {s.date for s in standard(clinic).schedule}
    assert clinic.is_open(dt.date(2026, 11, 28))


def test_insurer_extension() -> None:
    course = standard().authorize(Authorization(30, dt.date(2026, 11, 16), dt.date(2026, 12, 31)))
    report = course.check_authorization()
    assert not report.ok
    assert [s.number for s in report.beyond_count] == list(range(31, 37))
    assert report.outside_window[0].date.isoformat() == "2027-01-04"
    assert report.remaining == 30
    extended = course.extend_authorization(10, dt.date(2027, 2, 28), "approved by phone")
    assert extended.check_authorization().ok
    assert extended.authorization is not None and extended.authorization.approved == 40
    assert (
        "Every planned session is inside the authorization."
        in extended.check_authorization().to_text()
    )


def test_replan_can_be_asked_to_stay_inside_the_authorization() -> None:
    course = standard().attended(1).missed(2).missed(3).missed(4)
    course = course.authorize(Authorization(36, dt.date(2026, 11, 16), dt.date(2027, 1, 12)))
    with pytest.raises(
        CourseError, match=r"within_authorization: the re-plan puts 2 session\(s\) outside"
    ):
        course.replan(dt.date(2026, 11, 19), within_authorization=True)
    # second sessions on later days catch up inside the window
    fits = course.replan(
        dt.date(2026, 11, 19), "double", min_gap=dt.timedelta(hours=4), within_authorization=True
    )
    assert fits.schedule.last.date.isoformat() == "2027-01-11"


def test_taper_into_maintenance_and_a_rescue_course() -> None:
    course = standard()
    maintenance = course.next_course("maintenance", "c-1-maintenance")
    assert maintenance.follows == "c-1"
    assert maintenance.relation == "maintenance"
    assert maintenance.schedule.first.date.isoformat() == "2027-01-26"
    rescue = course.rescue("itbs", "c-1-rescue", dt.date(2027, 9, 6))
    assert (rescue.relation, rescue.follows, len(rescue.schedule)) == ("rescue", "c-1", 30)
    with pytest.raises(CourseError, match="needs its own id"):
        course.next_course("maintenance", "c-1")


def test_gap_and_stretch_warnings() -> None:
    course = standard().attended(1)
    for n in range(2, 14):
        course = course.missed(n, "patient")
    course = course.replan(dt.date(2026, 12, 7))
    warnings = course.revision.warnings
    assert "18 days between sessions on 2026-11-16 and 2026-12-04 (limit 14 days)" in warnings
    assert (
        "the course now ends on 2027-02-01, 13 days after the planned end (2027-01-19)" in warnings
    )


# -- milestones and billing -------------------------------------------------------------------------


def test_billing_codes_and_rating_milestones() -> None:
    schedule = standard().schedule
    first = schedule[0]
    assert first.cpt == "90867"
    assert first.milestones == ("Mapping and motor threshold", "PHQ-9 baseline")
    monday = schedule[5]  # first session of week 2
    assert monday.cpt == "90869"
    assert "Motor threshold re-determination" in monday.milestones
    assert schedule[4].milestones == ("PHQ-9 due",)  # the 5th session
    assert schedule[29].milestones[-1] == "PHQ-9 due (end of acute)"
    assert schedule[35].milestones[-1] == "PHQ-9 due (end of taper)"
    assert {s.cpt for s in schedule} == {"90867", "90868", "90869"}


def test_milestone_rules_are_configurable() -> None:
    rules = MilestoneRules(scale="QIDS", rating_every="weekly", motor_threshold=10)
    course = Course.start(Plan("itbs", DENVER, "2026-11-16", "09:00", "c-2"), milestone_rules=rules)
    s = course.schedule
    assert s[5].milestones == ("QIDS due",)  # Monday of week 2
    assert s[10].cpt == "90869"  # the 11th session
    with pytest.raises(CourseError, match="rating_every: must be 'weekly' or a whole number"):
        MilestoneRules(rating_every=0)


def test_milestones_reach_csv_and_json_but_not_the_calendar_unless_asked() -> None:
    course = standard()
    assert "PHQ-9 baseline" in course.schedule.to_csv()
    assert '"cpt": "90867"' in course.schedule.to_json()
    stamp = dt.datetime(2026, 11, 1, tzinfo=UTC)
    assert b"PHQ" not in course.to_ics(stamp=stamp)
    assert b"PHQ-9 baseline" in course.to_ics(stamp=stamp, milestones=True)


def test_a_replan_keeps_a_session_moved_by_hand() -> None:
    course = (
        standard().attended(1).moved(5, dt.datetime(2026, 11, 20, 11, tzinfo=DENVER.zone)).missed(2)
    )
    replanned = course.replan(dt.date(2026, 11, 18))
    moved = next(s for s in replanned.schedule if s.number == 5)
    assert f"{moved.start:%Y-%m-%d %H:%M}" == "2026-11-20 11:00"
    assert len(replanned.schedule.active_sessions()) == 36
    assert len(replanned.schedule.on(dt.date(2026, 11, 20))) == 1  # its day is not double-booked
    assert "Session 5 moved from Fri 20 Nov 2026 09:00 to Fri 20 Nov 2026 11:00" in (
        replanned.changes_since(0).to_text()
    )


def test_session_numbers_in_titles_count_the_sessions_that_take_place() -> None:
    course = standard().attended(1).missed(2).replan(dt.date(2026, 11, 18))
    data = course.to_ics(stamp=dt.datetime(2026, 11, 1, tzinfo=UTC), session_numbers=True)
    titles = [line for line in data.decode().split("\r\n") if line.startswith("SUMMARY")]
    assert titles[0] == "SUMMARY:Appointment (1 of 36)"
    assert titles[1] == "SUMMARY:Missed: Appointment"  # the missed one: no number
    assert titles[-1] == "SUMMARY:Appointment (36 of 36)"


def test_a_closure_announced_later_does_not_unsettle_recorded_moves() -> None:
    clinic = ClinicCalendar("America/Denver")
    course = Course.start(Plan("standard-10hz", clinic, "2026-11-16", "09:00", "m1"))
    course = course.moved(5, dt.datetime(2026, 11, 20, 14, tzinfo=clinic.zone))
    closed = attrs.evolve(clinic, closures=(Closure(dt.date(2026, 11, 20), reason="Power cut"),))
    course = course.with_clinic(closed)  # accepted though session 5 was moved to that day
    assert Course.from_json(course.to_json()) == course
    replanned = course.replan(dt.date(2026, 11, 17))
    assert Course.from_json(replanned.to_json()) == replanned


def test_attendance_on_another_day_is_refused() -> None:
    with pytest.raises(CourseError, match="session 1 is on 2026-11-16, not 9999-12-31"):
        standard().attended(1, dt.datetime(9999, 12, 31, 23, tzinfo=UTC))


def test_a_move_into_a_dst_gap_follows_the_plan_rule_and_survives_a_file() -> None:
    clinic = ClinicCalendar("America/Denver", open_weekdays="Mon-Sun", hours="00:00-23:59")
    course = Course.start(Plan("itbs", clinic, "2026-03-02", "09:00", "g1"))
    course = course.cancelled(7).moved(8, dt.datetime(2026, 3, 8, 2, 30, tzinfo=clinic.zone))
    moved = next(s for s in course.schedule if s.number == 8)
    assert moved.start.isoformat() == "2026-03-08T03:30:00-06:00"
    assert Course.from_json(course.to_json()) == course


def test_double_makes_up_only_what_was_missed_since_the_last_replan() -> None:
    course = standard().attended(1).missed(2)
    once = course.replan(dt.date(2026, 11, 18), "double", min_gap=dt.timedelta(hours=4))
    again = once.missed(10).replan(dt.date(2026, 12, 1), "double", min_gap=dt.timedelta(hours=4))
    seconds = [s for s in again.schedule if s.number > 36 and s.active]
    assert len(seconds) == 2  # one for session 2 (first re-plan), one for session 10
    assert len(again.schedule.active_sessions()) == 36


def test_bad_replan_bounds_are_refused() -> None:
    with pytest.raises(CourseError, match="gap_limit: must be from 1 to 365 days"):
        standard().replan(dt.date(2026, 11, 18), gap_limit=dt.timedelta(days=-3))
    with pytest.raises(CourseError, match="start: must be on or after this course's start"):
        standard().rescue("itbs", "r-1", dt.date(2026, 1, 1))
