"""Plan: a protocol, a clinic, a start date and a time, expanded into dated sessions.

:meth:`Plan.expand` keeps the rules of the design:

1. It counts delivered sessions, never dates: a closed day moves its session to the next
   open day, so the course gets longer, never shorter.
2. No session falls on a closed day, outside the day's opening hours, or closer to another
   than its phase allows (one a day outside accelerated and cluster days; accelerated and
   cluster sessions at least the phase's ``interval`` apart, end to start).
3. Wall-clock time is kept across DST: 09:00 stays 09:00 local. A time that does not exist
   on a spring-forward day is moved forward by the gap (02:30 becomes 03:30), and a time that
   occurs twice on a fall-back day means its first occurrence — RFC 5545's rule, so every
   calendar client reads the exported time the same way.
4. An accelerated block of consecutive days is never split by a closed day unless the plan
   says ``blocks="split"``; otherwise a :class:`~tms_schedule.errors.BlockSplitError` names
   the next start date that fits.
5. The same inputs always give the same schedule.
6. Bad input fails at once with a ``ValueError`` subclass naming the field; the search for
   open days is bounded (``ClinicCalendar.search_horizon_days`` between sessions, and
   :data:`COURSE_HORIZON_DAYS` for the whole course).
7. A course that would run past the years the holiday data covers fails loudly.

>>> import datetime as dt
>>> from tms_schedule import ClinicCalendar, Plan
>>> clinic = ClinicCalendar("America/Denver", holidays="US-CO")
>>> schedule = Plan("standard-10hz", clinic, dt.date(2026, 11, 16), dt.time(9), "c-1").expand()
>>> len(schedule), schedule.first.start.isoformat(), schedule.last.date.isoformat()
(36, '2026-11-16T09:00:00-07:00', '2027-01-19')
>>> print(schedule.skipped[0])
2026-11-26 Thanksgiving Day: clinic closed
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Collection, Iterator
from typing import Any, Literal, NamedTuple

import attrs

from tms_schedule._memo import ByIdentity
from tms_schedule._time import add_elapsed, as_date, as_moment, as_time, resolve_wall_time
from tms_schedule._validate import check_course_id
from tms_schedule.catalogue import get_protocol
from tms_schedule.clinic import (
    WEEKDAY_FULL,
    WEEKDAY_NAMES,
    CalendarDay,
    ClinicCalendar,
    OpeningHours,
)
from tms_schedule.errors import BlockSplitError, InvalidPlanError, NoOpenDayError
from tms_schedule.phase import Accelerated, Daily, Periodic, Taper, Weekly
from tms_schedule.protocol import Protocol
from tms_schedule.schedule import Schedule, Session, SkippedDay

__all__ = ["COURSE_HORIZON_DAYS", "Plan"]

#: A course must end within this many days of its start; longer means a protocol or
#: calendar that cannot be right (and expansion stops instead of running on).
COURSE_HORIZON_DAYS = 5 * 366

_UTC = dt.UTC
_DAY = dt.timedelta(days=1)
_WEEK = dt.timedelta(weeks=1)
_COURSE_HORIZON = dt.timedelta(days=COURSE_HORIZON_DAYS)
_DAYS = tuple(dt.timedelta(days=n) for n in range(8))
_MIDNIGHT = dt.time(0)
_ANY_DAY = dt.date(2001, 1, 1)  # a day's wall-clock layout does not depend on its date
# Plans start within these dates: far enough for any clinic, near enough for date arithmetic
# (and the holiday data) to hold for the whole course horizon.
_EARLIEST, _LATEST = dt.date(1970, 1, 1), dt.date(2199, 12, 31)


def _protocol(value: Any) -> Any:
    return get_protocol(value) if isinstance(value, str) else value


def _start(value: Any) -> dt.date:
    return as_date(value, "start", InvalidPlanError)


def _at(value: Any) -> dt.time:
    return as_time(value, "at", InvalidPlanError)


def _check_protocol(instance: Plan, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Protocol):
        raise InvalidPlanError(f"protocol: must be a Protocol or a protocol id, got {value!r}")


def _check_clinic(instance: Plan, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, ClinicCalendar):
        raise InvalidPlanError(f"clinic: must be a ClinicCalendar, got {value!r}")


def _check_start(instance: Plan, attribute: attrs.Attribute[Any], value: dt.date) -> None:
    if not _EARLIEST <= value <= _LATEST:
        raise InvalidPlanError(f"start: must be from {_EARLIEST} to {_LATEST}, got {value}")


def _check_at(instance: Plan, attribute: attrs.Attribute[Any], value: dt.time) -> None:
    if value.second or value.microsecond:
        raise InvalidPlanError(f"at: must be whole minutes (HH:MM), got {value.isoformat()}")


def _check_course_id(instance: Plan, attribute: attrs.Attribute[Any], value: Any) -> None:
    check_course_id(value, "course_id", InvalidPlanError)


def _check_blocks(instance: Plan, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in ("whole", "split"):
        raise InvalidPlanError(f"blocks: must be 'whole' or 'split', got {value!r}")


@attrs.frozen
class Plan:
    """A course to be: protocol, clinic, start date, session time and an opaque course id.

    Args:
        protocol: a :class:`Protocol` or a built-in protocol id.
        clinic: the clinic calendar.
        start: the first day the course may use (a date, or ``"YYYY-MM-DD"``).
        at: the local session time (a time, or ``"HH:MM"``); for accelerated and cluster
            days the time of the day's first session.
        course_id: the caller's opaque id, used to derive calendar UIDs; never put a
            patient's name or record number here.
        blocks: ``"whole"`` (default) refuses to split a block of consecutive accelerated
            days over a closed day; ``"split"`` runs it on the next open days instead.
    """

    protocol: Protocol = attrs.field(converter=_protocol, validator=_check_protocol)
    clinic: ClinicCalendar = attrs.field(validator=_check_clinic)
    start: dt.date = attrs.field(converter=_start, validator=_check_start)
    at: dt.time = attrs.field(converter=_at, validator=_check_at)
    course_id: str = attrs.field(validator=_check_course_id)
    blocks: Literal["whole", "split"] = attrs.field(default="whole", validator=_check_blocks)

    def expand(
        self, *, avoid: Collection[dt.date] = (), not_before: dt.datetime | dt.date | None = None
    ) -> Schedule:
        """Every dated session of the course, and the days it went around.

        Args:
            avoid: days that already hold another appointment; the plan passes over them
                as it passes over a closed weekday (re-plans use it).
            not_before: no session starts before this moment (a moment: see
                :func:`tms_schedule._time.as_moment`).

        A plan expanded around other appointments (``avoid`` or ``not_before`` given) goes
        on from them, as a re-plan does: its first phase is not the course's first, so a
        weekly cadence starts in the rest of a week only if that holds the week's count.

        Raises:
            InvalidPlanError: the session time can never fit the opening hours, a block of
                consecutive days can never be held, or ``not_before`` is not a moment.
            BlockSplitError: a block of consecutive days would be split (it names the next
                start that fits).
            NoOpenDayError: no open day within the search horizon, or the course would run
                past :data:`COURSE_HORIZON_DAYS`.
            HolidayDataError: the course would run past the years the holiday data covers.
        """
        if not_before is not None:
            not_before = as_moment(not_before, "not_before", self.clinic.zone, InvalidPlanError)
        if avoid or not_before is not None:
            return _AroundExpansion(self, frozenset(avoid), not_before).run()
        schedule = _EXPANDED.get(self)
        if schedule is None:
            schedule = _Expansion(self).run()
            _EXPANDED.put(self, schedule)
        return schedule


# A plan's schedule, by the plan it was expanded from (taking an offer expands the offered
# plan to check it still fits, then the new course expands it again).
_EXPANDED: ByIdentity[Plan, Schedule] = ByIdentity(256)


_Slot = tuple[dt.datetime, dt.datetime]
_Offsets = tuple[tuple[dt.timedelta, dt.timedelta], ...]


class _WallLayout(NamedTuple):
    """A day's sessions as (start, end) offsets from its midnight in wall-clock time.

    On a day whose UTC offset does not change, wall-clock time and elapsed time agree, so
    one layout serves every such day with the same hours, whatever its date.
    """

    offsets: _Offsets

    def moments(self, day: CalendarDay, zone: zoneinfo.ZoneInfo) -> list[_Slot]:
        """The sessions' starts and ends on ``day``: an aware datetime's ``+`` adds
        wall-clock time."""
        midnight = day.midnight
        return [(midnight + start, midnight + end) for start, end in self.offsets]

    def first_start(self, day: CalendarDay) -> dt.datetime:
        """When the day's first session starts."""
        return day.midnight + self.offsets[0][0]


