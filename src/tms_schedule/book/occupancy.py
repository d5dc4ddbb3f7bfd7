"""Where the chairs are free: the index every booking question reads.

Times are whole minutes since the epoch (UTC), so a question is integer arithmetic. For a
chair and a day, the *free gaps* are the day's opening hours less

* every booked session on the chair, widened by the chair's turnover on both sides (a new
  session needs the turnover after the one before it and before the one after it),
* the chair's outages and the clinic's,
* the moments when the clinic's limit of sessions at once is already reached.

A session fits a chair when it lies inside one gap. The gaps of a chair-day are worked out
once, when first asked, and forgotten when a session is added to that day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from tms_schedule.book.chairs import Chair, Outage, StaffLimit
from tms_schedule.clinic import ClinicCalendar
from tms_schedule.phase import Accelerated, Periodic
from tms_schedule.protocol import Protocol

__all__ = ["Booking", "Occupancy", "block_phases", "minute"]

_Gap = tuple[int, int]


def minute(moment: dt.datetime) -> int:
    """Whole minutes since the epoch (UTC) of an aware datetime."""
    return int(moment.timestamp()) // 60


def block_phases(protocol: Protocol) -> set[str]:
    """The phases whose days hold a chair from the first session to the last (accelerated
    days, maintenance clusters): the patient stays between sessions, and so does the
    chair's set-up."""
    return {
        phase.name
        for phase in protocol.phases
        if isinstance(phase, Accelerated)
        or (isinstance(phase, Periodic) and phase.cluster_sessions > phase.cluster_days)
    }


class Booking(NamedTuple):
    """One session on one chair."""

    chair: str
    start: int
    end: int
    course: str
    number: int


