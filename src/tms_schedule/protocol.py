"""Protocols: immutable recipes for a course of TMS, independent of dates.

A :class:`Protocol` is a sequence of phases (see :mod:`tms_schedule.phase`) with appointment
lengths, stimulation metadata and the sources its numbers come from. Clinics tune a built-in
protocol with :meth:`Protocol.tune` rather than redefining it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import attrs

from tms_schedule._validate import (
    check_text,
    duration_between,
    field_name,
    is_whole,
    minutes,
    to_minutes,
)
from tms_schedule.errors import InvalidProtocolError
from tms_schedule.phase import PHASE_CLASSES, Accelerated, Daily, Periodic, Phase, Taper, Weekly

__all__ = ["Protocol", "Stimulation"]

_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_MIN_LENGTH = dt.timedelta(minutes=1)
_MAX_LENGTH = dt.timedelta(hours=10)
_MAX_TOTAL = 400


def _optional_positive(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        field = field_name(instance, attribute)
        raise InvalidProtocolError(
            f"{field}: must be a positive number or unset, got {value!r}", field=field
        )


@attrs.frozen
class Stimulation:
    """What the device delivers in one session; informational, never used for dates.

    ``None`` means the sources do not give the number (see the protocol's notes).
    """

    target: str
    pattern: str
    pulses: int | None = attrs.field(default=None, validator=_optional_positive)
    minutes: float | None = attrs.field(default=None, validator=_optional_positive)


def _protocol_id(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidProtocolError(
            "protocol id: must be 1 to 64 lower-case letters, digits and hyphens, starting with"
            f" a letter or digit (like 'standard-10hz'), got {value!r}"
        )


def _display_name(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    check_text(value, "protocol name", InvalidProtocolError)


def _phases(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, tuple) or not value:
        raise InvalidProtocolError(f"protocol phases: must hold at least one phase, got {value!r}")
    for i, phase in enumerate(value):
        if not isinstance(phase, PHASE_CLASSES):
            allowed = ", ".join(cls.__name__ for cls in PHASE_CLASSES)
            raise InvalidProtocolError(
                f"protocol phases[{i}]: must be one of {allowed}, got {phase!r}"
            )
    names = [phase.name for phase in value]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidProtocolError(
            f"protocol phases: phase names must be unique, {', '.join(duplicates)} repeats;"
            " give each phase its own name"
        )


def _tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _follow_up_weeks(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, tuple) or not all(is_whole(w) and 1 <= w <= 104 for w in value):
        raise InvalidProtocolError(
            f"protocol follow_up_weeks: must be whole numbers of weeks from 1 to 104, got {value!r}"
        )


#: A chair's equipment tag: ``figure-8``, ``h1``, ``h7``, ``h4``, or the clinic's own.
EQUIPMENT_TAG = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")


def _requires(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, frozenset) or not all(
        isinstance(tag, str) and EQUIPMENT_TAG.fullmatch(tag) for tag in value
    ):
        raise InvalidProtocolError(
            "protocol requires: must be equipment tags such as 'figure-8' or 'h7' (lowercase"
            f" letters, digits and '-', at most 32), got {sorted(value, key=str) if isinstance(value, frozenset) else value!r}"
        )


def _names(value: Any) -> Any:
    return frozenset(value) if isinstance(value, list | tuple | set) else value


def _range(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


@attrs.frozen(cache_hash=True)
class Protocol:
    """A course of TMS as a recipe: phases, appointment lengths, stimulation and sources.

    Args:
        id: a stable slug such as ``"standard-10hz"``.
        name: the display name.
        phases: the phases in order; their names must be unique.
        session: the appointment (chair) length of a regular session.
        first_session: the length of session 1, which includes mapping and motor threshold.
        stimulation: what one session delivers.
        sources: the citations its numbers come from.
        notes: the uncertain numbers and the choice made for each.
        acute_range: the inclusive range :meth:`tune` accepts for the acute session count.
        optional_phases: phase names a clinic may turn off with :meth:`tune`.
        follow_up_weeks: weeks after the last session at which a follow-up rating is due
            (SNT: 1 and 4, as its trial assessed).
        requires: the equipment a chair needs to run it (all of these tags, e.g.
            ``{"h7"}``); empty: any chair.

    >>> from tms_schedule.phase import Daily
    >>> p = Protocol(id="demo", name="Demo", phases=(Daily(20),), session=40, first_session=90)
    >>> p.total_sessions, p.session
    (20, datetime.timedelta(seconds=2400))

    Raises:
        InvalidProtocolError: a field outside what is allowed (the error names it).
    """

    id: str = attrs.field(validator=_protocol_id)
    name: str = attrs.field(validator=_display_name)
    phases: tuple[Phase, ...] = attrs.field(converter=_tuple, validator=_phases)
    session: dt.timedelta = attrs.field(
        converter=to_minutes,
        validator=duration_between(_MIN_LENGTH, _MAX_LENGTH, InvalidProtocolError),
    )
    first_session: dt.timedelta = attrs.field(
        converter=to_minutes,
        validator=duration_between(_MIN_LENGTH, _MAX_LENGTH, InvalidProtocolError),
    )
    stimulation: Stimulation | None = None
    sources: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    notes: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    acute_range: tuple[int, int] | None = attrs.field(default=None, converter=_range)
    optional_phases: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    follow_up_weeks: tuple[int, ...] = attrs.field(
        default=(), converter=_tuple, validator=_follow_up_weeks
    )
    requires: frozenset[str] = attrs.field(
        default=frozenset(), converter=_names, validator=_requires
    )

    def __attrs_post_init__(self) -> None:
        if self.total_sessions > _MAX_TOTAL:
            raise InvalidProtocolError(
                f"protocol phases: a course may hold at most {_MAX_TOTAL} sessions,"
                f" got {self.total_sessions}"
            )
        names = {phase.name for phase in self.phases}
        unknown = sorted(self.optional_phases - names)
        if unknown:
            raise InvalidProtocolError(
                f"protocol optional_phases: {', '.join(unknown)} is not a phase of {self.id!r};"
                f" phases: {', '.join(sorted(names))}"
            )
        if self.acute_range is not None:
            if not any(isinstance(p, Daily) for p in self.phases):
                raise InvalidProtocolError(
                    "protocol acute_range: only a protocol with a daily (acute) phase can have one"
                )
            low_high = self.acute_range
            if (
                len(low_high) != 2
                or not all(is_whole(n) for n in low_high)
                or not 1 <= low_high[0] <= low_high[1] <= 200
            ):
                raise InvalidProtocolError(
                    f"protocol acute_range: must be (low, high) with 1 <= low <= high <= 200,"
                    f" got {low_high!r}"
                )

    @property
    def busiest_day(self) -> tuple[int, dt.timedelta | None]:
        """The most sessions one day of the course holds, and the break between them.

        >>> from tms_schedule import get_protocol
        >>> get_protocol("snt").busiest_day
        (10, datetime.timedelta(seconds=3000))
        """
        busiest: tuple[int, dt.timedelta | None] = (1, None)
        for phase in self.phases:
            if isinstance(phase, Accelerated) and phase.per_day > busiest[0]:
                busiest = (phase.per_day, phase.interval)
            if isinstance(phase, Periodic) and max(phase.day_counts) > busiest[0]:
                busiest = (max(phase.day_counts), phase.interval)
        return busiest

    @property
    def total_sessions(self) -> int:
        """Sessions the whole course delivers."""
        return sum(phase.total for phase in self.phases)

    def phase(self, name: str) -> Phase:
        """The phase called ``name``.

        Raises:
            InvalidProtocolError: the protocol has no such phase.
        """
        for phase in self.phases:
            if phase.name == name:
                return phase
        known = ", ".join(p.name for p in self.phases)
        raise InvalidProtocolError(f"phase: {self.id!r} has no phase {name!r}; phases: {known}")

    def tune(
        self,
        *,
        acute_sessions: int | None = None,
        taper: bool | None = None,
        continuation: bool | None = None,
        session: dt.timedelta | int | None = None,
        first_session: dt.timedelta | int | None = None,
        interval: dt.timedelta | int | None = None,
        per_day: int | None = None,
        occurrences: int | None = None,
        id: str | None = None,
        name: str | None = None,
    ) -> Protocol:
        """A copy with the clinic's choices; every choice is checked against what is allowed.

        Args:
            acute_sessions: sessions in the acute phase, within :attr:`acute_range`.
            taper: ``False`` drops the taper phase (only where it is optional).
            continuation: ``False`` drops the continuation phase (only where it is optional).
            session: regular appointment length (a timedelta or minutes).
            first_session: length of session 1 (mapping and motor threshold).
            interval: the break between same-day sessions (accelerated and cluster phases).
            per_day: sessions a day in the accelerated phase.
            occurrences: how many times a single periodic (maintenance) phase recurs.
            id: a new id for the tuned protocol (default: the same id).
            name: a new display name.

        >>> from tms_schedule import get_protocol
        >>> p = get_protocol("standard-10hz").tune(acute_sessions=20, taper=False)
        >>> p.total_sessions
        20

        Raises:
            InvalidProtocolError: a choice outside what the protocol allows, naming the option.
        """
        phases: list[Phase] = list(self.phases)
        if acute_sessions is not None:
            index = self._index_of(phases, Daily, "acute_sessions")
            low, high = self.acute_range or (1, 200)
            if not is_whole(acute_sessions) or not low <= acute_sessions <= high:
                raise InvalidProtocolError(
                    f"acute_sessions: {self.id!r} allows {low} to {high} acute sessions,"
                    f" got {acute_sessions!r}"
                )
            phases[index] = attrs.evolve(phases[index], sessions=acute_sessions)  # type: ignore[arg-type]
        for flag, kind, label in ((taper, Taper, "taper"), (continuation, Weekly, "continuation")):
            if flag is None or flag:
                continue
            matching = [p for p in phases if isinstance(p, kind) and p.name in self.optional_phases]
            if not matching:
                raise InvalidProtocolError(
                    f"{label}: {self.id!r} has no optional {label} phase to turn off"
                    + (
                        f"; optional phases: {', '.join(sorted(self.optional_phases))}"
                        if self.optional_phases
                        else ""
                    )
                )
            phases = [p for p in phases if p not in matching]
        if interval is not None:
            spaced = [
                i
                for i, p in enumerate(phases)
                if isinstance(p, Accelerated)
                or (isinstance(p, Periodic) and p.cluster_sessions > 1)
            ]
            if not spaced:
                raise InvalidProtocolError(
                    f"interval: {self.id!r} has no accelerated or cluster phase to space"
                )
            for i in spaced:
                phases[i] = attrs.evolve(phases[i], interval=interval)  # type: ignore[arg-type]
        if per_day is not None:
            index = self._index_of(phases, Accelerated, "per_day")
            phases[index] = attrs.evolve(phases[index], per_day=per_day)  # type: ignore[arg-type]
        if occurrences is not None:
            periodic = [i for i, p in enumerate(phases) if isinstance(p, Periodic)]
            if len(periodic) != 1:
                raise InvalidProtocolError(
                    f"occurrences: {self.id!r} must have exactly one periodic phase to tune,"
                    f" it has {len(periodic)}"
                )
            phases[periodic[0]] = attrs.evolve(phases[periodic[0]], occurrences=occurrences)  # type: ignore[arg-type]
        remaining = {p.name for p in phases}
        changes: dict[str, Any] = {
            "phases": tuple(phases),
            "optional_phases": self.optional_phases & remaining,
        }
        if session is not None:
            changes["session"] = session
        if first_session is not None:
            changes["first_session"] = first_session
        if id is not None:
            changes["id"] = id
        if name is not None:
            changes["name"] = name
        return attrs.evolve(self, **changes)

    def _index_of(self, phases: list[Phase], kind: type[Phase], option: str) -> int:
        for i, phase in enumerate(phases):
            if isinstance(phase, kind):
                return i
        raise InvalidProtocolError(
            f"{option}: {self.id!r} has no {kind.kind} phase; its phases:"
            f" {', '.join(p.name for p in self.phases)}"
        )

    def describe(self) -> str:
        """One line a person reads: the phases and appointment lengths.

        >>> from tms_schedule import get_protocol
        >>> print(get_protocol("standard-10hz").describe())
        30 daily (acute), then 3, 2, 1 a week (taper): 36 sessions; 40 min (first 90 min)
        """
        parts = [describe_phase(phase) for phase in self.phases]
        first = (
            " each"
            if self.first_session == self.session
            else f" (first {minutes(self.first_session)})"
        )
        return f"{', then '.join(parts)}: {self.total_sessions} sessions; {minutes(self.session)}{first}"


def describe_phase(phase: Phase) -> str:
    """A short phrase for one phase, e.g. ``"30 daily (acute)"``."""
    match phase:
        case Daily():
            text = f"{phase.sessions} daily"
        case Taper():
            text = f"{', '.join(map(str, phase.per_week))} a week"
        case Weekly():
            text = f"{phase.per_week} a week for {phase.weeks} weeks"
        case Accelerated():
            text = (
                f"{phase.per_day} a day, {minutes(phase.interval)} apart,"
                f" on {phase.days}{' consecutive' if phase.consecutive else ''} days"
            )
        case Periodic():
            unit = (
                "1 session"
                if phase.cluster_sessions == 1
                else f"{phase.cluster_sessions} sessions over {phase.cluster_days} days"
            )
            every = "every week" if phase.every_weeks == 1 else f"every {phase.every_weeks} weeks"
            text = f"{unit} {every}, {phase.occurrences} times"
    return f"{text} ({phase.name})"


__all__ += ["describe_phase"]
