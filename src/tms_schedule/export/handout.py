"""The handout's model: what the printable page for a patient says, worked out from a
schedule and the clinic's options (:func:`handout`).

The page itself is drawn by :mod:`tms_schedule.pages.handout` from its templates; what is
on it, and why, is said there. Here are the decisions about content: the appointment days
with their sessions, the days passed over, the counts, and whether the appointments fill
month grids (at least eight appointment days for each month shown, about two a week) or
read better as a list alone.

>>> from tms_schedule import ClinicCalendar, Plan
>>> schedule = Plan("itbs", ClinicCalendar("Europe/Berlin"), "2026-11-16", "09:00", "c-1").expand()
>>> sheet = handout(schedule, issued=dt.date(2026, 11, 2))
>>> sheet.summary.progress.target, len(sheet.days), [grid.title for grid in sheet.grids]
(30, 30, ['November 2026', 'December 2026'])
"""

from __future__ import annotations

import datetime as dt

import attrs

from tms_schedule._dates import month_title, month_weeks, months
from tms_schedule.errors import InvalidCalendarOptionError
from tms_schedule.export.options import CalendarOptions
from tms_schedule.export.text import day_marks
from tms_schedule.schedule import Progress, Schedule, Session, SkippedDay

__all__ = ["GridDay", "Handout", "HandoutDay", "MonthGrid", "Summary", "handout"]

# Month grids when the appointment days average at least this many per month shown.
_GRID_DAYS_PER_MONTH = 8


@attrs.frozen
class HandoutDay:
    """A day with appointments.

    Attributes:
        date: the local date.
        sessions: its sessions, in time order (missed and cancelled ones too).
    """

    date: dt.date
    sessions: tuple[Session, ...]


@attrs.frozen
class GridDay:
    """A day in a month grid.

    Attributes:
        date: the day.
        mark: ``"session"`` (an appointment attended or to come), ``"missed"``,
            ``"cancelled"`` (all its sessions), ``"skipped"`` (passed over), or ``None``.
        sessions: its sessions, in time order.
    """

    date: dt.date
    mark: str | None = None
    sessions: tuple[Session, ...] = ()

    @property
    def weekend(self) -> bool:
        return self.date.weekday() >= 5


@attrs.frozen
class MonthGrid:
    """One month, weeks from Monday.

    Attributes:
        year: the year.
        month: the month, 1 to 12.
        weeks: each week's seven days, ``None`` for the days of the months around it.
    """

    year: int
    month: int
    weeks: tuple[tuple[GridDay | None, ...], ...]

    @property
    def title(self) -> str:
        """``November 2026``."""
        return month_title(self.year, self.month)


@attrs.frozen
class Summary:
    """The course at a glance: how many appointments, from when to when, and the counts.

    Attributes:
        progress: the course's counts (:meth:`Schedule.progress
            <tms_schedule.schedule.Schedule.progress>`).
        first: the day of the first appointment not cancelled; ``None`` when there is none.
        last: the day of the last one.
        recorded: whether any session is recorded (then the counts are worth saying).
        timezone: the clinic's IANA zone, the times' zone.
    """

    progress: Progress
    first: dt.date | None
    last: dt.date | None
    recorded: bool
    timezone: str


@attrs.frozen
class Handout:
    """What the handout says (see the module).

    Attributes:
        options: the clinic's name, contact details and own words.
        summary: the counts and the first and last day.
        days: the days with appointments, in order.
        skipped: the days passed over, with the reason, in order.
        grids: the months drawn as grids, in order; empty when the appointments are too
            sparse for grids and read as a list alone.
        issued: when the page is issued (a date, or a date and time); ``None``: not said.
        revision: the course revision the page shows; ``None``: not said.
    """

    options: CalendarOptions
    summary: Summary
    days: tuple[HandoutDay, ...]
    skipped: tuple[SkippedDay, ...]
    grids: tuple[MonthGrid, ...]
    issued: dt.date | None = None
    revision: int | None = None

    @property
    def marks(self) -> frozenset[str]:
        """The marks the grids use (for their legend)."""
        return frozenset(
            day.mark
            for grid in self.grids
            for week in grid.weeks
            for day in week
            if day and day.mark
        )

    @property
    def most(self) -> int:
        """The most sessions on one day."""
        return max((len(day.sessions) for day in self.days), default=0)


def handout(
    schedule: Schedule,
    options: CalendarOptions | None = None,
    *,
    issued: dt.date | None = None,
    revision: int | None = None,
) -> Handout:
    """The handout of ``schedule`` (see the module and
    :func:`~tms_schedule.export.html.schedule_to_html`).

    Raises:
        InvalidCalendarOptionError: ``issued`` is not a date, or ``revision`` not a whole
            number from 0 up.
    """
    if issued is not None and not isinstance(issued, dt.date):
        raise InvalidCalendarOptionError(
            f"issued: must be a date or a date and time, got {issued!r}"
        )
    if revision is not None and (
        not isinstance(revision, int) or isinstance(revision, bool) or revision < 0
    ):
        raise InvalidCalendarOptionError(
            f"revision: must be a whole number from 0 up, got {revision!r}"
        )
    by_day: dict[dt.date, list[Session]] = {}
    for session in sorted(schedule.sessions, key=lambda s: (s.start.astimezone(dt.UTC), s.number)):
        by_day.setdefault(session.start.date(), []).append(session)
    skipped = {day.date: day for day in schedule.skipped}
    return Handout(
        options=options or CalendarOptions(),
        summary=_summary(schedule),
        days=tuple(HandoutDay(day, tuple(sessions)) for day, sessions in by_day.items()),
        skipped=tuple(skipped.values()),
        grids=_grids(schedule, by_day) if _fills_grids(by_day) else (),
        issued=issued,
        revision=revision,
    )


def _summary(schedule: Schedule) -> Summary:
    kept = [s.start for s in schedule.sessions if s.status != "cancelled"]
    return Summary(
        progress=schedule.progress(),
        first=min(kept).date() if kept else None,
        last=max(kept).date() if kept else None,
        recorded=any(s.status != "scheduled" for s in schedule.sessions),
        timezone=schedule.timezone,
    )


def _fills_grids(by_day: dict[dt.date, list[Session]]) -> bool:
    """Whether the appointment days number at least eight for each month the grids would
    show (about two a week): then month grids are worth their space."""
    return bool(by_day) and len(by_day) >= _GRID_DAYS_PER_MONTH * len(months(by_day))


def _grids(schedule: Schedule, by_day: dict[dt.date, list[Session]]) -> tuple[MonthGrid, ...]:
    marks = day_marks(schedule)
    return tuple(
        MonthGrid(
            year,
            month,
            tuple(
                tuple(
                    None
                    if day is None
                    else GridDay(day, marks.get(day), tuple(by_day.get(day, ())))
                    for day in week
                )
                for week in month_weeks(year, month)
            ),
        )
        for year, month in months(marks)
    )
