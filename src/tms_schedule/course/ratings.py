"""Ratings: the scores of a rating scale against their dates, and what clinics and payers
decide on.

A :class:`Rating` is one score of one :class:`Scale` on one day (optionally at a session).
:func:`outcome` compares the latest score with the baseline (the first) of the same scale,
as payers ask for the same scale throughout a course: the change, the reduction in percent,
**response** (a reduction of at least 50%), **remission** (a score under the scale's
threshold: PHQ-9 under 5) and **improvement** (a reduction of at least 25%, what Medicare's
article A57692 asks for to extend a course).

Ratings belong to the course's clinical record: ``course show``, the course's JSON export
and its history show them. They never reach calendar files, feeds, CalDAV or FHIR.

>>> import datetime as dt
>>> baseline = Rating(SCALES["PHQ-9"], 18, dt.date(2026, 11, 16))
>>> later = Rating(SCALES["PHQ-9"], 8, dt.date(2026, 12, 14))
>>> print(outcome([baseline, later]))
PHQ-9 18 on 2026-11-16 to 8 on 2026-12-14: -10 (56% lower); response; not in remission
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from tms_schedule.errors import ConfigError, CourseError

if TYPE_CHECKING:
    from tms_schedule._toml import TomlTable

__all__ = [
    "IMPROVEMENT_PERCENT",
    "RESPONSE_PERCENT",
    "SCALES",
    "Rating",
    "RatingOutcome",
    "Scale",
    "counting",
    "outcome",
    "scales_from_table",
]

#: A reduction from baseline of at least this much is a response.
RESPONSE_PERCENT = 50
#: A reduction from baseline of at least this much is the improvement insurers ask for to
#: extend a course (Medicare's billing article A57692 for LCD L37086).
IMPROVEMENT_PERCENT = 25
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._()+/-]{0,39}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _whole(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise CourseError(f"{field}: must be a whole number from {low} to {high}, got {value!r}")
    return value


@attrs.frozen
class Scale:
    """A rating scale: its name, the range of its scores, and where remission begins.

    Args:
        name: as the clinic writes it (``PHQ-9``, ``HAM-D-17``, ``MADRS``).
        low, high: the lowest and highest score; higher scores are worse.
        remission_below: a score under this is remission (PHQ-9: 5); ``None``: the clinic
            has not set one, so remission is not judged.

    >>> Scale("HAM-D-17", 0, 52, remission_below=8).remission(7)
    True
    """

    name: str
    low: int
    high: int
    remission_below: int | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise CourseError(
                "scale: the name must be 1 to 40 letters, digits, spaces and . _ ( ) + / -,"
                f" like 'PHQ-9', got {self.name!r}"
            )
        _whole(self.low, "scale.low", 0, 1000)
        _whole(self.high, "scale.high", self.low + 1, 1000)
        if self.remission_below is not None:
            _whole(self.remission_below, "scale.remission_below", self.low + 1, self.high)

    def check(self, score: Any) -> int:
        """``score`` if it is a score of this scale; otherwise :class:`CourseError`."""
        return _whole(score, f"score: a {self.name} score", self.low, self.high)

    def remission(self, score: int) -> bool | None:
        """Whether ``score`` is remission (``None``: the scale has no threshold set)."""
        return None if self.remission_below is None else score < self.remission_below


#: The scales the library knows without a clinic naming them: PHQ-9, 0 to 27, remission
#: under 5. Others (HAM-D, MADRS, BDI-II, QIDS...) are the clinic's to name, with their
#: range and threshold (:func:`scales_from_table`, ``[[scales]]`` in the clinic file).
SCALES: Mapping[str, Scale] = {"PHQ-9": Scale("PHQ-9", 0, 27, remission_below=5)}


@attrs.frozen
class Rating:
    """One score of a rating scale, on one day, optionally at a session of the course.

    Attributes:
        scale: the scale it was rated on.
        score: the score, within the scale's range.
        date: the day it was rated.
        session: the course's session it was rated at (``None``: between sessions).
        note: free text for the clinic (never in calendar files).
        recorded: when it was entered (the caller's clock).
        voided: why it was taken back (entered by mistake); a voided rating stays in the
            history and counts for nothing.
    """

    scale: Scale
    score: int
    date: dt.date
    session: int | None = None
    note: str | None = None
    recorded: dt.datetime | None = None
    voided: str | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.scale, Scale):
            raise CourseError(f"scale: must be a Scale, got {self.scale!r}")
        self.scale.check(self.score)
        if isinstance(self.date, dt.datetime) or not isinstance(self.date, dt.date):
            raise CourseError(f"date: must be a date, got {self.date!r}")
        if self.session is not None:
            _whole(self.session, "session", 1, 100_000)
        for field in ("note", "voided"):
            value = getattr(self, field)
            if value is not None and (
                not isinstance(value, str) or len(value) > 1000 or _CONTROL.search(value)
            ):
                raise CourseError(f"{field}: must be plain text of at most 1000 characters")
        if self.voided is not None and not self.voided.strip():
            raise CourseError("reason: say why the rating is voided")
        if self.recorded is not None and (
            not isinstance(self.recorded, dt.datetime) or self.recorded.utcoffset() is None
        ):
            raise CourseError(
                f"recorded: must be a date and time with its time zone, got {self.recorded!r}"
            )

    def __str__(self) -> str:
        at = f" (session {self.session})" if self.session is not None else ""
        return f"{self.scale.name} {self.score} on {self.date.isoformat()}{at}"


@attrs.frozen
class RatingOutcome:
    """The latest score of a scale against its baseline, in the terms clinics and payers use.

    Attributes:
        baseline: the first rating of the scale (that counts).
        latest: the latest one (the baseline itself when there is only one).
    """

    baseline: Rating
    latest: Rating

    @property
    def scale(self) -> Scale:
        """The scale both are rated on."""
        return self.baseline.scale

    @property
    def change(self) -> int:
        """Latest less baseline: negative is better."""
        return self.latest.score - self.baseline.score

    @property
    def reduction(self) -> float | None:
        """The reduction from baseline in percent (``None`` with a baseline of 0)."""
        if self.baseline.score == 0:
            return None
        return -100 * self.change / self.baseline.score

    @property
    def response(self) -> bool:
        """A reduction of at least :data:`RESPONSE_PERCENT` (50%)."""
        return self.improved_by(RESPONSE_PERCENT)

    @property
    def improved(self) -> bool:
        """A reduction of at least :data:`IMPROVEMENT_PERCENT` (25%)."""
        return self.improved_by(IMPROVEMENT_PERCENT)

    @property
    def remission(self) -> bool | None:
        """The latest score under the scale's threshold (``None``: none set)."""
        return self.scale.remission(self.latest.score)

    def improved_by(self, percent: int) -> bool:
        """Whether the score fell by at least ``percent`` of the baseline."""
        reduction = self.reduction
        return reduction is not None and reduction >= percent

    def to_data(self) -> dict[str, Any]:
        """As plain data (the course's JSON export)."""
        reduction = self.reduction
        return {
            "scale": self.scale.name,
            "baseline": {"score": self.baseline.score, "date": self.baseline.date.isoformat()},
            "latest": {"score": self.latest.score, "date": self.latest.date.isoformat()},
            "change": self.change,
            "reduction_percent": None if reduction is None else round(reduction, 1),
            "response": self.response,
            "improved": self.improved,
            "remission": self.remission,
        }

    def __str__(self) -> str:
        """``PHQ-9 18 on 2026-11-16 to 8 on 2026-12-14: -10 (56% lower); response; ...``."""
        base, last = self.baseline, self.latest
        text = f"{self.scale.name} {base.score} on {base.date} to {last.score} on {last.date}"
        reduction = self.reduction
        if reduction is None:
            text += f": {self.change:+d} (a baseline of 0 has no percentage)"
        else:
            word = "lower" if reduction >= 0 else "higher"
            text += f": {self.change:+d} ({abs(reduction):.0f}% {word})"
        if self.response:
            text += "; response"
        elif self.improved:
            text += f"; improved by at least {IMPROVEMENT_PERCENT}%"
        else:
            text += "; no response"
        remission = self.remission
        if remission is not None:
            text += "; remission" if remission else "; not in remission"
        return text


def counting(ratings: Iterable[Rating], scale: str | None = None) -> list[Rating]:
    """The ratings that count (not voided), of ``scale`` when given, by date (ties: in the
    order entered)."""
    kept = [r for r in ratings if r.voided is None and (scale is None or r.scale.name == scale)]
    return sorted(kept, key=lambda r: r.date)


def outcome(
    ratings: Iterable[Rating], scale: str | None = None, *, until: dt.date | None = None
) -> RatingOutcome | None:
    """The latest rating of ``scale`` (default: the first rating's scale) against its
    baseline, counting ratings up to ``until``; ``None`` without a rating."""
    rated = counting(ratings)
    if scale is None and rated:
        scale = rated[0].scale.name
    rated = [r for r in rated if r.scale.name == scale and (until is None or r.date <= until)]
    if not rated:
        return None
    return RatingOutcome(rated[0], rated[-1])


def scales_from_table(table: TomlTable) -> dict[str, Scale]:
    """The ``[[scales]]`` of a clinic file (``name``, ``low``, ``high``, ``remission_below``),
    added to :data:`SCALES`; every error names the file and the key."""
    result = dict(SCALES)
    entries = table.get("scales", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(f"{table.where('scales')}: must be an array of tables written [[scales]]")
    named: set[str] = set()
    for i, raw in enumerate(entries):
        entry = table.child(f"scales[{i}]", raw)
        entry.check_keys({"name", "low", "high", "remission_below"})
        try:
            scale = Scale(
                entry.require("name", str),
                entry.typed("low", "int", required=True),
                entry.typed("high", "int", required=True),
                entry.typed("remission_below", "int"),
            )
        except CourseError as error:
            raise ConfigError(f"{entry.where()}: {error}") from None
        if scale.name in named:
            raise ConfigError(f"{entry.where('name')}: {scale.name!r} is named twice")
        named.add(scale.name)
        result[scale.name] = scale
    return result