class _ElapsedLayout(NamedTuple):
    """A day's sessions as (start, end) offsets in elapsed time from the instant of its
    midnight: on a day whose UTC offset changes, wall-clock offsets would be off by the
    change, so this layout is worked out for that day alone."""

    offsets: _Offsets

    def moments(self, day: CalendarDay, zone: zoneinfo.ZoneInfo) -> list[_Slot]:
        """The sessions' starts and ends on ``day``, in the clinic's zone."""
        origin = day.midnight.astimezone(_UTC)
        return [
            ((origin + start).astimezone(zone), (origin + end).astimezone(zone))
            for start, end in self.offsets
        ]

    def first_start(self, day: CalendarDay) -> dt.datetime:
        """When the day's first session starts (in UTC)."""
        return day.midnight.astimezone(_UTC) + self.offsets[0][0]


_Layout = _WallLayout | _ElapsedLayout


class _Fits(NamedTuple):
    """The day holds the sessions asked of it, laid out so."""

    layout: _Layout


class _PassedOver(NamedTuple):
    """The day cannot hold the sessions, and the schedule says why: a holiday or closure,
    or hours the sessions do not fit."""

    reason: str


class _NotUsed(NamedTuple):
    """A day a plan does not use and does not report: a closed weekday, a catch-up day, a
    day that holds another appointment, a day before the moment given."""


