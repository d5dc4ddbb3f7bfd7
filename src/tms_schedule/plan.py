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
import re
from typing import Any, Literal

import attrs

from tms_schedule._tz import offset_change_days
from tms_schedule.catalogue import get_protocol
from tms_schedule.clinic import WEEKDAY_FULL, WEEKDAY_NAMES, ClinicCalendar, OpeningHours
from tms_schedule.errors import BlockSplitError, InvalidPlanError, NoOpenDayError
from tms_schedule.phase import Accelerated, Daily, Periodic, Phase, Taper, Weekly
from tms_schedule.protocol import Protocol
from tms_schedule.schedule import Schedule, Session, SkippedDay

__all__ = ["COURSE_HORIZON_DAYS", "Plan"]

#: A course must end within this many days of its start; longer means a protocol or
#: calendar that cannot be right (and expansion stops instead of running on).
COURSE_HORIZON_DAYS = 5 * 366

_UTC = dt.UTC
_DAY = dt.timedelta(days=1)
# Plans start within these dates: far enough for any clinic, near enough for date arithmetic
# (and the holiday data) to hold for the whole course horizon.
_EARLIEST, _LATEST = dt.date(1970, 1, 1), dt.date(2199, 12, 31)
_COURSE_ID = re.compile(r"^[\x21-\x7e][\x20-\x7e]{0,127}$")


def _protocol(value: Any) -> Any:
    return get_protocol(value) if isinstance(value, str) else value


def _date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise InvalidPlanError(
                f"start: must be a date written YYYY-MM-DD, got {value!r}"
            ) from None
    return value


def _time(value: Any) -> Any:
    if isinstance(value, str):
        try:
            parsed = dt.time.fromisoformat(value)
        except ValueError:
            raise InvalidPlanError(f"at: must be a time written HH:MM, got {value!r}") from None
        return parsed
    return value


def _check_protocol(instance: Plan, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Protocol):
        raise InvalidPlanError(f"protocol: must be a Protocol or a protocol id, got {value!r}")


def _check_clinic(instance: Plan, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, ClinicCalendar):
        raise InvalidPlanError(f"clinic: must be a ClinicCalendar, got {value!r}")


