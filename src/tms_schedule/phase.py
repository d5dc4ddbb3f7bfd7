"""Phases: the blocks of a protocol, each with its own cadence.

A phase is pure data, independent of dates; :mod:`tms_schedule.plan` turns it into dated
sessions. There is one class per cadence:

=================  ==========================================================================
``Daily``          one session on every open day, ``sessions`` in all (an acute course)
``Taper``          a count per week, e.g. ``per_week=(3, 2, 1)``, on spread-out days
``Weekly``         ``per_week`` sessions a week for ``weeks`` weeks, on spread-out days
``Accelerated``    ``per_day`` sessions a day, ``interval`` apart, on ``days`` consecutive days
``Periodic``       one session, or a cluster of sessions over consecutive days, every
                   ``every_weeks`` weeks, ``occurrences`` times (maintenance, boosters)
=================  ==========================================================================

Nothing here says "biweekly": a count per week is ``per_week``, a period is ``every_weeks``.
A value outside what a phase allows raises :class:`~tms_schedule.errors.InvalidProtocolError`
naming the field in words (``daily phase sessions: must be a whole number from 1 to 200``).
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, TypeAlias

import attrs

from tms_schedule._validate import duration_between, field_name, int_between, is_whole, to_minutes
from tms_schedule.errors import InvalidProtocolError

__all__ = ["Accelerated", "Daily", "Periodic", "Phase", "Taper", "Weekly"]


_MAX_SESSIONS = 200
_MAX_INTERVAL = dt.timedelta(hours=12)


def _name(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value or not value.replace("-", "").isalnum():
        field = field_name(instance, attribute)
        raise InvalidProtocolError(
            f"{field}: must be a non-empty word of letters, digits and hyphens, got {value!r}",
            field=field,
        )


def _per_week_counts(instance: object, attribute: attrs.Attribute[object], value: object) -> None:
    if (
        not isinstance(value, tuple)
        or not 1 <= len(value) <= 52
        or not all(is_whole(n) and 1 <= n <= 7 for n in value)
    ):
        field = field_name(instance, attribute)
        raise InvalidProtocolError(
            f"{field}: must be 1 to 52 weekly counts, each from 1 to 7, got {value!r}",
            field=field,
        )


def _tuple(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


@attrs.frozen
class Daily:
    """One session on every open day until ``sessions`` have been delivered.

    >>> Daily(30).sessions
    30
    """

    kind: ClassVar[str] = "acute"
    _noun: ClassVar[str] = "daily phase"  # in errors: "daily phase ..."
    sessions: int = attrs.field(validator=int_between(1, _MAX_SESSIONS, InvalidProtocolError))
    name: str = attrs.field(default="acute", validator=_name)

    @property
    def total(self) -> int:
        """Sessions this phase delivers."""
        return self.sessions


@attrs.frozen
class Taper:
    """A count of sessions per week, one count per week, on spread-out open days.

    >>> Taper((3, 2, 1)).total
    6
    """

    kind: ClassVar[str] = "taper"
    _noun: ClassVar[str] = "taper phase"  # in errors: "taper phase ..."
    per_week: tuple[int, ...] = attrs.field(converter=_tuple, validator=_per_week_counts)
    name: str = attrs.field(default="taper", validator=_name)

    @property
    def total(self) -> int:
        """Sessions this phase delivers."""
        return sum(self.per_week)


@attrs.frozen
class Weekly:
    """``per_week`` sessions a week for ``weeks`` weeks, on spread-out open days.

    >>> Weekly(per_week=2, weeks=12).total
    24
    """

    kind: ClassVar[str] = "continuation"
    _noun: ClassVar[str] = "weekly phase"  # in errors: "weekly phase ..."
    per_week: int = attrs.field(validator=int_between(1, 7, InvalidProtocolError))
    weeks: int = attrs.field(validator=int_between(1, 104, InvalidProtocolError))
    name: str = attrs.field(default="continuation", validator=_name)

    @property
    def total(self) -> int:
        """Sessions this phase delivers."""
        return self.per_week * self.weeks

    @property
    def counts(self) -> tuple[int, ...]:
        """The count for each week, as a :class:`Taper` states it."""
        return (self.per_week,) * self.weeks


@attrs.frozen
class Accelerated:
    """``per_day`` sessions a day, ``interval`` apart, on ``days`` consecutive open days.

    ``interval`` is the break between the end of one session and the start of the next (the
    "intersession interval" of the accelerated literature), so starts are one appointment
    length plus ``interval`` apart. ``consecutive`` asks for the days to be consecutive
    calendar days; a plan refuses to split such a block over a closed day unless asked to.

    >>> Accelerated(per_day=10, days=5, interval=50).total
    50
    """

    kind: ClassVar[str] = "accelerated"
    _noun: ClassVar[str] = "accelerated phase"  # in errors: "accelerated phase ..."
    per_day: int = attrs.field(validator=int_between(1, 24, InvalidProtocolError))
    days: int = attrs.field(validator=int_between(1, 30, InvalidProtocolError))
    interval: dt.timedelta = attrs.field(
        converter=to_minutes,
        validator=duration_between(dt.timedelta(0), _MAX_INTERVAL, InvalidProtocolError),
    )
    consecutive: bool = True
    name: str = attrs.field(default="accelerated", validator=_name)

    @property
    def total(self) -> int:
        """Sessions this phase delivers."""
        return self.per_day * self.days


@attrs.frozen
class Periodic:
    """One session, or a cluster of sessions, every ``every_weeks`` weeks, ``occurrences`` times.

    A cluster is ``cluster_sessions`` sessions over ``cluster_days`` consecutive open days, the
    sessions of one day ``interval`` apart (break between one session's end and the next
    start); earlier days take the larger share (5 over 2 days: 3, then 2).

    >>> Periodic(every_weeks=4, occurrences=6, cluster_sessions=5, cluster_days=2).total
    30
    """

    kind: ClassVar[str] = "maintenance"
    _noun: ClassVar[str] = "periodic phase"  # in errors: "periodic phase ..."
    every_weeks: int = attrs.field(validator=int_between(1, 52, InvalidProtocolError))
    occurrences: int = attrs.field(validator=int_between(1, 60, InvalidProtocolError))
    cluster_sessions: int = attrs.field(
        default=1, validator=int_between(1, 48, InvalidProtocolError)
    )
    cluster_days: int = attrs.field(default=1, validator=int_between(1, 7, InvalidProtocolError))
    interval: dt.timedelta = attrs.field(
        default=dt.timedelta(minutes=50),
        converter=to_minutes,
        validator=duration_between(dt.timedelta(0), _MAX_INTERVAL, InvalidProtocolError),
    )
    name: str = attrs.field(default="maintenance", validator=_name)

    def __attrs_post_init__(self) -> None:
        if self.cluster_days > self.cluster_sessions:
            raise InvalidProtocolError(
                f"periodic phase cluster_days: must not exceed cluster_sessions"
                f" ({self.cluster_sessions}), got {self.cluster_days}"
            )
        if self.cluster_days >= self.every_weeks * 7:
            raise InvalidProtocolError(
                f"periodic phase cluster_days: a cluster must be shorter than its period of"
                f" {self.every_weeks} week(s), got {self.cluster_days} days"
            )

    @property
    def total(self) -> int:
        """Sessions this phase delivers."""
        return self.occurrences * self.cluster_sessions

    @property
    def day_counts(self) -> tuple[int, ...]:
        """Sessions on each day of one cluster, earlier days first (5 over 2 days: (3, 2))."""
        base, extra = divmod(self.cluster_sessions, self.cluster_days)
        return tuple(base + (1 if i < extra else 0) for i in range(self.cluster_days))


Phase: TypeAlias = Daily | Taper | Weekly | Accelerated | Periodic
PHASE_CLASSES: tuple[type[Phase], ...] = (Daily, Taper, Weekly, Accelerated, Periodic)