_NOT_USED = _NotUsed()
#: Whether a day holds the sessions asked of it: the one question each cadence asks.
_DayFit = _Fits | _PassedOver | _NotUsed


class _Misfit(NamedTuple):
    """Where a day's sessions first leave its opening hours."""

    position: int  # the session of the day, from 0
    of: int  # how many sessions the day was to hold
    start: dt.datetime
    end: dt.datetime

    def reason(self, day: dt.date, hours: OpeningHours) -> str:
        what = "session" if self.of == 1 else f"session {self.position + 1} of {self.of}"
        return (
            f"{what} at {self.start:%H:%M}-{self.end:%H:%M} is outside the opening hours"
            f" ({WEEKDAY_FULL[day.weekday()]} {hours})"
        )


class _Timing(NamedTuple):
    """When a plan's sessions start, and how long they last."""

    at: dt.time
    first: dt.timedelta  # session 1: mapping and motor threshold
    regular: dt.timedelta


def _lay_out(
    timing: _Timing,
    day: dt.date,
    hours: OpeningHours,
    count: int,
    interval: dt.timedelta | None,
    first: bool,
    zone: zoneinfo.ZoneInfo | None,
) -> list[_Slot] | _Misfit:
    """A day's ``count`` sessions from the plan's time on, ``interval`` apart, or the first
    that leaves the opening hours. With a ``zone`` the DST rule applies (wall time kept,
    lengths in elapsed time); without one the times are naive wall-clock times."""
    if zone is None:
        start = dt.datetime.combine(day, timing.at)
    else:
        start = resolve_wall_time(day, timing.at, zone)
    slots = []
    for k in range(count):
        end = _after(start, timing.first if first and k == 0 else timing.regular, zone)
        if start.date() != day or not hours.holds(start, end):
            return _Misfit(k, count, start, end)
        slots.append((start, end))
        if interval is not None:
            start = _after(end, interval, zone)
    return slots


#: Layouts of days without an offset change, by (timing, opens, closes, count, interval,
#: first): a pure function of the key, shared by every plan with the same times.
_LAYOUTS: dict[
    tuple[_Timing, dt.time, dt.time, int, dt.timedelta | None, bool], _WallLayout | _Misfit
] = {}
_MAX_LAYOUTS = 4096


def _steady_layout(
    timing: _Timing,
    hours: OpeningHours,
    count: int,
    interval: dt.timedelta | None,
    first: bool,
) -> _WallLayout | _Misfit:
    """The sessions of a day without an offset change, as offsets from its midnight: the
    same for every such day with these hours, whatever the date."""
    key = (timing, hours.opens, hours.closes, count, interval, first)
    layout = _LAYOUTS.get(key)
    if layout is None:
        slots = _lay_out(timing, _ANY_DAY, hours, count, interval, first, None)
        if isinstance(slots, _Misfit):
            layout = slots
        else:
            midnight = dt.datetime.combine(_ANY_DAY, _MIDNIGHT)
            layout = _WallLayout(tuple((start - midnight, end - midnight) for start, end in slots))
        if len(_LAYOUTS) >= _MAX_LAYOUTS:  # bounded: many custom times start it afresh
            _LAYOUTS.clear()
        _LAYOUTS[key] = layout
    return layout


