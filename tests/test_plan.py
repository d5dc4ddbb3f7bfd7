"""The rules of expansion (design.md, rules 1-7), as properties and as worked examples."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cases import EXPECTED, expand_or_skip
from strategies import plans
from tms_schedule import (
    Accelerated,
    BlockSplitError,
    ClinicCalendar,
    Closure,
    Daily,
    ExtraOpenDay,
    HolidayDataError,
    InvalidPlanError,
    NoOpenDayError,
    Periodic,
    Plan,
    Protocol,
    Taper,
    Weekly,
    get_protocol,
)

UTC = dt.UTC
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def same_day_spacing(plan: Plan) -> dict[str, dt.timedelta | None]:
    """The least break the protocol allows between same-day sessions of each phase."""
    result: dict[str, dt.timedelta | None] = {}
    for phase in plan.protocol.phases:
        spaced = isinstance(phase, Accelerated) or (
            isinstance(phase, Periodic) and phase.cluster_sessions > 1
        )
        result[phase.name] = phase.interval if spaced else None  # type: ignore[union-attr]
    return result


@PROPERTY
@given(plans())
def test_count_is_kept_and_numbered(plan: Plan) -> None:
    schedule = expand_or_skip(plan)
    assert len(schedule) == plan.protocol.total_sessions
    assert [s.number for s in schedule] == list(range(1, len(schedule) + 1))
    for phase in plan.protocol.phases:
        in_phase = schedule.in_phase(phase.name)
        assert len(in_phase) == phase.total
        assert [s.phase_number for s in in_phase] == list(range(1, phase.total + 1))


@PROPERTY
@given(plans())
def test_no_session_on_a_closed_day_or_outside_hours(plan: Plan) -> None:
    schedule = expand_or_skip(plan)
    zone = zoneinfo.ZoneInfo(plan.clinic.timezone)
    skipped = {d.date for d in schedule.skipped}
    for s in schedule:
        assert s.start.tzinfo is zone and s.end.tzinfo is zone
        hours = plan.clinic.hours_on(s.date)
        assert hours is not None, f"session {s.number} on closed day {s.date}"
        assert s.end.date() == s.date
        assert hours.opens <= s.start.time() and s.end.time() <= hours.closes
        assert s.date not in skipped


@PROPERTY
@given(plans())
def test_sorted_and_gaps_kept(plan: Plan) -> None:
    schedule = expand_or_skip(plan)
    spacing = same_day_spacing(plan)
    for before, after in zip(schedule.sessions, schedule.sessions[1:], strict=False):
        assert before.end.astimezone(UTC) <= after.start.astimezone(UTC)
        if before.date == after.date:
            interval = spacing[after.phase]
            assert interval is not None, f"two {after.phase} sessions on {after.date}"
            assert before.phase == after.phase
            assert after.start.astimezone(UTC) - before.end.astimezone(UTC) >= interval


@PROPERTY
@given(plans())
def test_appointment_lengths(plan: Plan) -> None:
    schedule = expand_or_skip(plan)
    assert schedule.first.duration == plan.protocol.first_session
    assert all(s.duration == plan.protocol.session for s in schedule.sessions[1:])


@PROPERTY
@given(plans())
def test_wall_clock_time_is_kept_across_dst(plan: Plan) -> None:
    schedule = expand_or_skip(plan)
    zone = zoneinfo.ZoneInfo(plan.clinic.timezone)
    firsts = {}
    for s in schedule:
        firsts.setdefault(s.date, s)
    for day, s in firsts.items():
        naive = dt.datetime.combine(day, plan.at)
        exists = (
            naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None)
            == naive
        )
        if exists:
            assert s.start.replace(tzinfo=None) == naive
            assert s.start.fold == 0  # a repeated time means its first occurrence
        else:  # skipped by a spring-forward: moved forward by the gap
            assert s.start.replace(tzinfo=None) > naive


@PROPERTY
@given(plans())
def test_deterministic(plan: Plan) -> None:
    schedule = expand_or_skip(plan)
    again = attrs.evolve(plan).expand()
    assert again == schedule
    assert again.to_json() == schedule.to_json()


@PROPERTY
@given(plans())
def test_skipped_days_are_explained(plan: Plan) -> None:
    schedule = expand_or_skip(plan)
    for day in schedule.skipped:
        reason = plan.clinic.closure_reason(day.date)
        if reason is not None:
            assert day.reason == reason
        else:
            assert "outside the opening hours" in day.reason
    assert [d.date for d in schedule.skipped] == sorted({d.date for d in schedule.skipped})


@PROPERTY
@given(plans(), st.integers(0, 35))
def test_closing_a_session_day_keeps_the_count_and_never_shortens(plan: Plan, pick: int) -> None:
    schedule = expand_or_skip(plan)
    day = schedule.sessions[pick % len(schedule)].date
    closed = attrs.evolve(plan.clinic, closures=(*plan.clinic.closures, Closure(day, day, "Snow")))
    closed = attrs.evolve(
        closed, extra_open_days=tuple(e for e in closed.extra_open_days if e.date != day)
    )
    try:
        later = attrs.evolve(plan, clinic=closed).expand()
    except EXPECTED:
        return  # e.g. the closure now splits an accelerated block: refused, not shortened
    assert len(later) == len(schedule)
    assert all(s.date != day for s in later)
    if not any(isinstance(p, Taper | Weekly) for p in plan.protocol.phases):
        # Per-week phases keep their weekly count: a session whose day closes late in a
        # week may go to an earlier free day of that week. Elsewhere it only moves later.
        assert later.last.start >= schedule.last.start


@PROPERTY
@given(plans())
def test_a_refused_block_fits_on_the_day_the_error_names(plan: Plan) -> None:
    try:
        plan.expand()
    except BlockSplitError as error:
        assert error.next_start is not None and error.next_start > plan.start
        try:
            moved = attrs.evolve(plan, start=error.next_start).expand()
        except BlockSplitError as again:
            assert again.next_start != error.next_start, "the named day does not fit"
        except EXPECTED:
            pass  # a later phase may fail on its own (no open day ahead for it)
        else:
            assert moved.first.date == error.next_start
    except EXPECTED:
        assume(False)


# -- worked examples ---------------------------------------------------------------------------

DENVER = ClinicCalendar("America/Denver", holidays="US-CO")


def test_thanksgiving_moves_the_session_and_the_course_gets_longer() -> None:
    schedule = Plan("itbs", DENVER, "2026-11-16", "09:00", "c-1").expand()
    dates = [s.date for s in schedule]
    assert dt.date(2026, 11, 26) not in dates
    assert dt.date(2026, 11, 27) in dates
    assert str(schedule.skipped[0]) == "2026-11-26 Thanksgiving Day: clinic closed"
    without = Plan("itbs", ClinicCalendar("America/Denver"), "2026-11-16", "09:00", "c-1").expand()
    assert len(without) == len(schedule) == 30
    assert schedule.last.date > without.last.date


def test_dst_keeps_nine_oclock_on_both_sides_of_the_change() -> None:
    schedule = Plan("standard-10hz", DENVER, "2026-10-19", "09:00", "c-1").expand()
    offsets = {s.start.utcoffset() for s in schedule}
    assert offsets == {dt.timedelta(hours=-6), dt.timedelta(hours=-7)}  # MDT, then MST
    assert {s.start.time() for s in schedule} == {dt.time(9)}


def test_a_time_that_does_not_exist_moves_forward_by_the_gap() -> None:
    night = ClinicCalendar("America/New_York", open_weekdays="Mon-Sun", hours="00:00-23:59")
    protocol = Protocol(id="p", name="P", phases=(Daily(3),), session=30, first_session=30)
    schedule = Plan(protocol, night, "2026-03-07", "02:30", "c-1").expand()
    assert [s.start.isoformat() for s in schedule] == [
        "2026-03-07T02:30:00-05:00",
        "2026-03-08T03:30:00-04:00",  # 02:30 does not exist on 8 March
        "2026-03-09T02:30:00-04:00",
    ]


def test_a_repeated_time_means_its_first_occurrence() -> None:
    night = ClinicCalendar("America/New_York", open_weekdays="Mon-Sun", hours="00:00-23:59")
    protocol = Protocol(id="p", name="P", phases=(Daily(1),), session=30, first_session=30)
    session = Plan(protocol, night, "2026-11-01", "01:30", "c-1").expand().first
    assert session.start.isoformat() == "2026-11-01T01:30:00-04:00"  # EDT, before the change
    assert session.duration == dt.timedelta(minutes=30)


def test_snt_packs_ten_sessions_a_day_fifty_minutes_apart() -> None:
    schedule = Plan("snt", DENVER, "2026-11-30", "08:00", "c-1").expand()
    assert len({s.date for s in schedule}) == 5
    # Mapping and motor threshold happen at a visit before the block: ten equal sessions,
    # hourly from 08:00 and over at 17:10, inside an 08:00-18:00 clinic, every day.
    for day in sorted({s.date for s in schedule}):
        sessions = schedule.on(day)
        assert [f"{s.start:%H:%M}" for s in sessions] == [f"{h:02}:00" for h in range(8, 18)]
        assert {s.duration for s in sessions} == {dt.timedelta(minutes=10)}
        assert f"{sessions[-1].end:%H:%M}" == "17:10"


def test_snt_block_is_not_split_by_thanksgiving() -> None:
    plan = Plan("snt", DENVER, "2026-11-23", "08:00", "c-1")
    with pytest.raises(BlockSplitError, match="2026-11-26 Thanksgiving Day") as caught:
        plan.expand()
    assert caught.value.next_start == dt.date(2026, 11, 30)
    assert "blocks='split'" in str(caught.value)


def test_snt_block_split_when_the_caller_asks() -> None:
    schedule = Plan("snt", DENVER, "2026-11-23", "08:00", "c-1", blocks="split").expand()
    days = sorted({s.date.isoformat() for s in schedule})
    assert days == ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-27", "2026-11-30"]
    assert [d.date.isoformat() for d in schedule.skipped] == ["2026-11-26"]


def test_a_weekend_start_rolls_to_monday_without_splitting() -> None:
    schedule = Plan("snt", DENVER, "2026-11-28", "08:00", "c-1").expand()
    assert schedule.first.date == dt.date(2026, 11, 30)


def test_accelerated_day_that_cannot_fit_the_hours_is_refused_with_the_latest_time() -> None:
    with pytest.raises(InvalidPlanError, match=r"latest time that fits is 08:50"):
        Plan("snt", DENVER, "2026-11-30", "09:00", "c-1").expand()
    short = ClinicCalendar("America/Denver", hours="09:00-15:00")
    with pytest.raises(InvalidPlanError, match="opening hours cannot hold 10 sessions a day"):
        Plan("snt", short, "2026-11-30", "09:00", "c-1").expand()


def test_taper_spreads_three_two_one_over_calendar_weeks() -> None:
    schedule = Plan("standard-10hz", ClinicCalendar("UTC"), "2027-02-01", "09:00", "c-1").expand()
    taper = [f"{s.start:%a %d %b}" for s in schedule.in_phase("taper")]
    assert taper == [
        "Mon 15 Mar",
        "Wed 17 Mar",
        "Fri 19 Mar",
        "Mon 22 Mar",
        "Thu 25 Mar",
        "Mon 29 Mar",
    ]


def test_short_friday_hours_pass_over_fridays_with_a_reason() -> None:
    clinic = ClinicCalendar("UTC", weekday_hours={"Fri": "08:00-12:00"})
    schedule = Plan("1hz-right", clinic, "2027-02-01", "14:00", "c-1").expand()
    assert all(s.start.weekday() != 4 for s in schedule)
    assert len(schedule) == 10
    assert "outside the opening hours (Friday 08:00-12:00)" in schedule.skipped[0].reason


def test_maintenance_boosters_keep_their_rhythm_around_a_holiday() -> None:
    schedule = Plan("maintenance", DENVER, "2026-11-16", "09:00", "c-1").expand()
    dates = [s.date.isoformat() for s in schedule]
    assert dates[:4] == ["2026-11-16", "2026-11-23", "2026-11-30", "2026-12-07"]
    # every 2 weeks from 7 Dec: 21 Dec, 4 Jan, 18 Jan (MLK Day -> 19 Jan), 1 Feb (not 2 Feb)
    assert dates[4:8] == ["2026-12-21", "2027-01-04", "2027-01-19", "2027-02-01"]


def test_cluster_maintenance_runs_three_then_two_on_consecutive_days() -> None:
    schedule = Plan("cluster-maintenance", DENVER, "2026-11-16", "09:00", "c-1").expand()
    first_cluster = schedule.sessions[:5]
    assert [s.date.isoformat() for s in first_cluster] == ["2026-11-16"] * 3 + ["2026-11-17"] * 2
    assert schedule.sessions[5].date == dt.date(2026, 12, 14)  # four weeks on


def test_a_block_the_open_weekdays_can_never_hold_is_refused_at_once() -> None:
    clinic = ClinicCalendar("UTC", open_weekdays="Mon,Wed,Thu,Fri")
    with pytest.raises(
        InvalidPlanError,
        match=r"accelerated: needs 5 consecutive open days, but the clinic opens Mon, Wed, Thu, Fri \(at most 3 in a row\)",
    ):
        Plan("snt", clinic, "2026-11-16", "08:00", "c-1").expand()
    assert len(Plan("snt", clinic, "2026-11-16", "08:00", "c-1", blocks="split").expand()) == 50


SHORT_FRIDAY = ClinicCalendar("America/Denver", weekday_hours={"Fri": "08:00-13:00"})


def test_a_short_weekday_that_breaks_every_run_of_block_days_is_named() -> None:
    """SNT needs 5 days in a row of 10 sessions (9 h 30 min with the first): a Friday that
    closes at 13:00 leaves Monday to Thursday, every week, and no start ever fits."""
    plan = Plan("snt", SHORT_FRIDAY, "2026-11-16", "08:00", "c-1")
    with pytest.raises(InvalidPlanError) as caught:
        plan.expand()
    message = str(caught.value)
    assert message.startswith(
        "accelerated: needs 5 consecutive open days that each hold 10 sessions 50 min apart"
        " from 08:00 (9 h 10 min), but Fri 08:00-13:00 cannot hold them, so at most 4 days in"
        " a row do (Mon to Thu); no 5 such days in a row from 2026-11-16 to 2027-11-17 either"
    )
    assert "blocks='split'" in message
    assert "no open day" not in message
    # Split over the next days that hold them, the sessions pass over the Fridays.
    schedule = attrs.evolve(plan, blocks="split").expand()
    assert len(schedule) == 50 and all(s.start.weekday() != 4 for s in schedule)


def test_an_extra_long_day_that_completes_a_run_is_offered_as_the_next_start() -> None:
    clinic = attrs.evolve(
        SHORT_FRIDAY, extra_open_days=[ExtraOpenDay(dt.date(2026, 12, 4), "08:00-18:00")]
    )
    with pytest.raises(BlockSplitError, match="Friday 08:00-13:00") as caught:
        Plan("snt", clinic, "2026-11-16", "08:00", "c-1").expand()
    assert caught.value.next_start == dt.date(2026, 11, 30)
    schedule = Plan("snt", clinic, "2026-11-30", "08:00", "c-1").expand()
    days = sorted({s.date.isoformat() for s in schedule})
    assert days == ["2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"]


def test_a_cluster_needs_consecutive_days_whose_hours_hold_each_days_share() -> None:
    clinic = ClinicCalendar("UTC", weekday_hours={"Tue": "08:00-10:00", "Thu": "08:00-10:00"})
    with pytest.raises(
        InvalidPlanError,
        match=r"maintenance: needs 2 consecutive open days that hold 3, then 2 sessions 50 min"
        r" apart from 09:00 \(3 h 40 min\), but Tue 08:00-10:00, Thu 08:00-10:00 cannot hold"
        r" them, so at most 1 day does \(Mon\)",
    ):
        Plan("cluster-maintenance", clinic, "2026-11-16", "09:00", "c-1").expand()


def test_no_open_day_ahead_is_an_error_not_a_hang() -> None:
    closed = ClinicCalendar("UTC", closures=(Closure(dt.date(2027, 1, 1), dt.date(2028, 6, 1)),))
    with pytest.raises(NoOpenDayError, match="no open day"):
        Plan("itbs", closed, "2027-01-01", "09:00", "c-1").expand()


def test_holiday_data_running_out_is_an_error() -> None:
    with pytest.raises(HolidayDataError, match="covers"):
        Plan("maintenance", DENVER, "2100-11-01", "09:00", "c-1").expand()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("start", "2026-13-01", "start: must be a date"),
        ("start", dt.datetime(2026, 11, 16, 9), "start: must be a date"),
        ("at", "9 o'clock", "at: must be a time"),
        ("at", dt.time(9, tzinfo=UTC), "at: must be a local time"),
        ("course_id", "", "course_id: must be 1 to 128 printable"),
        ("course_id", "name\nwith newline", "course_id"),
        ("course_id", "c-1\n", "course_id: must be 1 to 128 printable"),
        ("course_id", "c-1 ", "not starting or ending with a space"),
        ("course_id", " c-1", "not starting or ending with a space"),
        ("blocks", "sometimes", "blocks: must be 'whole' or 'split'"),
        ("protocol", 42, "protocol: must be a Protocol"),
        ("clinic", "Denver", "clinic: must be a ClinicCalendar"),
    ],
)
def test_bad_plan_input_names_the_field(field: str, value: object, message: str) -> None:
    kwargs: dict[str, object] = {
        "protocol": "itbs",
        "clinic": DENVER,
        "start": "2026-11-16",
        "at": "09:00",
        "course_id": "c-1",
    }
    kwargs[field] = value
    with pytest.raises(ValueError, match=message):
        Plan(**kwargs)  # type: ignore[arg-type]


def test_reference_protocol_is_unchanged_by_expansion() -> None:
    protocol = get_protocol("standard-10hz")
    Plan(protocol, DENVER, "2026-11-16", "09:00", "c-1").expand()
    assert protocol == get_protocol("standard-10hz")


@PROPERTY
@given(plans())
def test_no_calendar_week_holds_more_than_a_per_week_phase_allows(plan: Plan) -> None:
    schedule = expand_or_skip(plan)
    for phase in plan.protocol.phases:
        if isinstance(phase, Taper | Weekly):
            limit = max(phase.per_week) if isinstance(phase, Taper) else phase.per_week
            weeks: dict[tuple[int, int], int] = {}
            for s in schedule.in_phase(phase.name):
                week = s.date.isocalendar()[:2]
                weeks[week] = weeks.get(week, 0) + 1
            assert max(weeks.values()) <= limit, weeks


def test_a_booster_a_holiday_moves_does_not_move_the_later_ones() -> None:
    """Weekly boosters from Monday 28 Dec 2026: the fourth falls on Martin Luther King Jr.
    Day and moves to Tuesday; every later booster stays on its planned Monday."""
    clinic = ClinicCalendar("America/Denver", holidays="US-CO")
    schedule = Plan("maintenance", clinic, dt.date(2026, 12, 28), dt.time(9), "m-1").expand()
    days = [s.date for s in schedule]
    assert days[3] == dt.date(2027, 1, 19)  # moved off the holiday
    later = days[4:]
    assert later[0] == dt.date(2027, 2, 1)  # two weeks after the planned 18 January
    # Only the booster on Washington-Lincoln Day (15 Feb) moves; each other is a Monday.
    assert [d for d in later if d.weekday() != 0] == [dt.date(2027, 2, 16)]
