"""Changes: what differs between two states of a course, in words for the front desk.

Each change is one line: a session moved (and why, when a re-plan moved it: "Snow day:
clinic closed"), added, missed, cancelled, taken out by a re-plan, or back in the plan
because a record was voided. Three or more sessions in a row that each move by the same
number of days read as one line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import Literal, NamedTuple

import attrs

from tms_schedule._dates import short_moment
from tms_schedule.course.record import Record
from tms_schedule.schedule import Schedule, Session

__all__ = ["Change", "Changes", "diff"]

Kind = Literal["moved", "added", "cancelled", "missed", "removed", "restored"]


@attrs.frozen
class Change:
    """One change between two states of a course, for the front desk.

    Attributes:
        kind: ``moved``, ``added``, ``missed``, ``cancelled``, ``removed`` (taken out by a
            re-plan) or ``restored`` (planned again: its record was voided).
        session: the session's number.
        old: its start before (``None`` when added).
        new: its start now (``None`` when it no longer takes place).
        detail: why, where known (a cause, a closure, a void's reason).
    """

    kind: Kind
    session: int
    old: dt.datetime | None
    new: dt.datetime | None
    detail: str | None = None
    end: dt.datetime | None = None  # a moved session's new end (shown when only it changed)

    def __str__(self) -> str:
        extra = f" ({self.detail})" if self.detail else ""
        match self.kind:
            case "moved" if self.new is not None and self.old == self.new and self.end:
                return (
                    f"Session {self.session} on {short_moment(self.new)}: now until"
                    f" {self.end:%H:%M}{extra}"
                )
            case "moved":
                assert self.old is not None and self.new is not None
                return (
                    f"Session {self.session} moved from {short_moment(self.old)} to"
                    f" {short_moment(self.new)}{extra}"
                )
            case "added":
                assert self.new is not None
                return f"Session {self.session} added on {short_moment(self.new)}{extra}"
            case "restored":
                assert self.new is not None
                return f"Session {self.session} on {short_moment(self.new)}: planned again{extra}"
            case "removed":
                assert self.old is not None
                return f"Session {self.session} on {short_moment(self.old)}: taken out{extra}"
            case _:
                assert self.old is not None
                return f"Session {self.session} on {short_moment(self.old)}: {self.kind}{extra}"

    @property
    def when(self) -> dt.datetime:
        """The time the change is listed at: the old start, or the new one when added."""
        moment = self.old or self.new
        assert moment is not None
        return moment


@attrs.frozen
class Changes:
    """What changed between a revision and the course now, in order of the sessions' dates."""

    changes: tuple[Change, ...]

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def to_text(self) -> str:
        """One line per change; a run of sessions that each move alike is one line.

        >>> Changes(()).to_text()
        'No changes.\\n'
        """
        if not self.changes:
            return "No changes.\n"
        lines: list[str] = []
        run: list[Change] = []
        for change in [*self.changes, None]:
            if change is not None and _continues(run, change):
                run.append(change)
                continue
            lines += _run_lines(run)
            run = [change] if change is not None else []
        return "\n".join(lines) + "\n"


def _shift(change: Change) -> int | None:
    """How many days a moved session moved (same time of day), else ``None``."""
    if change.kind != "moved" or change.old is None or change.new is None:
        return None
    if change.old.time() != change.new.time() or change.old.date() == change.new.date():
        return None
    return (change.new.date() - change.old.date()).days


def _continues(run: list[Change], change: Change) -> bool:
    if not run:
        return _shift(change) is not None
    last = run[-1]
    return (
        _shift(change) is not None
        and _shift(change) == _shift(last)
        and change.session == last.session + 1
        and change.detail == last.detail
    )


def _run_lines(run: list[Change]) -> list[str]:
    if len(run) < 3:
        return [str(c) for c in run]
    days = _shift(run[0])
    assert days is not None
    extra = f" ({run[0].detail})" if run[0].detail else ""
    later = f"{abs(days)} day{'s' if abs(days) != 1 else ''} {'later' if days > 0 else 'earlier'}"
    first, last = run[0], run[-1]
    assert first.old and first.new and last.old and last.new
    return [
        f"Sessions {first.session}-{last.session} each move {later}, from"
        f" {short_moment(first.old)} through {short_moment(last.old)} to"
        f" {short_moment(first.new)} through {short_moment(last.new)}{extra}"
    ]


def diff(
    before: Schedule,
    after: Schedule,
    records: Iterable[Record],
    reasons: Mapping[int, str] | None = None,
) -> Changes:
    """The changes from ``before`` to ``after``; ``records`` give causes and void reasons,
    ``reasons`` why re-plans moved or took out sessions.

    >>> diff(Schedule("c-1", "itbs", "UTC", ()), Schedule("c-1", "itbs", "UTC", ()), []).to_text()
    'No changes.\\n'
    """
    old = {s.number: s for s in before}
    why = _Why.of(list(records), reasons or {})
    changes = [change for s in after if (change := _change(old.get(s.number), s, why)) is not None]
    changes.sort(key=lambda c: (c.when.astimezone(dt.UTC), c.session))
    return Changes(tuple(changes))


class _Why(NamedTuple):
    """What the records and the re-plans say about each session, by number."""

    causes: dict[int, str | None]  # why a session was missed
    cancelled: set[int]  # cancelled by a record (not by a re-plan)
    voids: dict[int, str | None]  # the reason of a void of one of its records
    by_hand: dict[int, str]  # moved by a record: its note
    replans: Mapping[int, str]  # why a re-plan moved it or took it out

    @classmethod
    def of(cls, records: list[Record], replans: Mapping[int, str]) -> _Why:
        voided = {r.voids for r in records if r.kind == "void"}
        counting = [(i, r) for i, r in enumerate(records) if i not in voided]
        return cls(
            causes={r.session: r.cause for _, r in counting if r.kind == "missed"},
            cancelled={r.session for _, r in counting if r.kind == "cancelled"},
            voids={r.session: r.note for r in records if r.kind == "void"},
            by_hand={r.session: r.note or "by hand" for _, r in counting if r.kind == "moved"},
            replans=replans,
        )


def _change(was: Session | None, now: Session, why: _Why) -> Change | None:
    """What happened to one session between two states, if anything did."""
    if was is None:
        return (
            Change("added", now.number, None, now.start, why.replans.get(now.number))
            if now.active
            else None
        )
    if was.status != now.status:
        return _status_change(was, now, why)
    if now.active and (was.start != now.start or was.end != now.end):
        detail = why.replans.get(now.number) or why.by_hand.get(now.number)
        return Change("moved", now.number, was.start, now.start, detail, now.end)
    return None


def _status_change(was: Session, now: Session, why: _Why) -> Change | None:
    """A session whose state changed: missed, cancelled, taken out, or planned again."""
    number = now.number
    if now.status == "missed":
        return Change("missed", number, was.start, None, why.causes.get(number))
    if now.status == "cancelled" and number in why.cancelled:
        return Change("cancelled", number, was.start, None)
    if now.status == "cancelled":
        return Change("removed", number, was.start, None, why.replans.get(number))
    if now.status == "scheduled":
        detail = f"{was.status} record voided: {why.voids.get(number)}"
        return Change("restored", number, None, now.start, detail)
    return None
