"""Insurance authorizations: how many sessions an insurer approved, from when until when.

An :class:`Authorization` holds the approved count and window plus any :class:`Extension`;
:meth:`~tms_schedule.course.lifecycle.Course.check_authorization` reports in an
:class:`AuthorizationReport` each planned session beyond the count or outside the dates.

An authorization can be **staged**: approved for N sessions, with a decision at session N
by the rating (:class:`StagedAuthorization`). Medicare's billing article A57692 for LCD
L37086 is the documented example, :data:`MEDICARE_A57692`: 20 sessions, then remission
gives a 5-session taper, at least 25% improvement 10 more sessions and a 6-session taper,
anything else stops the course. The course marks the decision session, warns
``warn_sessions`` ahead that a rating and a renewal request are due, and
:func:`tms_schedule.course.decisions.decide` applies the decision with the rating that
supports it. Clinics set their payers' stages in the clinic file (``[[authorizations]]``,
:func:`staged_from_table`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any, Literal

import attrs

from tms_schedule._dates import short_moment
from tms_schedule._validate import check_text
from tms_schedule.clinic import EARLIEST_DATE, LATEST_DATE
from tms_schedule.errors import ConfigError, CourseError
from tms_schedule.plan import COURSE_HORIZON_DAYS
from tms_schedule.schedule import Session

if TYPE_CHECKING:
    from tms_schedule._toml import TomlTable

__all__ = [
    "MEDICARE_A57692",
    "OUTCOMES",
    "Authorization",
    "AuthorizationReport",
    "Continuation",
    "Decision",
    "Extension",
    "StagedAuthorization",
    "staged_from_table",
]

#: The outcomes of a decision, in the order they are tried.
OUTCOMES = ("remission", "improved", "otherwise")
_PAYER = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


def _counts(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


@attrs.frozen
class Continuation:
    """What follows a decision: more sessions of the daily phase, then a taper; or a stop.

    Args:
        more: further sessions of the daily (acute) phase.
        taper: the taper after them, sessions a week (``(3, 2, 1)``).
        stop: the course ends after the decision session.
    """

    more: int = 0
    taper: tuple[int, ...] = attrs.field(default=(), converter=_counts)
    stop: bool = False

    def __attrs_post_init__(self) -> None:
        if (
            isinstance(self.more, bool)
            or not isinstance(self.more, int)
            or not 0 <= self.more <= 100
        ):
            raise CourseError(f"more: must be a whole number from 0 to 100, got {self.more!r}")
        if (
            not all(
                isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 7 for n in self.taper
            )
            or len(self.taper) > 12
        ):
            raise CourseError(
                f"taper: must be up to 12 weekly counts from 1 to 7, got {list(self.taper)!r}"
            )
        if self.stop and (self.more or self.taper):
            raise CourseError("stop: a continuation that stops gives no more sessions or taper")
        if not self.stop and not self.taper:
            raise CourseError(
                "taper: a continuation that goes on gives a taper (sessions a week); to end"
                " the course after the decision, say stop"
            )

    @property
    def sessions(self) -> int:
        """The sessions it approves."""
        return self.more + sum(self.taper)

    def describe(self) -> str:
        """``10 more sessions and a 6-session taper``, ``a 5-session taper``, ``stop``."""
        if self.stop:
            return "stop"
        taper = f"a {sum(self.taper)}-session taper"
        return f"{self.more} more sessions and {taper}" if self.more else taper


@attrs.frozen
class StagedAuthorization:
    """A payer's staged approval: ``sessions`` first, then a decision by the rating.

    Args:
        payer: the id the clinic file and the command line use (``medicare-a57692``).
        name: the payer's words for it, shown to the front desk.
        sessions: approved before the decision; the decision is at that session.
        remission: what follows when the decision rating is in remission.
        improved: what follows at least ``improvement_percent`` improvement from baseline.
        otherwise: what follows anything else (by default: stop).
        improvement_percent: the improvement ``improved`` needs (Medicare: 25).
        warn_sessions: the front desk is warned this many sessions ahead that a rating
            and a renewal request are due.
    """

    payer: str
    name: str
    sessions: int
    remission: Continuation
    improved: Continuation
    otherwise: Continuation = attrs.Factory(lambda: Continuation(stop=True))
    improvement_percent: int = 25
    warn_sessions: int = 5

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.payer, str) or not _PAYER.fullmatch(self.payer):
            raise CourseError(
                "payer: must be 1 to 64 lower-case letters, digits and hyphens, like"
                f" 'medicare-a57692', got {self.payer!r}"
            )
        if not isinstance(self.name, str) or not self.name.strip() or len(self.name) > 200:
            raise CourseError(f"name: must be a text of 1 to 200 characters, got {self.name!r}")
        for field, low, high in (
            ("sessions", 1, 400),
            ("improvement_percent", 1, 100),
            ("warn_sessions", 0, 50),
        ):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise CourseError(
                    f"{field}: must be a whole number from {low} to {high}, got {value!r}"
                )
        for field in OUTCOMES:
            if not isinstance(getattr(self, field), Continuation):
                raise CourseError(f"{field}: must be a Continuation, got {getattr(self, field)!r}")

    def continuation(self, outcome: str) -> Continuation:
        """What follows ``outcome`` (one of :data:`OUTCOMES`)."""
        if outcome not in OUTCOMES:
            raise CourseError(f"outcome: must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
        result: Continuation = getattr(self, outcome)
        return result

    def describe(self) -> str:
        """The rule in one sentence, for the front desk."""
        return (
            f"{self.name}: {self.sessions} sessions, then by the rating: remission,"
            f" {self.remission.describe()}; at least {self.improvement_percent}% improvement,"
            f" {self.improved.describe()}; otherwise, {self.otherwise.describe()}"
        )


#: Medicare's billing article A57692 for LCD L37086: up to 20 visits over 4 weeks, then a
#: 5-visit taper for remission; with at least 25% improvement 10 more visits and a 6-visit
#: taper; otherwise the course stops. The taper's weeks are the library's choice (the
#: article gives counts only): 2, 2, 1 and 3, 2, 1 a week.
MEDICARE_A57692 = StagedAuthorization(
    payer="medicare-a57692",
    name="Medicare A57692 (LCD L37086)",
    sessions=20,
    remission=Continuation(taper=(2, 2, 1)),
    improved=Continuation(more=10, taper=(3, 2, 1)),
    otherwise=Continuation(stop=True),
    improvement_percent=25,
    warn_sessions=5,
)


@attrs.frozen
class Decision:
    """A staged authorization's decision, as applied.

    Attributes:
        outcome: ``remission``, ``improved`` or ``otherwise``.
        rating: the rating that supports it, in words (``PHQ-9 4 on 2026-12-11``).
        reason: the outcome against baseline, in words.
        decided: when it was applied (the caller's clock).
    """

    outcome: str
    rating: str
    reason: str
    decided: dt.datetime

    def __attrs_post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise CourseError(
                f"outcome: must be one of {', '.join(OUTCOMES)}, got {self.outcome!r}"
            )


def _check_day(value: object, what: str) -> None:
    # An insurer's dates are near the course's: a day centuries away is a typing slip.
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise CourseError(f"{what} must be a date, got {value!r}")
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise CourseError(f"{what} must be from {EARLIEST_DATE} to {LATEST_DATE}, got {value}")


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
        if self.until is not None:
            _check_day(self.until, "extension: the new last day")
        if self.note is not None:
            check_text(self.note, "note", CourseError, limit=1000, lines=True, blank=True)


@attrs.frozen
class Authorization:
    """An insurer's approval: how many sessions, from when until when, and extensions.

    ``staged``: the payer's stages (a decision at session ``staged.sessions``);
    ``decision``: the decision once applied (its sessions are an extension).
    """

    sessions: int
    valid_from: dt.date
    valid_until: dt.date
    extensions: tuple[Extension, ...] = ()
    staged: StagedAuthorization | None = None
    decision: Decision | None = None

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
        _check_day(self.valid_from, "authorization: the first approved day")
        _check_day(self.valid_until, "authorization: the last approved day")
        if self.valid_until < self.valid_from:
            raise CourseError(
                f"authorization: the last approved day must be on or after the first"
                f" ({self.valid_from}),"
                f" got {self.valid_until}"
            )
        if (self.valid_until - self.valid_from).days > COURSE_HORIZON_DAYS:
            raise CourseError(
                f"authorization: the approved window may last at most {COURSE_HORIZON_DAYS}"
                f" days (as long as a course may), got {self.valid_from} to {self.valid_until}"
            )
        if self.staged is not None and self.staged.sessions != self.sessions:
            raise CourseError(
                f"authorization: a staged authorization approves {self.staged.sessions}"
                f" sessions before its decision ({self.staged.name}), got {self.sessions}"
            )
        if self.decision is not None and self.staged is None:
            raise CourseError("decision: only a staged authorization has a decision")

    @property
    def decision_due(self) -> bool:
        """Whether a staged decision is still to be made."""
        return self.staged is not None and self.decision is None

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
    #: A staged authorization's decision still to come: what it is, in words.
    decision_due: str | None = None

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
        if self.decision_due:
            lines.append(self.decision_due)
        if self.ok:
            lines.append("Every planned session is inside the authorization.")
        return "\n".join(lines) + "\n"


def staged_from_table(table: TomlTable) -> dict[str, StagedAuthorization]:
    """The ``[[authorizations]]`` of a clinic file, by payer id, with
    :data:`MEDICARE_A57692` (a clinic may replace it under the same id).

    Each table has ``payer``, ``name``, ``sessions``, optionally ``improvement_percent``
    and ``warn_sessions``, and three tables ``remission``, ``improved`` and ``otherwise``
    of ``more`` (sessions), ``taper`` (a list of weekly counts) or ``stop = true``::

        [[authorizations]]
        payer = "medicare-a57692"
        name = "Medicare A57692 (LCD L37086)"
        sessions = 20
        remission = { taper = [2, 2, 1] }
        improved = { more = 10, taper = [3, 2, 1] }
        otherwise = { stop = true }
    """
    result = {MEDICARE_A57692.payer: MEDICARE_A57692}
    entries = table.get("authorizations", [])
    where = table.where("authorizations")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(f"{where}: must be an array of tables written [[authorizations]]")
    named: set[str] = set()
    for i, raw in enumerate(entries):
        entry = table.child(f"authorizations[{i}]", raw)
        entry.check_keys(
            {"payer", "name", "sessions", "improvement_percent", "warn_sessions", *OUTCOMES}
        )
        kwargs: dict[str, Any] = {
            "payer": entry.require("payer", str),
            "name": entry.require("name", str),
            "sessions": entry.typed("sessions", "int", required=True),
        }
        for key in ("improvement_percent", "warn_sessions"):
            if key in entry:
                kwargs[key] = entry.typed(key, "int")
        for key in OUTCOMES:
            if key not in entry and key != "otherwise":
                raise ConfigError(f"{entry.where(key)}: required (more, taper, or stop = true)")
            if key in entry:
                kwargs[key] = _continuation(entry.child(key, entry.require(key, dict)))
        try:
            staged = StagedAuthorization(**kwargs)
        except CourseError as error:
            raise ConfigError(f"{entry.where()}: {error}") from None
        if staged.payer in named:
            raise ConfigError(f"{entry.where('payer')}: {staged.payer!r} is given twice")
        named.add(staged.payer)
        result[staged.payer] = staged
    return result


def _continuation(entry: TomlTable) -> Continuation:
    entry.check_keys({"more", "taper", "stop"})
    try:
        return Continuation(
            more=entry.typed("more", "int") or 0,
            taper=tuple(entry.typed("taper", "int-list") or ()),
            stop=bool(entry.typed("stop", "bool")),
        )
    except CourseError as error:
        raise ConfigError(f"{entry.where()}: {error}") from None


def outcome_name(
    staged: StagedAuthorization, remission: bool | None, improved_by: float | None
) -> Literal["remission", "improved", "otherwise"]:
    """Which outcome a rating gives: remission first, then the improvement, else otherwise."""
    if remission:
        return "remission"
    if improved_by is not None and improved_by >= staged.improvement_percent:
        return "improved"
    return "otherwise"


__all__ += ["outcome_name"]