class Occupancy:
    """The booked sessions by day, and the free gaps of each chair-day on demand."""

    def __init__(
        self,
        clinic: ClinicCalendar,
        chairs: Iterable[Chair],
        limits: Iterable[StaffLimit] = (),
        outages: Iterable[Outage] = (),
        bookings: Iterable[tuple[dt.date, Booking]] = (),
    ) -> None:
        self.clinic = clinic
        self.chairs = {chair.id: chair for chair in chairs}
        self.limits = tuple(limits)
        self.outages = tuple(outages)
        self.days: dict[dt.date, list[Booking]] = {}
        # The same bookings by chair and day: a chair-day's gaps are worked out again after
        # each re-plan that moves a session there, from its own bookings alone.
        self._on_chair: dict[tuple[str, dt.date], list[Booking]] = {}
        for day, booking in bookings:
            self.days.setdefault(day, []).append(booking)
            self._on_chair.setdefault((booking.chair, day), []).append(booking)
        self._gaps: dict[tuple[str, dt.date], tuple[_Gap, ...]] = {}
        self._full: dict[dt.date, tuple[_Gap, ...]] = {}
        self._hours: dict[dt.date, _Gap | None] = {}
        # Each course's bookings, worked out at the first removal.
        self._by_course: dict[str, list[tuple[dt.date, Booking]]] | None = None
        self._limits_on: dict[dt.date, bool] = {}
        self._able: dict[frozenset[str], tuple[Chair, ...]] = {}

    # -- changing ------------------------------------------------------------------------------

    def add(self, day: dt.date, booking: Booking) -> None:
        """Book one more session: the chair's gaps that day lose it (with the turnover
        around it); on a day a staff limit applies, every chair's gaps are worked out again
        when next asked."""
        self.days.setdefault(day, []).append(booking)
        self._on_chair.setdefault((booking.chair, day), []).append(booking)
        if self._by_course is not None:
            self._by_course.setdefault(booking.course, []).append((day, booking))
        if self._limited(day):
            self._forget(day)
            return
        key = (booking.chair, day)
        gaps = self._gaps.get(key)
        chair = self.chairs.get(booking.chair)
        if gaps and chair is not None:
            turnover = int(chair.turnover.total_seconds()) // 60
            self._gaps[key] = _cut(gaps, booking.start - turnover, booking.end + turnover)

    def remove(self, course: str) -> None:
        """Give back every chair a course holds (before it is seated again: an index kept
        for many re-plans follows each one instead of being built again)."""
        if self._by_course is None:
            self._by_course = {}
            for when, bookings in self.days.items():
                for booking in bookings:
                    self._by_course.setdefault(booking.course, []).append((when, booking))
        for day, booking in self._by_course.pop(course, ()):
            self.days[day].remove(booking)
            self._on_chair[(booking.chair, day)].remove(booking)
            if self._limited(day):
                self._forget(day)
            else:  # only the chair it held is freer
                self._gaps.pop((booking.chair, day), None)

    def _limited(self, day: dt.date) -> bool:
        """Whether a staff limit applies on ``day``."""
        limited = self._limits_on.get(day)
        if limited is None:
            limited = self._limits_on[day] = any(limit.applies(day) for limit in self.limits)
        return limited

    def _forget(self, day: dt.date) -> None:
        self._full.pop(day, None)
        for chair in self.chairs:
            self._gaps.pop((chair, day), None)

    # -- asking ---------------------------------------------------------------------------------

    def bookings(self, day: dt.date) -> list[Booking]:
        """The sessions booked on ``day``, by chair and time."""
        return sorted(self.days.get(day, ()), key=lambda b: (b.chair, b.start))

    def able(self, protocol: Protocol) -> tuple[Chair, ...]:
        """The chairs that can run ``protocol``, by id."""
        # Asked for every session a re-plan looks at: worked out once per equipment need.
        able = self._able.get(protocol.requires)
        if able is None:
            able = self._able[protocol.requires] = tuple(
                sorted(
                    (chair for chair in self.chairs.values() if chair.can_run(protocol)),
                    key=lambda chair: chair.id,
                )
            )
        return able

    def free_chair(self, protocol: Protocol, day: dt.date, start: int, end: int) -> Chair | None:
        """The first chair (by id) that can run ``protocol`` and is free from ``start`` to
        ``end`` (minutes) on ``day``, or ``None``."""
        return next((c for c in self.able(protocol) if self.fits(c, day, start, end)), None)

    def hours(self, day: dt.date) -> _Gap | None:
        """The day's opening hours in minutes, or ``None`` when the clinic is closed."""
        if day not in self._hours:
            hours = self.clinic.day(day).hours
            if hours is None:
                self._hours[day] = None
            else:
                zone = self.clinic.zone
                opens = dt.datetime.combine(day, hours.opens, tzinfo=zone)
                closes = dt.datetime.combine(day, hours.closes, tzinfo=zone)
                self._hours[day] = (minute(opens), minute(closes))
        return self._hours[day]

    def gaps(self, chair: Chair, day: dt.date) -> tuple[_Gap, ...]:
        """The chair's free stretches on ``day``: (start, end) minutes, in order."""
        key = (chair.id, day)
        cached = self._gaps.get(key)
        if cached is not None:
            return cached
        hours = self.hours(day)
        if hours is None or chair.closed_on(day) is not None:
            self._gaps[key] = ()
            return ()
        turnover = int(chair.turnover.total_seconds()) // 60
        busy = [(b.start - turnover, b.end + turnover) for b in self._on_chair.get(key, ())]
        if self.outages:
            busy += [
                (minute(o.start), minute(o.end))
                for o in self.outages
                if o.chair in (None, chair.id)
            ]
        if self.limits:
            busy += self._limit_reached(day)
        gaps = tuple(_subtract(hours, busy))
        self._gaps[key] = gaps
        return gaps

    def fits(self, chair: Chair, day: dt.date, start: int, end: int) -> bool:
        """Whether a session from ``start`` to ``end`` (minutes) fits the chair on ``day``."""
        return any(g0 <= start and end <= g1 for g0, g1 in self.gaps(chair, day))

    def why_not(self, protocol: Protocol, day: dt.date, start: int, end: int) -> str | None:
        """Why no chair can hold the session, or ``None`` when one can."""
        able = self.able(protocol)
        if not able:
            needs = ", ".join(sorted(protocol.requires))
            return f"no chair runs {protocol.id} (it needs {needs})"
        if self.free_chair(protocol, day, start, end) is not None:
            return None
        hours = self.hours(day)  # the clinic's own day first: no chair is the reason then
        if hours is None:
            why = self.clinic.closure_reason(day)
            return f"the clinic is closed that day ({why})" if why else "the clinic is closed"
        if start < hours[0] or end > hours[1]:
            opening = self.clinic.day(day).hours
            return f"it is outside the clinic's opening hours that day ({opening})"
        reasons = []
        for chair in able:
            closed = chair.closed_on(day)
            out = next(
                (
                    o.reason
                    for o in self.outages
                    if o.chair in (None, chair.id)
                    and minute(o.start) < end
                    and start < minute(o.end)
                ),
                None,
            )
            if closed or out:
                reasons.append(f"{chair.name} out: {closed or out}")
        if len(reasons) == len(able):
            return "; ".join(reasons)
        if self._limit_reached(day) and any(
            s < end and start < e for s, e in self._limit_reached(day)
        ):
            return "the clinic's limit of sessions at once is reached then"
        return "every chair that can run it is booked then"

    def masks(
        self,
        chair: Chair,
        day: dt.date,
        sessions: Iterable[tuple[int, int]],
        low: int,
        step: int,
        width: int,
    ) -> int:
        """The bit mask of shifts that fit every session of the day on the chair.

        Bit ``k`` stands for moving the day's sessions by ``low + k * step`` minutes.
        """
        everything = (1 << width) - 1
        result = everything
        gaps = self.gaps(chair, day)
        if not gaps:
            return 0
        for start, end in sessions:
            bits = 0
            for g0, g1 in gaps:
                first = -((low - (g0 - start)) // step)  # ceil((g0 - start - low) / step)
                last = (g1 - end - low) // step
                first, last = max(first, 0), min(last, width - 1)
                if first <= last:
                    bits |= ((1 << (last + 1)) - 1) ^ ((1 << first) - 1)
            result &= bits
            if not result:
                return 0
        return result

    # -- the limit of sessions at once ---------------------------------------------------------------

    def _limit_reached(self, day: dt.date) -> tuple[_Gap, ...]:
        """The stretches of ``day`` when a staff limit allows no further session."""
        cached = self._full.get(day)
        if cached is not None:
            return cached
        limits = [limit for limit in self.limits if limit.applies(day)]
        if not limits:
            self._full[day] = ()
            return ()
        events: dict[int, int] = {}
        for b in self.days.get(day, ()):
            events[b.start] = events.get(b.start, 0) + 1
            events[b.end] = events.get(b.end, 0) - 1
        zone = self.clinic.zone
        full: list[_Gap] = []
        for limit in limits:
            if limit.hours is None:
                window = (-(2**62), 2**62)
            else:
                window = (
                    minute(dt.datetime.combine(day, limit.hours.opens, tzinfo=zone)),
                    minute(dt.datetime.combine(day, limit.hours.closes, tzinfo=zone)),
                )
            for start, end in _at_least(events, limit.sessions):
                start, end = max(start, window[0]), min(end, window[1])
                if start < end:
                    full.append((start, end))
        self._full[day] = tuple(sorted(full))
        return self._full[day]


def _at_least(events: dict[int, int], level: int) -> Iterator[_Gap]:
    """The stretches where the running count of ``events`` is at least ``level``."""
    count = 0
    since: int | None = None
    for moment in sorted(events):
        count += events[moment]
        if count >= level and since is None:
            since = moment
        elif count < level and since is not None:
            yield (since, moment)
            since = None


def _cut(gaps: tuple[_Gap, ...], start: int, end: int) -> tuple[_Gap, ...]:
    """``gaps`` (in order, apart) less the stretch from ``start`` to ``end``."""
    out: list[_Gap] = []
    for g0, g1 in gaps:
        if g1 <= start or end <= g0:
            out.append((g0, g1))
            continue
        if g0 < start:
            out.append((g0, start))
        if end < g1:
            out.append((end, g1))
    return tuple(out)


def _subtract(span: _Gap, busy: list[_Gap]) -> Iterator[_Gap]:
    """``span`` less every stretch of ``busy``, as the free stretches left in order."""
    start, end = span
    for b0, b1 in sorted(busy):
        if b1 <= start:
            continue
        if b0 >= end:
            break
        if b0 > start:
            yield (start, b0)
        start = max(start, b1)
        if start >= end:
            return
    if start < end:
        yield (start, end)
