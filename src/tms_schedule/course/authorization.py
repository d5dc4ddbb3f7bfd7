"""Insurance authorizations: how many sessions an insurer approved, from when until when.

An :class:`Authorization` holds the approved count and window plus any :class:`Extension`;
:meth:`~tms_schedule.course.lifecycle.Course.check_authorization` reports in an
:class:`AuthorizationReport` each planned session beyond the count or outside the dates.
"""

from __future__ import annotations

import datetime as dt

import attrs

from tms_schedule._dates import short_moment
from tms_schedule.errors import CourseError
from tms_schedule.schedule import Session

__all__ = ["Authorization", "AuthorizationReport", "Extension"]


@attrs.frozen
class Extension:
    """More sessions approved later, optionally with a later end of the window."""

    sessions: int
    until: dt.date | None = None
    note: str | None = None

    def __attrs_post_init__(self) -> None:
        if (
            isinstance(self.sessions, bool)
            or not isinstance(self.sessions, int)
            or not 0 <= self.sessions <= 200
        ):
            raise CourseError(
                f"extension: the sessions added must be a whole number from 0 to 200,"
                f" got {self.sessions!r}"
            )


@attrs.frozen
class Authorization:
    """An insurer's approval: how many sessions, from when until when, and extensions."""

    sessions: int
    valid_from: dt.date
    valid_until: dt.date
    extensions: tuple[Extension, ...] = ()

    def __attrs_post_init__(self) -> None:
        if (
            isinstance(self.sessions, bool)
            or not isinstance(self.sessions, int)
            or not 1 <= self.sessions <= 400
        ):
            raise CourseError(
                f"authorization: the sessions approved must be a whole number from 1 to 400,"
                f" got {self.sessions!r}"
            )
        if self.valid_until < self.valid_from:
            raise CourseError(
                f"authorization: the last approved day must be on or after the first"
                f" ({self.valid_from}),"
                f" got {self.valid_until}"
            )

    @property
    def approved(self) -> int:
        """Sessions approved in all, extensions included."""
        return self.sessions + sum(e.sessions for e in self.extensions)

    @property
    def until(self) -> dt.date:
        """The last day of the window, extensions included."""
        return max([self.valid_until, *(e.until for e in self.extensions if e.until)])

    def extend(
        self, sessions: int, until: dt.date | None = None, note: str | None = None
    ) -> Authorization:
        """The authorization with an extension added."""
        if until is not None and until < self.valid_from:
            raise CourseError(
                f"extension: its last approved day must be on or after the authorization's"
                f" first ({self.valid_from}), got {until}"
            )
        return attrs.evolve(self, extensions=(*self.extensions, Extension(sessions, until, note)))


@attrs.frozen
class AuthorizationReport:
    """What :meth:`Course.check_authorization` finds."""

    approved: int
    delivered: int
    planned: int
    valid_from: dt.date
    until: dt.date
    beyond_count: tuple[Session, ...]
    outside_window: tuple[Session, ...]

    @property
    def remaining(self) -> int:
        """Approved sessions not yet delivered."""
        return self.approved - self.delivered

    @property
    def ok(self) -> bool:
        """Whether every planned session lies inside the authorization."""
        return not self.beyond_count and not self.outside_window

    def to_text(self) -> str:
        """The report in words for the front desk."""
        lines = [
            f"Authorization: {self.approved} sessions from {self.valid_from} to {self.until}",
            f"Delivered: {self.delivered}; still approved: {self.remaining};"
            f" planned still to come: {self.planned - self.delivered}",
        ]
        beyond = {s.number for s in self.beyond_count}
        outside = {s.number for s in self.outside_window}
        for s in sorted({*self.beyond_count, *self.outside_window}, key=lambda s: s.start):
            why = " and ".join(
                reason
                for reason, hit in (
                    ("beyond the approved count", s.number in beyond),
                    ("outside the approved dates", s.number in outside),
                )
                if hit
            )
            lines.append(f"Session {s.number} on {short_moment(s.start)} is {why}")
        if self.ok:
            lines.append("Every planned session is inside the authorization.")
        return "\n".join(lines) + "\n"