class _Expansion:
    """One expansion: the sessions booked so far, the days passed over, and the bounds.

    Each cadence is a few lines over the clinic's index of days
    (:meth:`ClinicCalendar.regular_days`) and one question, :meth:`_fit`: which sessions
    does this day hold? The chosen days are kept with their layouts, and the sessions are
    built from them once, at the end.
    """

    #: Whether the plan goes on from sessions booked before it (a re-plan's), so that even
    #: its first phase is not the course's first.
    continuing = False

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.clinic = plan.clinic
        self.zone = plan.clinic.zone
        self.timing = _Timing(plan.at, plan.protocol.first_session, plan.protocol.session)
        # The days chosen so far, each with its layout and phase; sessions are built from
        # them once, at the end.
        self.booked: list[tuple[CalendarDay, _Layout, str]] = []
        self.count = 0  # sessions booked so far
        self.skipped: dict[dt.date, SkippedDay] = {}
        self.phase_name = ""
        self.last_day: dt.date | None = None
        self.nominal: dt.date | None = None  # the last planned occurrence of a periodic phase
        self.limit = plan.start + _COURSE_HORIZON
        self.horizon = dt.timedelta(days=plan.clinic.search_horizon_days)
        # What days without an offset change hold, by (hours_id, count, interval, first).
        self.layouts: dict[tuple[int, int, dt.timedelta | None, bool], _Fits | _Misfit] = {}
        # Every day up to here is known to be inside the bounds (see _check_bounds).
        self.checked_to = plan.start - _DAY

    def run(self) -> Schedule:
        self._check_consecutive_days()
        self._check_time_fits()
        cursor = self.plan.start
        for index, phase in enumerate(self.plan.protocol.phases):
            self.phase_name = phase.name
            if not isinstance(phase, Periodic):
                self.nominal = None
            match phase:
                case Daily():
                    cursor = self._day_by_day(cursor, [1] * phase.sessions)
                case Taper():
                    cursor = self._per_week(cursor, phase.per_week)
                case Weekly():
                    cursor = self._per_week(cursor, phase.counts)
                case Accelerated():
                    cursor = self._accelerated(phase, cursor, first=index == 0)
                case Periodic():
                    cursor = self._periodic(phase, cursor)
        return Schedule(
            course_id=self.plan.course_id,
            protocol_id=self.plan.protocol.id,
            timezone=self.clinic.timezone,
            sessions=self._sessions(),
            skipped=tuple(self.skipped[d] for d in sorted(self.skipped)),
            target=self.plan.protocol.total_sessions,
        )

    # -- the calendar, within bounds -------------------------------------------------------------

    def _days(self, start: dt.date) -> Iterator[CalendarDay]:
        """The clinic's regular days from ``start`` (closed weekdays left out), as far as the
        bounds allow."""
        while True:
            self._check_bounds(start)
            # Every day up to checked_to is inside the bounds: walked without a check each.
            yield from self.clinic.regular_days(start, self.checked_to)
            start = self.checked_to + _DAY

    def _visit(self, day: dt.date) -> None:
        """Bounds every search: the course horizon, the holiday data, the open-day horizon."""
        if day > self.checked_to:
            self._check_bounds(day)

    def _check_bounds(self, day: dt.date) -> None:
        """Fail on a day past a bound, else note how far on the bounds surely hold: to the end
        of the day's year (the holiday data covers whole years), the course horizon, and the
        open-day horizon from the last session so far (later sessions only move it on)."""
        self.clinic.check_covered(day)
        if day > self.limit:
            raise NoOpenDayError(
                f"the course would run past {COURSE_HORIZON_DAYS} days from its start"
                f" ({self.plan.start}); check the protocol's phases and the clinic's closures"
            )
        since = self.last_day or self.plan.start
        if day > since + self.horizon:
            raise NoOpenDayError(
                f"no open day for the {self.phase_name} phase within"
                f" {self.clinic.search_horizon_days} days after {since}; check open_weekdays,"
                " opening hours, closures and closing holidays"
            )
        self.checked_to = min(self.limit, since + self.horizon, dt.date(day.year, 12, 31))

    # -- one day ---------------------------------------------------------------------------------

    def _fit(
        self,
        day: CalendarDay,
        count: int,
        interval: dt.timedelta | None = None,
        booked: int | None = None,
    ) -> _DayFit:
        """Whether ``day`` holds ``count`` sessions: where they go (:class:`Fits`), why not
        (:class:`PassedOver`), or :class:`NotUsed` for a day a plan does not use.

        ``booked`` is how many sessions come before the day (default: those booked so far);
        it decides whether the day holds the longer session 1.
        """
        hours = day.hours
        if hours is None or day.catch_up_only:
            return _NOT_USED if day.reason is None else _PassedOver(day.reason)
        first = (self.count if booked is None else booked) == 0
        if day.offset_change:
            slots = _lay_out(self.timing, day.date, hours, count, interval, first, self.zone)
            if isinstance(slots, _Misfit):
                return _PassedOver(slots.reason(day.date, hours))
            origin = day.midnight.astimezone(_UTC)
            return _Fits(
                _ElapsedLayout(tuple((start - origin, end - origin) for start, end in slots))
            )
        key = (day.hours_id, count, interval, first)
        fit = self.layouts.get(key)
        if fit is None:
            layout = _steady_layout(self.timing, hours, count, interval, first)
            fit = self.layouts[key] = layout if isinstance(layout, _Misfit) else _Fits(layout)
        return _PassedOver(fit.reason(day.date, hours)) if isinstance(fit, _Misfit) else fit

    def _skip(self, day: dt.date, reason: str) -> None:
        if day not in self.skipped:
            self.skipped[day] = SkippedDay(day, reason, self.phase_name)

    def _book(self, day: CalendarDay, layout: _Layout) -> None:
        """Book the sessions ``layout`` places on ``day``."""
        self.booked.append((day, layout, self.phase_name))
        self.count += len(layout.offsets)
        self.last_day = day.date

    def _sessions(self) -> tuple[Session, ...]:
        """The sessions of the booked days, numbered in the course and within their phase."""
        sessions: list[Session] = []
        phase, number, in_phase = "", 0, 0
        for day, layout, booked_phase in self.booked:
            if booked_phase != phase:
                phase, in_phase = booked_phase, 0
            if isinstance(layout, _WallLayout):  # most days: spelt out, as they are many
                midnight = day.midnight
                for start, end in layout.offsets:
                    number += 1
                    in_phase += 1
                    sessions.append(
                        Session(number, phase, in_phase, midnight + start, midnight + end)
                    )
                continue
            for at, until in layout.moments(day, self.zone):
                number += 1
                in_phase += 1
                sessions.append(Session(number, phase, in_phase, at, until))
        return tuple(sessions)

    # -- cadences --------------------------------------------------------------------------------

    def _day_by_day(
        self, cursor: dt.date, per_day: list[int], interval: dt.timedelta | None = None
    ) -> dt.date:
        """Each count of ``per_day`` on the next day that holds it; returns the day after."""
        days = self._days(cursor)
        for count in per_day:
            for day in days:
                fit = self._fit(day, count, interval)
                if isinstance(fit, _Fits):
                    self._book(day, fit.layout)
                    break
                if isinstance(fit, _PassedOver):
                    self._skip(day.date, fit.reason)
        return self.last_day + _DAY if per_day and self.last_day else cursor

    def _per_week(self, cursor: dt.date, counts: tuple[int, ...]) -> dt.date:
        """Each week's count on spread-out days of a calendar week (Monday to Sunday).

        The phase's first week is the rest of the cursor's week when that still holds the
        week's count (any of it, for a course's first phase); otherwise the next week. A
        week whose closures leave too few usable days rolls its remaining sessions on to the
        next days that hold them, and the following weeks move back by a week.
        """
        week_start = cursor
        for week, count in enumerate(counts):
            while True:
                monday = week_start - _DAYS[week_start.weekday()]
                sunday = monday + _DAYS[6]
                # The bounds only tighten along the days, so the window's ends stand for all.
                self._visit(week_start)
                self._visit(sunday)
                days = self.clinic.regular_days(week_start, sunday)
                needed = 1 if week > 0 or not (self.count or self.continuing) else count
                partial = week == 0 and week_start != monday
                # A rest of a week without enough open days is passed by without a question.
                if partial and sum(day.hours is not None for day in days) < needed:
                    week_start = monday + _WEEK
                    continue
                usable: list[tuple[CalendarDay, _Layout]] = []
                usable_dates: list[dt.date] = []
                reasons: dict[dt.date, str] = {}
                for day in days:
                    # Until session 1 is placed, a day must hold it; after, a regular one.
                    fit = self._fit(day, 1, None, self.count + bool(usable))
                    if isinstance(fit, _Fits):
                        usable.append((day, fit.layout))
                        usable_dates.append(day.date)
                    elif isinstance(fit, _PassedOver):
                        reasons[day.date] = fit.reason
                if partial and len(usable) < needed:
                    week_start = monday + _WEEK
                    continue
                if usable or not reasons:
                    break
                for day_passed, reason in reasons.items():  # closed throughout: next week
                    self._skip(day_passed, reason)
                week_start = monday + _WEEK
            if reasons:  # reported: the closed days a week without closures would have used
                regular = [day.date for day in days]
                for k in _spread(regular, count):
                    if regular[k] in reasons:
                        self._skip(regular[k], reasons[regular[k]])
            # The spread always keeps the first usable day, where session 1 was checked to fit.
            for k in _spread(usable_dates, count):
                self._book(*usable[k])
            week_start = sunday + _DAY
            if len(usable) < count:
                self._day_by_day(week_start, [1] * (count - len(usable)))
                # The rolled-on sessions belong to this week: the next week's count starts on
                # the Monday after them, so no week holds more than its own count.
                assert self.last_day is not None
                week_start = self.last_day + _DAYS[7 - self.last_day.weekday()]
        return week_start

    def _accelerated(self, phase: Accelerated, cursor: dt.date, *, first: bool) -> dt.date:
        per_day = [phase.per_day] * phase.days
        if not phase.consecutive or self.plan.blocks == "split":
            return self._day_by_day(cursor, per_day, phase.interval)
        start = self._first_fit(cursor, phase.per_day, phase.interval)
        block_start, failure = self._block(start, per_day, phase.interval)
        if block_start != start and first:
            assert failure is not None
            raise BlockSplitError(
                f"start: the {phase.days} consecutive {phase.name} days from {start} would be"
                f" split: {failure[0]} {failure[1]}; the next start where {phase.days}"
                f" consecutive open days fit is {block_start}. Start then, or plan with"
                " blocks='split' (--split-blocks) to use the next open days instead",
                next_start=block_start,
            )
        return self._place_block(cursor, block_start, per_day, phase.interval)

    def _periodic(self, phase: Periodic, cursor: dt.date) -> dt.date:
        period = dt.timedelta(weeks=phase.every_weeks)
        # Boosters keep their planned weekday: after another periodic phase the count goes
        # on from its last planned occurrence, not from a booster a holiday moved.
        if self.nominal is not None:
            anchor = self.nominal + period
        else:
            anchor = cursor if self.last_day is None else self.last_day + period
        per_day = list(phase.day_counts)
        day = cursor
        for i in range(phase.occurrences):
            nominal = self.nominal = anchor + i * period
            earliest = max(nominal, self.last_day + _DAY) if self.last_day else nominal
            if len(per_day) == 1:
                day = self._day_by_day(earliest, per_day, phase.interval)
                continue
            block_start, _ = self._block(earliest, per_day, phase.interval)
            day = self._place_block(earliest, block_start, per_day, phase.interval)
        return day

    # -- blocks of consecutive days ----------------------------------------------------------------

    def _first_fit(self, cursor: dt.date, count: int, interval: dt.timedelta) -> dt.date:
        """The first day from ``cursor`` that holds ``count`` sessions."""
        for day in self._days(cursor):
            fit = self._fit(day, count, interval)
            if isinstance(fit, _Fits):
                return day.date
            if isinstance(fit, _PassedOver):
                self._skip(day.date, fit.reason)
        raise AssertionError("the walk ends in an error, never here")

    def _block(
        self, start: dt.date, per_day: list[int], interval: dt.timedelta
    ) -> tuple[dt.date, tuple[dt.date, str] | None]:
        """The first day on or after ``start`` that begins a run of days holding ``per_day``.

        Also returns the first failure met on the way (day and reason), for the error text.
        """
        first_failure: tuple[dt.date, str] | None = None
        candidate = start
        while True:
            for offset, count in enumerate(per_day):
                day = candidate + dt.timedelta(days=offset)
                self._visit(day)
                booked = self.count + sum(per_day[:offset])
                fit = self._fit(self.clinic.day(day), count, interval, booked)
                if not isinstance(fit, _Fits):
                    if first_failure is None:
                        if isinstance(fit, _PassedOver):
                            reason = fit.reason
                        else:
                            reason = self.clinic.closure_reason(day) or "closed"
                        first_failure = (day, reason)
                    candidate = day + _DAY
                    break
            else:
                return candidate, first_failure

    def _place_block(
        self, cursor: dt.date, block_start: dt.date, per_day: list[int], interval: dt.timedelta
    ) -> dt.date:
        """Book the block; the holidays and closures before it are the days passed over."""
        for passed in self.clinic.regular_days(cursor, block_start - _DAY):
            if passed.reason is not None:
                self._skip(passed.date, passed.reason)
        for offset, count in enumerate(per_day):
            day = self.clinic.day(block_start + dt.timedelta(days=offset))
            fit = self._fit(day, count, interval)
            assert isinstance(fit, _Fits)
            self._book(day, fit.layout)
        return day.date + _DAY

    # -- fail fast -------------------------------------------------------------------------------

    def _check_consecutive_days(self) -> None:
        """Fail fast when no run of days can hold a block of consecutive days: the block
        needs consecutive open weekdays whose hours hold each day's sessions.

        When the week itself never gives such a run, the calendar's own days (extra open
        days may make one) are searched up to the search horizon from the start; a run found
        there is left to the expansion, which starts the block on it or names it.
        """
        split = self.plan.blocks == "split"
        for index, phase in enumerate(self.plan.protocol.phases):
            if isinstance(phase, Accelerated) and phase.consecutive and not split:
                per_day = [phase.per_day] * phase.days
            elif isinstance(phase, Periodic) and phase.cluster_days > 1:
                per_day = list(phase.day_counts)
            else:
                continue
            first = index == 0  # the block's first day then holds the longer session 1
            if self._week_holds(per_day, phase.interval, first):
                continue
            problem = self._why_the_week_cannot_hold(per_day, phase.interval)
            if problem is None:
                continue  # no weekday holds even one such day: _check_time_fits says so
            # The first phase starts within the search horizon; a later one within the course's.
            end = self.plan.start + (
                dt.timedelta(days=self.clinic.search_horizon_days) if first else _COURSE_HORIZON
            )
            if self._next_block_start(per_day, phase.interval, first, end) is not None:
                continue
            raise InvalidPlanError(
                f"{phase.name}: {problem}; no {len(per_day)} such days in a row from"
                f" {self.plan.start} to {end} either"
                + (
                    ". Plan with blocks='split' (--split-blocks) to use the next days that"
                    " hold them instead"
                    if isinstance(phase, Accelerated)
                    else ""
                )
            )

    def _holds(
        self, hours: OpeningHours | None, count: int, interval: dt.timedelta | None, first: bool
    ) -> bool:
        """Whether a day with these hours (and no offset change) holds ``count`` sessions."""
        return hours is not None and not isinstance(
            _steady_layout(self.timing, hours, count, interval, first), _Misfit
        )

    def _week_holds(self, per_day: list[int], interval: dt.timedelta, first: bool) -> bool:
        """Whether some run of weekdays, week after week, holds the block's days."""
        week = self.clinic.week
        return any(
            all(
                self._holds(week[(weekday + k) % 7], count, interval, first and k == 0)
                for k, count in enumerate(per_day)
            )
            for weekday in range(7)
        )

    def _why_the_week_cannot_hold(self, per_day: list[int], interval: dt.timedelta) -> str | None:
        """What keeps the week from holding the block, in words; ``None`` when no open
        weekday holds even one of its days (the time check's refusal says more then)."""
        week = self.clinic.week
        busiest = max(per_day)
        holding = [self._holds(week[d], busiest, interval, False) for d in range(7)]
        if not any(holding):
            return None
        need = len(per_day)
        longest, run_start = _longest_run(holding)
        if self.clinic.open_days_in_a_row < need:
            days = ", ".join(WEEKDAY_NAMES[d] for d in self.clinic.open_weekdays)
            return (
                f"needs {need} consecutive open days, but the clinic opens {days}"
                f" (at most {self.clinic.open_days_in_a_row} in a row)"
            )
        counts = (
            f"each hold {busiest} sessions"
            if len(set(per_day)) == 1
            else f"hold {', then '.join(map(str, per_day))} sessions"
        )
        gap = f" {_duration(interval)} apart" if busiest > 1 else ""
        if longest >= need:  # the days are there; the first, with the longer session 1, is not
            return (
                f"needs {need} consecutive days that {counts}{gap} from"
                f" {self.timing.at:%H:%M}, but no run of open weekdays holds the first day"
                f" with its longer first session ({_duration(self.plan.protocol.first_session)})"
            )
        short = [
            f"{WEEKDAY_NAMES[d]} {hours}"
            for d, hours in enumerate(week)
            if hours is not None and not holding[d]
        ]
        length = busiest * self.plan.protocol.session + (busiest - 1) * interval
        run = (
            f"{WEEKDAY_NAMES[run_start]} to {WEEKDAY_NAMES[(run_start + longest - 1) % 7]}"
            if longest > 1
            else WEEKDAY_NAMES[run_start]
        )
        return (
            f"needs {need} consecutive open days that {counts}{gap} from"
            f" {self.timing.at:%H:%M} ({_duration(length)}), but"
            f" {', '.join(short)} cannot hold them, so at most {longest}"
            f" day{' does' if longest == 1 else 's in a row do'} ({run})"
        )

    def _next_block_start(
        self, per_day: list[int], interval: dt.timedelta, first: bool, last: dt.date
    ) -> dt.date | None:
        """The first day from the start to ``last`` that begins a run of days (extra open
        days included) holding the block, or ``None``."""
        start = self.plan.start
        span = self.clinic.holiday_span
        if span is not None:
            last = min(last, dt.date(span[1], 12, 31) - dt.timedelta(days=len(per_day)))
        day = start
        while day <= last:
            for k, count in enumerate(per_day):
                booked = sum(per_day[:k]) if first else 1
                fit = self._fit(
                    self.clinic.day(day + dt.timedelta(days=k)), count, interval, booked
                )
                if not isinstance(fit, _Fits):
                    day += dt.timedelta(days=k + 1)  # every start up to here includes that day
                    break
            else:
                return day
        return None

    def _check_time_fits(self) -> None:
        """Fail fast when no open weekday can hold the session time (or accelerated day)."""
        protocol = self.plan.protocol
        need_count, interval = protocol.busiest_day
        options = self.clinic.all_hours
        for hours in options:  # the day of session 1 and any other day must both fit
            first = _steady_layout(self.timing, hours, need_count, interval, True)
            other = _steady_layout(self.timing, hours, need_count, interval, False)
            if not isinstance(first, _Misfit) and not isinstance(other, _Misfit):
                return
        if not options:
            return
        reference = _ANY_DAY
        gap = interval or dt.timedelta(0)
        length = protocol.first_session + (need_count - 1) * (protocol.session + gap)
        regular = need_count * protocol.session + (need_count - 1) * gap
        longest = max(length, regular)
        best = max(options, key=lambda h: h.length)
        latest = dt.datetime.combine(reference, best.closes) - longest
        at = self.timing.at
        what = (
            f"a session at {at:%H:%M}"
            if need_count == 1
            else f"{need_count} sessions a day from {at:%H:%M}"
        )
        days = ", ".join(
            f"{WEEKDAY_NAMES[d]} {h}" for d, h in enumerate(self.clinic.week) if h is not None
        )
        if latest.date() != reference or latest.time() < best.opens:
            raise InvalidPlanError(
                f"at: the opening hours cannot hold {what} ({_duration(longest)} with the first"
                f" session); opening hours: {days}"
            )
        earliest = min(h.opens for h in options)
        if at < earliest:
            raise InvalidPlanError(
                f"at: {at:%H:%M} is before the clinic opens on any day ({days});"
                f" the earliest time that fits is {earliest:%H:%M}"
            )
        raise InvalidPlanError(
            f"at: {what} ({_duration(longest)}) does not fit the opening hours on any open day"
            f" ({days}); the latest time that fits is {latest:%H:%M}"
        )