def _check_start(instance: Plan, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise InvalidPlanError(f"start: must be a date (the time goes in 'at'), got {value!r}")
    if not _EARLIEST <= value <= _LATEST:
        raise InvalidPlanError(f"start: must be from {_EARLIEST} to {_LATEST}, got {value}")


def _check_at(instance: Plan, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, dt.time) or value.tzinfo is not None:
        raise InvalidPlanError(
            f"at: must be a local time of day without a timezone (the clinic's zone applies),"
            f" got {value!r}"
        )
    if value.second or value.microsecond:
        raise InvalidPlanError(f"at: must be whole minutes (HH:MM), got {value.isoformat()}")


def _check_course_id(instance: Plan, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not _COURSE_ID.match(value):
        raise InvalidPlanError(
            "course_id: must be 1 to 128 printable ASCII characters, not starting with a space"
            f" (an opaque id, never a patient's name or record number), got {value!r}"
        )


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
        at: the local session time (``"HH:MM"`` accepted); for accelerated and cluster days
            the time of the day's first session.
        course_id: the caller's opaque id, used to derive calendar UIDs; never put a
            patient's name or record number here.
        blocks: ``"whole"`` (default) refuses to split a block of consecutive accelerated
            days over a closed day; ``"split"`` runs it on the next open days instead.
    """

    protocol: Protocol = attrs.field(converter=_protocol, validator=_check_protocol)
    clinic: ClinicCalendar = attrs.field(validator=_check_clinic)
    start: dt.date = attrs.field(converter=_date, validator=_check_start)
    at: dt.time = attrs.field(converter=_time, validator=_check_at)
    course_id: str = attrs.field(validator=_check_course_id)
    blocks: Literal["whole", "split"] = attrs.field(default="whole", validator=_check_blocks)

    def expand(self) -> Schedule:
        """Every dated session of the course, and the days it went around."""
        return _Expansion(self).run()


class _Expansion:
    """The state of one expansion: sessions so far and the days passed over."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.clinic = plan.clinic
        self.zone = plan.clinic.zone
        self.at = plan.at
        self.first_length = plan.protocol.first_session
        self.length = plan.protocol.session
        self.sessions: list[Session] = []
        self.in_phase: dict[str, int] = {}
        self.skipped: dict[dt.date, SkippedDay] = {}
        self.last_day: dt.date | None = None
        self.limit = plan.start + dt.timedelta(days=COURSE_HORIZON_DAYS)
        self.phase_name = ""
        self.covered: set[int] = set()
        self.fits: dict[tuple[int, bool], bool] = {}
        self.changes: dict[int, frozenset[dt.date]] = {}
        self.catch_up = plan.clinic.catch_up_days
        self.horizon = dt.timedelta(days=plan.clinic.search_horizon_days)
        self.deadline = min(self.limit, plan.start + self.horizon)

    def run(self) -> Schedule:
        # The check depends on the protocol, the time and the clinic's hours only, and the
        # same few combinations recur across thousands of plans: remember those that pass.
        key = (self.plan.protocol, self.at, self.plan.blocks)
        fitting = self.clinic._fitting_plans
        if key not in fitting:
            self._check_time_fits()
            if len(fitting) >= 1024:  # bounded: many custom protocols start it afresh
                fitting.clear()
            fitting.add(key)
        cursor = self.plan.start
        for index, phase in enumerate(self.plan.protocol.phases):
            self.phase_name = phase.name
            match phase:
                case Daily():
                    cursor = self._counts_by_day(phase, cursor, [1] * phase.sessions, None)
                case Taper():
                    cursor = self._per_week(phase, cursor, phase.per_week)
                case Weekly():
                    cursor = self._per_week(phase, cursor, phase.counts)
                case Accelerated():
                    cursor = self._accelerated(phase, cursor, first=index == 0)
                case Periodic():
                    cursor = self._periodic(phase, cursor)
        return Schedule(
            course_id=self.plan.course_id,
            protocol_id=self.plan.protocol.id,
            timezone=self.clinic.timezone,
            sessions=tuple(self.sessions),
            skipped=tuple(self.skipped[d] for d in sorted(self.skipped)),
        )

    # -- days and times ------------------------------------------------------------------------

    def _local(self, day: dt.date, time: dt.time) -> dt.datetime:
        """``day`` at wall time ``time`` in the clinic's zone, with the DST rule applied."""
        aware = dt.datetime.combine(day, time, tzinfo=self.zone)
        back = aware.astimezone(_UTC).astimezone(self.zone)
        if back.hour != aware.hour or back.minute != aware.minute:
            return back  # did not exist (spring forward): moved forward by the gap
        return aware  # fold=0: the first occurrence of a repeated time

    def _after(self, moment: dt.datetime, length: dt.timedelta) -> dt.datetime:
        """Elapsed-time arithmetic, so a DST change inside an appointment keeps its length."""
        return (moment.astimezone(_UTC) + length).astimezone(self.zone)

    def _slots(
        self,
        day: dt.date,
        count: int,
        interval: dt.timedelta | None,
        booked: int | None = None,
    ) -> list[tuple[dt.datetime, dt.datetime]] | str | None:
        """The ``count`` sessions of ``day``, or why not: a reason, or None if routinely closed.

        ``booked`` is how many sessions come before this day (default: those booked so far);
        it decides whether the day holds the longer session 1.
        """
        hours = self.clinic.day_entry(day)
        if not isinstance(hours, OpeningHours):
            return hours  # the reason a holiday or closure gives, or None on a closed weekday
        if self.catch_up and day in self.catch_up:
            return None  # kept for catching up on missed sessions, not for the cadence
        changes = self.changes.get(day.year)
        if changes is None:
            changes = self.changes[day.year] = offset_change_days(self.zone, day.year)
        steady = day not in changes
        number = len(self.sessions) if booked is None else booked
        if count == 1 and steady:
            # The common case: one session on a day without an offset change fits or not
            # by its opening hours alone, so the answer is kept per (hours, length).
            first = number == 0
            fits = self.fits.get((id(hours), first))
            if fits is None:
                fits = self.fits[(id(hours), first)] = isinstance(
                    self._day_slots(day, hours, 1, None, number, steady), list
                )
            if fits:
                start = dt.datetime.combine(day, self.at, tzinfo=self.zone)
                return [(start, start + (self.first_length if first else self.length))]
        return self._day_slots(day, hours, count, interval, number, steady)

    def _day_slots(
        self,
        day: dt.date,
        hours: OpeningHours,
        count: int,
        interval: dt.timedelta | None,
        number: int,
        steady: bool,
    ) -> list[tuple[dt.datetime, dt.datetime]] | str:
        slots = []
        start = (
            dt.datetime.combine(day, self.at, tzinfo=self.zone)
            if steady
            else self._local(day, self.at)
        )
        for k in range(count):
            length = self.first_length if number + k == 0 else self.length
            end = start + length if steady else self._after(start, length)
            if (
                start.date() != day
                or end.date() != day
                or start.time() < hours.opens
                or end.time() > hours.closes
            ):
                what = "session" if count == 1 else f"session {k + 1} of {count}"
                return (
                    f"{what} at {start:%H:%M}-{end:%H:%M} is outside the opening hours"
                    f" ({WEEKDAY_FULL[day.weekday()]} {hours})"
                )
            slots.append((start, end))
            if interval is not None:
                start = end + interval if steady else self._after(end, interval)
        return slots

    def _visit(self, day: dt.date) -> None:
        """Bounds every search: the course horizon, the holiday data, the open-day horizon."""
        if day > self.deadline or day.year not in self.covered:
            self._check_bounds(day)

    def _check_bounds(self, day: dt.date) -> None:
        if day.year not in self.covered:
            self.clinic.check_covered(day)
            self.covered.add(day.year)
        if day > self.limit:
            raise NoOpenDayError(
                f"the course would run past {COURSE_HORIZON_DAYS} days from its start"
                f" ({self.plan.start}); check the protocol's phases and the clinic's closures"
            )
        if day > self.deadline:
            since = self.last_day or self.plan.start
            raise NoOpenDayError(
                f"no open day for the {self.phase_name} phase within"
                f" {self.clinic.search_horizon_days} days after {since}; check open_weekdays,"
                " opening hours, closures and closing holidays"
            )

    def _skip(self, day: dt.date, reason: str) -> None:
        if day not in self.skipped:
            self.skipped[day] = SkippedDay(day, reason, self.phase_name)

    def _book(self, day: dt.date, slots: list[tuple[dt.datetime, dt.datetime]]) -> None:
        phase = self.phase_name
        sessions = self.sessions
        in_phase = self.in_phase.get(phase, 0)
        for start, end in slots:
            in_phase += 1
            sessions.append(Session(len(sessions) + 1, phase, in_phase, start, end))
        self.in_phase[phase] = in_phase
        self.last_day = day
        self.deadline = min(self.limit, day + self.horizon)

    # -- cadences ------------------------------------------------------------------------------

    def _counts_by_day(
        self, phase: Phase, cursor: dt.date, per_day: list[int], interval: dt.timedelta | None
    ) -> dt.date:
        """Each entry of ``per_day`` on the next open day that holds it, in order."""
        if interval is None and max(per_day, default=0) == 1:
            return self._one_a_day(cursor, len(per_day))
        day = cursor
        covered = self.covered
        for count in per_day:
            while True:
                if day > self.deadline or day.year not in covered:
                    self._check_bounds(day)
                slots = self._slots(day, count, interval)
                if isinstance(slots, list):
                    self._book(day, slots)
                    day += _DAY
                    break
                if slots is not None:
                    self._skip(day, slots)
                day += _DAY
        return day

    def _plain(self, day: dt.date, hours: OpeningHours, first: bool) -> bool:
        """Whether one session surely fits ``day`` by what is already known of it: not a
        catch-up day, no offset change, and these hours already seen to hold the session."""
        if self.catch_up and day in self.catch_up:
            return False
        changes = self.changes.get(day.year)
        return bool(
            changes is not None and day not in changes and self.fits.get((id(hours), first))
        )

    def _one_a_day(self, cursor: dt.date, count: int) -> dt.date:
        """``_counts_by_day`` for one session a day: the loop most courses spend their time in.

        It books a plain day (open, no offset change, hours known to fit) inline and hands
        every other day to :meth:`_slots`, so the result is the same as the general loop's.
        """
        year_table = self.clinic.year_table
        sessions = self.sessions
        phase = self.phase_name
        zone, at, catch_up, fits = self.zone, self.at, self.catch_up, self.fits
        day = cursor
        low = high = 0
        entries: tuple[OpeningHours | str | None, ...] = ()
        while count:
            if day > self.deadline or day.year not in self.covered:
                self._check_bounds(day)
            ordinal = day.toordinal()
            if not low <= ordinal < high:
                low, entries = year_table(day.year)
                high = low + len(entries)
            entry = entries[ordinal - low]
            if entry is None:  # a closed weekday
                day += _DAY
                continue
            if entry.__class__ is OpeningHours and not (catch_up and day in catch_up):
                changes = self.changes.get(day.year)
                first = not sessions
                if changes is not None and day not in changes and fits.get((id(entry), first)):
                    start = dt.datetime.combine(day, at, tzinfo=zone)
                    number = self.in_phase.get(phase, 0) + 1
                    self.in_phase[phase] = number
                    end = start + (self.first_length if first else self.length)
                    sessions.append(Session(len(sessions) + 1, phase, number, start, end))
                    self.last_day = day
                    self.deadline = min(self.limit, day + self.horizon)
                    count -= 1
                    day += _DAY
                    continue
            slots = self._slots(day, 1, None)
            if isinstance(slots, list):
                self._book(day, slots)
                count -= 1
            elif slots is not None:
                self._skip(day, slots)
            day += _DAY
        return day

    def _per_week(self, phase: Phase, cursor: dt.date, counts: tuple[int, ...]) -> dt.date:
        """Each week's count on spread-out open days of a calendar week (Monday to Sunday).

        The phase's first week is the rest of the cursor's week when that still holds the
        week's count (any of it, for a course's first phase); otherwise the next week. A
        week whose closures leave too few open days rolls its remaining sessions on to the
        next open days, and the following weeks move back by a week.
        """
        week_start = cursor
        for week, count in enumerate(counts):
            while True:
                monday = week_start - dt.timedelta(days=week_start.weekday())
                days = [
                    week_start + dt.timedelta(days=i) for i in range((monday - week_start).days + 7)
                ]
                usable: list[dt.date] = []
                reasons: dict[dt.date, str] = {}
                regular: list[dt.date] = []
                # The bounds only tighten along the days, so the window's ends stand for all.
                self._visit(days[0])
                self._visit(days[-1])
                low, entries = self.clinic.year_table(days[0].year)
                for day in days:
                    offset = day.toordinal() - low
                    entry = (
                        entries[offset]
                        if 0 <= offset < len(entries)
                        else self.clinic.day_entry(day)  # the week runs into the next year
                    )
                    if entry is None:  # a closed weekday
                        continue
                    regular.append(day)
                    # Until session 1 is placed, a day must hold it; after, a regular one.
                    booked = len(self.sessions) + (1 if usable else 0)
                    if entry.__class__ is OpeningHours and self._plain(day, entry, booked == 0):
                        usable.append(day)
                        continue
                    slots = self._slots(day, 1, None, booked)
                    if isinstance(slots, list):
                        usable.append(day)
                    elif slots is not None:
                        reasons[day] = slots
                needed = 1 if week > 0 or not self.sessions else count
                if week == 0 and week_start != monday and len(usable) < needed:
                    week_start = monday + dt.timedelta(days=7)
                    continue
                if usable or len(reasons) == 0:
                    break
                # A week closed throughout: report it and try the next week.
                for day, reason in reasons.items():
                    self._skip(day, reason)
                week_start = monday + dt.timedelta(days=7)
            if reasons:
                # The days a week without closures would use: those that closed are reported.
                for day in _spread(regular, count):
                    if day in reasons:
                        self._skip(day, reasons[day])
            # The spread always keeps the first usable day, where session 1 was checked to fit.
            for day in _spread(usable, count):
                slots = self._slots(day, 1, None)
                assert isinstance(slots, list)
                self._book(day, slots)
            chosen_count = min(count, len(usable))
            after = days[-1] + _DAY
            if chosen_count < count:
                self._counts_by_day(phase, after, [1] * (count - chosen_count), None)
                # The rolled-on sessions belong to this week: the next week's count starts on
                # the Monday after them, so no week holds more than its own count.
                assert self.last_day is not None
                after = self.last_day + dt.timedelta(days=7 - self.last_day.weekday())
            week_start = after
        return week_start

    def _accelerated(self, phase: Accelerated, cursor: dt.date, *, first: bool) -> dt.date:
        if not phase.consecutive or self.plan.blocks == "split":
            return self._counts_by_day(phase, cursor, [phase.per_day] * phase.days, phase.interval)
        start = self._first_usable(cursor, phase.per_day, phase.interval)
        block_start, failure = self._block(start, [phase.per_day] * phase.days, phase.interval)
        if block_start != start and first:
            assert failure is not None
            raise BlockSplitError(
                f"start: the {phase.days} consecutive {phase.name} days from {start} would be"
                f" split: {failure[0]} {failure[1]}; the next start where {phase.days}"
                f" consecutive open days fit is {block_start}. Start then, or plan with"
                " blocks='split' (--split-blocks) to use the next open days instead",
                next_start=block_start,
            )
        return self._place_block(cursor, block_start, [phase.per_day] * phase.days, phase.interval)

    def _periodic(self, phase: Periodic, cursor: dt.date) -> dt.date:
        period = dt.timedelta(weeks=phase.every_weeks)
        anchor = cursor if self.last_day is None else self.last_day + period
        per_day = list(phase.day_counts)
        day = cursor
        for i in range(phase.occurrences):
            nominal = anchor + i * period
            earliest = max(nominal, self.last_day + _DAY) if self.last_day else nominal
            if len(per_day) == 1:
                day = self._counts_by_day(phase, earliest, per_day, phase.interval)
                continue
            block_start, _ = self._block(earliest, per_day, phase.interval)
            day = self._place_block(earliest, block_start, per_day, phase.interval)
        return day

    # -- blocks of consecutive days --------------------------------------------------------------

    def _first_usable(self, day: dt.date, count: int, interval: dt.timedelta) -> dt.date:
        while True:
            self._visit(day)
            slots = self._slots(day, count, interval)
            if isinstance(slots, list):
                return day
            if slots is not None:
                self._skip(day, slots)
            day += _DAY

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
                booked = len(self.sessions) + sum(per_day[:offset])
                slots = self._slots(day, count, interval, booked)
                if not isinstance(slots, list):
                    if first_failure is None:
                        reason = slots or self.clinic.closure_reason(day) or "closed"
                        first_failure = (day, reason)
                    candidate = day + _DAY
                    break
            else:
                return candidate, first_failure

    def _place_block(
        self, cursor: dt.date, block_start: dt.date, per_day: list[int], interval: dt.timedelta
    ) -> dt.date:
        day = cursor
        while day < block_start:
            reason = self.clinic.closure_reason(day)
            if reason is not None and not self.clinic.is_regular_closed(day):
                self._skip(day, reason)
            day += _DAY
        for offset, count in enumerate(per_day):
            day = block_start + dt.timedelta(days=offset)
            slots = self._slots(day, count, interval)
            assert isinstance(slots, list)
            self._book(day, slots)
        return day + _DAY

    def _check_consecutive_days(self) -> None:
        """Fail fast when the open weekdays never give the consecutive days a block needs."""
        open_days = [h is not None for h in self.clinic.week]
        longest = (
            7
            if all(open_days)
            else max(
                (
                    next(k for k in range(7) if not open_days[(start + k) % 7])
                    for start in range(7)
                    if open_days[start]
                ),
                default=0,
            )
        )
        for phase in self.plan.protocol.phases:
            split = self.plan.blocks == "split"
            need = (
                phase.days
                if isinstance(phase, Accelerated) and phase.consecutive and not split
                else phase.cluster_days
                if isinstance(phase, Periodic)
                else 1
            )
            if need > longest:
                days = ", ".join(WEEKDAY_NAMES[d] for d, o in enumerate(open_days) if o)
                raise InvalidPlanError(
                    f"{phase.name}: needs {need} consecutive open days, but the clinic opens"
                    f" {days} (at most {longest} in a row)"
                    + (
                        "; plan with blocks='split' to use the next open days"
                        if isinstance(phase, Accelerated)
                        else ""
                    )
                )

    def _check_time_fits(self) -> None:
        """Fail fast when no open weekday can hold the session time (or accelerated day)."""
        self._check_consecutive_days()
        protocol = self.plan.protocol
        need_count, interval = 1, None
        for phase in protocol.phases:
            if isinstance(phase, Accelerated) and phase.per_day > need_count:
                need_count, interval = phase.per_day, phase.interval
            if isinstance(phase, Periodic) and max(phase.day_counts) > need_count:
                need_count, interval = max(phase.day_counts), phase.interval
        weekly = [h for h in self.clinic.week if h is not None]
        extra = [self.clinic.hours_on(d.date) for d in self.clinic.extra_open_days]
        options = weekly + [h for h in extra if h is not None]
        if not options:
            return
        reference = dt.date(2001, 1, 1)  # any day: only the wall-clock span matters here
        gap = interval or dt.timedelta(0)
        length = protocol.first_session + (need_count - 1) * (protocol.session + gap)
        regular = need_count * protocol.session + (need_count - 1) * gap
        longest = max(length, regular)
        start = dt.datetime.combine(reference, self.at)
        end = start + longest
        for hours in options:
            if hours.opens <= self.at and end.date() == reference and end.time() <= hours.closes:
                return
        best = max(options, key=lambda h: _span(h))
        latest = dt.datetime.combine(reference, best.closes) - longest
        what = (
            f"a session at {self.at:%H:%M}"
            if need_count == 1
            else f"{need_count} sessions a day from {self.at:%H:%M}"
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
        if self.at < earliest:
            raise InvalidPlanError(
                f"at: {self.at:%H:%M} is before the clinic opens on any day ({days});"
                f" the earliest time that fits is {earliest:%H:%M}"
            )
        raise InvalidPlanError(
            f"at: {what} ({_duration(longest)}) does not fit the opening hours on any open day"
            f" ({days}); the latest time that fits is {latest:%H:%M}"
        )


def _span(hours: Any) -> dt.timedelta:
    day = dt.date(2001, 1, 1)
    return dt.datetime.combine(day, hours.closes) - dt.datetime.combine(day, hours.opens)


def _duration(value: dt.timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _spread(days: list[dt.date], count: int) -> list[dt.date]:
    """``count`` of the sorted ``days`` spread over a week.

    The targets are the first day plus ``floor(i * 7 / count)`` days: 2 a week fall on
    Monday and Thursday, 3 on Monday, Wednesday and Friday. Each target takes the first
    unused day on or after it; targets past the last day take the latest unused days.
    """
    if count >= len(days):
        return list(days)
    first = days[0]
    chosen: list[int] = []
    j = 0
    for i in range(count):
        target = first + dt.timedelta(days=(i * 7) // count)
        while j < len(days) and days[j] < target:
            j += 1
        if j == len(days):
            break
        chosen.append(j)
        j += 1
    if len(chosen) < count:
        taken = set(chosen)
        unused = [k for k in range(len(days)) if k not in taken]
        chosen += unused[len(unused) - (count - len(chosen)) :]
    return [days[k] for k in sorted(chosen)]
