"""Changes: what differs between two states of a course, in words for the front desk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Literal

import attrs

from tms_schedule._dates import short_moment
from tms_schedule.course.record import Record
from tms_schedule.schedule import Schedule

__all__ = ["Change", "Changes", "diff"]


@attrs.frozen
class Change:
    """One change between two states of a course, for the front desk."""

    kind: Literal["moved", "added", "cancelled", "missed", "attended"]
    session: int
    old: dt.datetime | None
    new: dt.datetime | None
    detail: str | None = None

    def __str__(self) -> str:
        match self.kind:
            case "moved":
                assert self.old is not None and self.new is not None
                return f"Session {self.session} moved from {short_moment(self.old)} to {short_moment(self.new)}"
            case "added":
                assert self.new is not None
                return f"Session {self.session} added on {short_moment(self.new)}"
            case _:
                assert self.old is not None
                extra = f" ({self.detail})" if self.detail else ""
                return f"Session {self.session} on {short_moment(self.old)}: {self.kind}{extra}"


@attrs.frozen
class Changes:
    """What changed between a revision and the course now."""

    changes: tuple[Change, ...]

    def __iter__(self) -> Any:
        return iter(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def to_text(self) -> str:
        """One line per change, in the order of the sessions' dates."""
        if not self.changes:
            return "No changes.\n"
        return "\n".join(str(c) for c in self.changes) + "\n"


def diff(before: Schedule, after: Schedule, records: Iterable[Record]) -> Changes:
    old = {s.number: s for s in before}
    causes = {r.session: r.cause for r in records if r.kind == "missed"}
    changes = []
    for s in after:
        was = old.get(s.number)
        if was is None:
            if s.active:
                changes.append(Change("added", s.number, None, s.start))
            continue
        if was.status != s.status and s.status in ("missed", "cancelled", "attended"):
            if s.status != "attended":
                changes.append(Change(s.status, s.number, was.start, None, causes.get(s.number)))  # type: ignore[arg-type]
            continue
        if s.active and (was.start != s.start or was.end != s.end):
            changes.append(Change("moved", s.number, was.start, s.start))
    changes.sort(key=lambda c: ((c.old or c.new).astimezone(dt.UTC), c.session))  # type: ignore[union-attr]
    return Changes(tuple(changes))