class _AroundExpansion(_Expansion):
    """An expansion that passes over days holding other appointments and sessions that
    would start before a given moment, as a re-plan needs; it goes on from a course's
    earlier sessions."""

    continuing = True

    def __init__(
        self, plan: Plan, avoid: frozenset[dt.date], not_before: dt.datetime | None
    ) -> None:
        super().__init__(plan)
        self.avoid = avoid
        self.not_before = not_before

    def _fit(
        self,
        day: CalendarDay,
        count: int,
        interval: dt.timedelta | None = None,
        booked: int | None = None,
    ) -> _DayFit:
        if day.date in self.avoid:
            return _NOT_USED
        if (
            self.not_before is not None
            and day.date < self.not_before.astimezone(day.midnight.tzinfo).date()
        ):
            return _NOT_USED
        fit = super()._fit(day, count, interval, booked)
        if (
            self.not_before is not None
            and isinstance(fit, _Fits)
            and fit.layout.first_start(day) < self.not_before
        ):
            return _NOT_USED  # the day's sessions would start before the moment given
        return fit


def _after(
    moment: dt.datetime, length: dt.timedelta, zone: zoneinfo.ZoneInfo | None
) -> dt.datetime:
    """``length`` after ``moment``: elapsed time in a zone (see
    :func:`~tms_schedule._time.add_elapsed`), wall-clock time without one (a naive layout
    of a day whose offset does not change)."""
    return moment + length if zone is None else add_elapsed(moment, length, zone)


