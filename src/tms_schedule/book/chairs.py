"""Chairs, the clinic's limit on sessions at once, and stretches when a chair is out.

A *chair* is a treatment room with its device and coils: what it can run (equipment tags
matched against a protocol's :attr:`~tms_schedule.protocol.Protocol.requires`), its own
service days, and the turnover between two patients. One session per chair at a time.

>>> chair = Chair("c1", "Chair 1", runs=("figure-8",))
>>> from tms_schedule import get_protocol
>>> chair.can_run(get_protocol("standard-10hz")), chair.can_run(get_protocol("deep-tms-h7-ocd"))
(True, False)
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import attrs

from tms_schedule._validate import check_text, duration_between, to_minutes
from tms_schedule.clinic import Closure, OpeningHours
from tms_schedule.errors import InvalidChairError
from tms_schedule.protocol import EQUIPMENT_TAG, Protocol

__all__ = ["CHAIR_ID", "Chair", "Outage", "StaffLimit"]

#: A chair id: letters, digits, ``.``, ``_`` and ``-``, at most 32.
CHAIR_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_WEEK = tuple(range(7))


def _chair_id(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not CHAIR_ID.fullmatch(value):
        raise InvalidChairError(
            f"{attribute.name}: a chair id is letters, digits, '.', '_' and '-' (at most 32),"
            f" got {value!r}"
        )


def _label(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        check_text(value, "label", InvalidChairError, limit=60)


def _tags(value: Any) -> Any:
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(value) if isinstance(value, list | tuple | set | frozenset) else value


def _runs(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, frozenset) or not all(
        isinstance(tag, str) and EQUIPMENT_TAG.fullmatch(tag) for tag in value
    ):
        raise InvalidChairError(
            "runs: must be equipment tags such as 'figure-8', 'h1', 'h7' (lowercase letters,"
            f" digits and '-'), got {value!r}"
        )


def _closures(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _check_closures(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, tuple) or not all(isinstance(c, Closure) for c in value):
        raise InvalidChairError(f"closures: must be Closure days, got {value!r}")
    if len(value) > 2000:
        raise InvalidChairError(f"closures: a chair takes at most 2000 closures, got {len(value)}")


@attrs.frozen(cache_hash=True)
class Chair:
    """A treatment chair (room, device and coils).

    Args:
        id: the chair's id, as settings files and the day sheet name it.
        label: what people call it ("Chair 2", "Room B"); default the id.
        runs: the equipment tags it has (``figure-8`` by default); it runs a protocol that
            requires a subset of them.
        turnover: the time between two patients on it (default 5 minutes, 0 to 2 hours).
        closures: its own service days (the clinic is open; this chair is not).
    """

    id: str = attrs.field(validator=_chair_id)
    label: str | None = attrs.field(default=None, validator=_label)
    runs: frozenset[str] = attrs.field(
        default=frozenset({"figure-8"}), converter=_tags, validator=_runs
    )
    turnover: dt.timedelta = attrs.field(
        default=dt.timedelta(minutes=5),
        converter=to_minutes,
        validator=duration_between(dt.timedelta(0), dt.timedelta(hours=2), InvalidChairError),
    )
    closures: tuple[Closure, ...] = attrs.field(
        default=(), converter=_closures, validator=_check_closures
    )

    @property
    def name(self) -> str:
        """The label, or the id when it has none."""
        return self.label or self.id

    def can_run(self, protocol: Protocol) -> bool:
        """Whether the chair has all the equipment ``protocol`` requires."""
        return protocol.requires <= self.runs

    def closed_on(self, day: dt.date) -> str | None:
        """Why the chair is out on ``day`` (a service day), or ``None``."""
        for closure in self.closures:
            if closure.start <= day <= closure.end:
                return closure.reason
        return None


def _weekdays(value: Any) -> Any:
    return tuple(sorted(set(value))) if isinstance(value, list | tuple | set | range) else value


def _hours(value: Any) -> Any:
    return OpeningHours.parse(value, "hours") if isinstance(value, str) else value


@attrs.frozen
class StaffLimit:
    """At most ``sessions`` sessions at once (technicians on shift), in ``hours`` of the
    ``weekdays`` (default: all day, every day).

    >>> StaffLimit(2, "07:00-09:00").applies(dt.date(2026, 11, 16))
    True
    """

    sessions: int = attrs.field()
    hours: OpeningHours | None = attrs.field(default=None, converter=_hours)
    weekdays: tuple[int, ...] = attrs.field(default=_WEEK, converter=_weekdays)

    @sessions.validator
    def _sessions(self, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
            raise InvalidChairError(
                f"sessions: the limit of sessions at once must be from 1 to 100, got {value!r}"
            )

    def __attrs_post_init__(self) -> None:
        if self.hours is not None and not isinstance(self.hours, OpeningHours):
            raise InvalidChairError(f"hours: must be hours like '07:00-09:00', got {self.hours!r}")
        if (
            not isinstance(self.weekdays, tuple)
            or not self.weekdays
            or not all(isinstance(d, int) and 0 <= d <= 6 for d in self.weekdays)
        ):
            raise InvalidChairError(
                f"weekdays: must be weekday numbers from 0 (Monday) to 6, got {self.weekdays!r}"
            )

    def applies(self, day: dt.date) -> bool:
        """Whether the limit holds on ``day`` (at least in its hours)."""
        return day.weekday() in self.weekdays


def _aware(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise InvalidChairError(
            f"{attribute.name}: must be a timezone-aware date and time, got {value!r}"
        )


@attrs.frozen
class Outage:
    """A stretch of time when one chair (``chair``) or every chair (``None``) cannot be
    used, inside days the clinic is open: a broken coil for an afternoon, a staff meeting.

    Whole days the clinic is closed are :class:`~tms_schedule.clinic.Closure` days of the
    clinic calendar instead; whole days one chair is out are the chair's ``closures``.
    """

    start: dt.datetime = attrs.field(validator=_aware)
    end: dt.datetime = attrs.field(validator=_aware)
    reason: str = attrs.field(default="Chair out of service")
    chair: str | None = attrs.field(default=None)

    def __attrs_post_init__(self) -> None:
        if not self.start < self.end:
            raise InvalidChairError(
                f"end: must be after start ({self.start.isoformat()}), got {self.end.isoformat()}"
            )
        if self.end - self.start > dt.timedelta(days=3 * 366):
            raise InvalidChairError("end: an outage may last at most three years")
        if not isinstance(self.reason, str) or not self.reason.strip() or len(self.reason) > 200:
            raise InvalidChairError(
                f"reason: must be a short text (1 to 200 characters), got {self.reason!r}"
            )
        if self.chair is not None and (
            not isinstance(self.chair, str) or not CHAIR_ID.fullmatch(self.chair)
        ):
            raise InvalidChairError(f"chair: must be a chair id, got {self.chair!r}")

    def covers(self, chair: str, start: dt.datetime, end: dt.datetime) -> bool:
        """Whether a session on ``chair`` from ``start`` to ``end`` falls in the outage."""
        return (self.chair is None or self.chair == chair) and start < self.end and self.start < end
