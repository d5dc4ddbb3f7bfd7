"""Schedule: the dated sessions of a course and the days passed over.

A :class:`Schedule` is what :meth:`tms_schedule.Plan.expand` returns: an immutable, ordered
sequence of :class:`Session` objects (timezone-aware start and end) plus the
:class:`SkippedDay` records that explain each closed day the course went around.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple, overload

import attrs

from tms_schedule._conveniences import provided

if TYPE_CHECKING:
    from tms_schedule.export.options import CalendarOptions

__all__ = ["ACTIVE_STATUSES", "SESSION_STATUSES", "Progress", "Schedule", "Session", "SkippedDay"]

#: The states a session can be in. A plan yields ``scheduled`` sessions; a course records
#: them ``attended`` or ``missed``, and marks them ``cancelled`` when they will not happen.
SESSION_STATUSES = ("scheduled", "attended", "missed", "cancelled")
#: The states in which a session still counts towards the course (delivered or to come).
ACTIVE_STATUSES = ("scheduled", "attended")


class Session(NamedTuple):
    """One dated session of a course: an immutable record.

    A course of 36 sessions builds 36 of these each time it is expanded, so the record is
    a named tuple: it builds in about a third of the time of a frozen attrs class (175 ns
    against 490 ns, measured for ``benchmarks/bench_expand.py``). Derive a changed copy
    with :meth:`evolve`.

    Attributes:
        number: position in the course, from 1.
        phase: the name of the protocol phase (``"acute"``, ``"taper"``, ...).
        phase_number: position within the phase, from 1.
        start: timezone-aware start, in the clinic's zone.
        end: timezone-aware end.
        status: ``"scheduled"``, ``"attended"``, ``"missed"`` or ``"cancelled"``.
        sequence: the revision counter calendar files carry (iCalendar SEQUENCE): it rises
            when what every calendar shows changes (the time, the status).
        cpt: the billing code of the session, when a course has assigned one.
        milestones: what is due at the session ("PHQ-9 due", ...), when a course says.
        renumbered: how many times the session's place in the course ("3 of 36") changed
            while nothing else did; only a calendar that shows the place (numbered titles)
            adds it to SEQUENCE.
    """

    number: int
    phase: str
    phase_number: int
    start: dt.datetime
    end: dt.datetime
    status: str = "scheduled"
    sequence: int = 0
    cpt: str | None = None
    milestones: tuple[str, ...] = ()
    renumbered: int = 0

    @property
    def date(self) -> dt.date:
        """The local date of the session."""
        return self.start.date()

    @property
    def active(self) -> bool:
        """Whether the session counts towards the course: delivered, or still to come."""
        return self.status in ACTIVE_STATUSES

    @property
    def duration(self) -> dt.timedelta:
        """The appointment length (elapsed time, whatever DST does)."""
        return self.end.astimezone(dt.UTC) - self.start.astimezone(dt.UTC)

    def evolve(self, **changes: Any) -> Session:
        """A copy with ``changes`` applied, as :func:`attrs.evolve` does for the other classes.

        >>> import datetime as dt
        >>> start = dt.datetime(2026, 11, 16, 9, tzinfo=dt.UTC)
        >>> Session(1, "acute", 1, start, start).evolve(status="attended").status
        'attended'
        """
        return self._replace(**changes)


@attrs.frozen(slots=True)
class SkippedDay:
    """A day the course went around, and why ("Thanksgiving Day: clinic closed")."""

    date: dt.date
    reason: str
    phase: str | None = None

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.reason}"


@attrs.frozen
class Progress:
    """Where a course stands, in the counts the front desk and insurers use.

    Attributes:
        target: the sessions the course delivers (the protocol's count).
        delivered: sessions attended.
        missed: sessions recorded missed.
        cancelled: sessions cancelled.
        to_come: sessions planned and not yet recorded.
    """

    target: int
    delivered: int
    missed: int
    cancelled: int
    to_come: int

    @property
    def owed(self) -> int:
        """Sessions the course still needs planned (misses not yet made up by a re-plan)."""
        return max(self.target - self.delivered - self.to_come, 0)

    @property
    def made_up(self) -> int:
        """Missed and cancelled sessions already planned again."""
        return max(self.missed + self.cancelled - self.owed, 0)

    def __str__(self) -> str:
        """``36 sessions: 2 delivered, 34 to come; 3 missed (all made up)``: delivered and
        to come add up to the count, less what is not made up yet."""
        return f"{self.target} sessions: {self.describe()}"

    def describe(self, delivered: str = "delivered", *, advice: bool = True) -> str:
        """The counts without the total: ``2 delivered, 34 to come; 3 missed (all made
        up)`` (``delivered`` is the word for attended sessions; ``advice`` adds "re-plan"
        when some are not made up yet)."""
        text = f"{self.delivered} {delivered}, {self.to_come} to come"
        lost = []
        if self.missed:
            lost.append(f"{self.missed} missed")
        if self.cancelled:
            lost.append(f"{self.cancelled} cancelled")
        if not lost:
            return text
        if self.owed:
            state = f"{self.owed} not made up yet" + (": re-plan" if advice else "")
        else:
            state = "made up" if self.missed + self.cancelled == 1 else "all made up"
        return f"{text}; {' and '.join(lost)} ({state})"


@attrs.frozen
class Schedule:
    """The dated sessions of one course, in order, and the days passed over.

    Attributes:
        course_id: the caller's opaque id for the course (never a patient identifier).
        protocol_id: the protocol the schedule was expanded from.
        timezone: the IANA zone of the clinic; every start and end is in it.
        sessions: the sessions, sorted by start.
        skipped: the closed days the course went around, sorted by date.
        target: the sessions the course delivers (its protocol's count); ``None`` when not
            known (a schedule read from a file without it): then the sessions attended or
            to come.
    """

    course_id: str
    protocol_id: str
    timezone: str
    sessions: tuple[Session, ...]
    skipped: tuple[SkippedDay, ...] = ()
    target: int | None = None

    def progress(self) -> Progress:
        """The counts: delivered, missed, cancelled, to come, against the target.

        >>> import datetime as dt
        >>> from tms_schedule import ClinicCalendar, Plan
        >>> schedule = Plan("itbs", ClinicCalendar("UTC"), "2026-11-16", "09:00", "c-1").expand()
        >>> print(schedule.progress())
        30 sessions: 0 delivered, 30 to come
        """
        counts = dict.fromkeys(SESSION_STATUSES, 0)
        for session in self.sessions:
            counts[session.status] += 1
        delivered, to_come = counts["attended"], counts["scheduled"]
        return Progress(
            target=self.target if self.target is not None else delivered + to_come,
            delivered=delivered,
            missed=counts["missed"],
            cancelled=counts["cancelled"],
            to_come=to_come,
        )

    def __len__(self) -> int:
        return len(self.sessions)

    def __iter__(self) -> Iterator[Session]:
        return iter(self.sessions)

    @overload
    def __getitem__(self, index: int) -> Session: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Session, ...]: ...
    def __getitem__(self, index: int | slice) -> Session | tuple[Session, ...]:
        return self.sessions[index]

    @property
    def first(self) -> Session:
        """The first session."""
        return self.sessions[0]

    @property
    def last(self) -> Session:
        """The last session."""
        return self.sessions[-1]

    def active_sessions(self) -> tuple[Session, ...]:
        """The sessions that count towards the course: attended or still scheduled."""
        return tuple(s for s in self.sessions if s.active)

    def phases(self) -> list[str]:
        """The phase names in the order they occur."""
        return list(dict.fromkeys(s.phase for s in self.sessions))

    def in_phase(self, phase: str) -> tuple[Session, ...]:
        """The sessions of one phase."""
        return tuple(s for s in self.sessions if s.phase == phase)

    def on(self, day: dt.date) -> tuple[Session, ...]:
        """The sessions on a local date."""
        return tuple(s for s in self.sessions if s.start.date() == day)

    def to_json(self, *, indent: int | None = 2, uid_key: str | bytes | None = None) -> str:
        """The schedule as JSON text (see :mod:`tms_schedule.export.json`)."""
        return str(provided("schedule_to_json")(self, indent=indent, uid_key=uid_key))

    def to_csv(self, *, uid_key: str | bytes | None = None) -> str:
        """One row per session (see :mod:`tms_schedule.export.csv`)."""
        return str(provided("schedule_to_csv")(self, uid_key=uid_key))

    def to_ics(
        self, *, stamp: dt.datetime, options: CalendarOptions | None = None, **choices: Any
    ) -> bytes:
        """The schedule as an iCalendar file (see :mod:`tms_schedule.export.ics`).

        ``choices`` are :class:`~tms_schedule.export.options.CalendarOptions` fields, e.g.
        ``clinic_name="Example Clinic"``; ``stamp`` is the export time.
        """
        if choices:
            options = attrs.evolve(options, **choices) if options else _options(**choices)
        return bytes(provided("schedule_to_ics")(self, options, stamp=stamp))

    def to_text(self) -> str:
        """The sessions by week, month grids and the skipped days, for the front desk."""
        return str(provided("schedule_to_text")(self))

    def to_html(
        self,
        options: CalendarOptions | None = None,
        *,
        issued: dt.date | None = None,
        revision: int | None = None,
        **choices: Any,
    ) -> str:
        """The schedule as a printable handout page (see :mod:`tms_schedule.export.html`).

        ``issued`` (the date the page is handed out) and ``revision`` (the course's) are
        printed on every page; ``choices`` are
        :class:`~tms_schedule.export.options.CalendarOptions` fields, e.g.
        ``clinic_name="Example Clinic"``.
        """
        if choices:
            options = attrs.evolve(options, **choices) if options else _options(**choices)
        return str(provided("schedule_to_html")(self, options, issued=issued, revision=revision))


def _options(**choices: Any) -> CalendarOptions:
    """Calendar options from their fields (the class lives with the exports, a layer up)."""
    options: CalendarOptions = provided("calendar_options")(**choices)
    return options