def _duration(value: dt.timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _longest_run(flags: list[bool]) -> tuple[int, int]:
    """The longest run of true weekdays, week after week (Sunday runs on to Monday), and
    the weekday it starts on.

    >>> _longest_run([True, True, True, True, False, False, False])
    (4, 0)
    >>> _longest_run([True, False, False, False, False, True, True])
    (3, 5)
    """
    best, best_start = 0, 0
    for first in range(7):
        if not flags[first] or (flags[(first - 1) % 7] and not all(flags)):
            continue  # a run starts only after a day that is not in it
        length = next((k for k in range(7) if not flags[(first + k) % 7]), 7)
        if length > best:
            best, best_start = length, first
    return best, best_start


def _spread(days: list[dt.date], count: int) -> list[int]:
    """Which ``count`` of the sorted ``days`` spread over a week (their positions).

    The targets are the first day plus ``floor(i * 7 / count)`` days: 2 a week fall on
    Monday and Thursday, 3 on Monday, Wednesday and Friday. Each target takes the first
    unused day on or after it; targets past the last day take the latest unused days.

    >>> monday = dt.date(2026, 11, 16)
    >>> _spread([monday + dt.timedelta(days=n) for n in range(5)], 3)
    [0, 2, 4]
    """
    if count >= len(days):
        return list(range(len(days)))
    first = days[0].toordinal()
    chosen: list[int] = []
    j = 0
    for i in range(count):
        target = first + (i * 7) // count
        while j < len(days) and days[j].toordinal() < target:
            j += 1
        if j == len(days):
            break
        chosen.append(j)
        j += 1
    if len(chosen) < count:
        unused = [k for k in range(len(days)) if k not in chosen]
        chosen = sorted(chosen + unused[len(unused) - (count - len(chosen)) :])
    return chosen
