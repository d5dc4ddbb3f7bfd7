"""What a clinic chooses for its calendar files and handouts: :class:`CalendarOptions`.

The same options drive the ``.ics`` export, the printable handout and (later) feeds and
invitations, so that every place a patient looks says the same neutral thing.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

import attrs

from tms_schedule._validate import check_text
from tms_schedule.errors import InvalidCalendarOptionError

__all__ = ["DEFAULT_REMINDERS", "CalendarOptions", "is_email", "parse_reminder"]

#: A day before and an hour before.
DEFAULT_REMINDERS = (dt.timedelta(days=1), dt.timedelta(hours=1))
# Matched whole (fullmatch): with match and "$" a value ending in a line break passed, and
# put a bare line feed into the calendar file.
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f\"<>\\^`{|}]+")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_REMINDER = re.compile(r"\s*(\d+)\s*(m|min|minutes?|h|hours?|d|days?|w|weeks?)\s*", re.IGNORECASE)


def _text(limit: int, *, lines: bool = False) -> Any:
    """A text option; only a description, an address or the handout's line may have
    several lines (a name or a title ends up in one-line places: an e-mail's headers)."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            check_text(value, attribute.name, InvalidCalendarOptionError, limit=limit, lines=lines)

    return check


def _clean(value: Any) -> Any:
    """Line breaks read as LF, and no space at either end (some clients drop it)."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return value


def is_email(value: object) -> bool:
    """Whether ``value`` is an e-mail address the calendar files and invitations accept:
    ASCII ``local@domain``, at most 254 characters.

    >>> is_email("desk@clinic.example"), is_email("desk@clinic.example, x@y.example")
    (True, False)
    """
    return isinstance(value, str) and len(value) <= 254 and _EMAIL.fullmatch(value) is not None


def _email(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not is_email(value):
        raise InvalidCalendarOptionError(
            f"organizer: must be an e-mail address like desk@clinic.example, got {value!r}"
        )


def _url(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (
        not isinstance(value, str) or not _URL.fullmatch(value) or len(value) > 500
    ):
        raise InvalidCalendarOptionError(
            f"url: must be an http:// or https:// address without spaces, got {value!r}"
        )


def parse_reminder(value: str | dt.timedelta | int) -> dt.timedelta:
    """A reminder lead time from ``"1d"``, ``"2h"``, ``"30m"``, ``"1w"``, minutes or a timedelta.

    >>> parse_reminder("1d"), parse_reminder("90m")
    (datetime.timedelta(days=1), datetime.timedelta(seconds=5400))
    """
    if isinstance(value, dt.timedelta):
        return value
    digits: str
    if isinstance(value, int) and not isinstance(value, bool):
        digits, unit = str(value), "m"
    else:
        match = _REMINDER.fullmatch(value) if isinstance(value, str) else None
        if not match:
            raise InvalidCalendarOptionError(
                f"reminders: each must be a lead time like 30m, 2h, 1d or 1w, got {_shown(value)}"
            )
        digits, unit = match[1], match[2][0].lower()
    try:
        # More than 9 digits is past any lead time; thousands are not even read (Python
        # refuses to convert them), so the length is checked first.
        if len(digits.lstrip("-")) > 9:
            raise OverflowError(digits)
        return dt.timedelta(**{_UNITS[unit]: int(digits)})
    except OverflowError:  # beyond any date: the range check names the bounds
        raise InvalidCalendarOptionError(
            "reminders: each lead time must be from 1 minute to 4 weeks before the session,"
            f" got {_shown(value)}"
        ) from None


def _shown(value: Any) -> str:
    """A value for a message: its repr, cut in the middle when it is very long."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}...{text[-12:]}"


def _reminders(value: Any) -> tuple[dt.timedelta, ...]:
    if value is None:
        return ()
    if isinstance(value, str | dt.timedelta | int):
        value = [value]
    return tuple(sorted({parse_reminder(v) for v in value}, reverse=True))


def _check_reminders(
    instance: object, attribute: attrs.Attribute[Any], value: tuple[dt.timedelta, ...]
) -> None:
    if len(value) > 5:
        raise InvalidCalendarOptionError(f"reminders: at most 5, got {len(value)}")
    for lead in value:
        if not dt.timedelta(minutes=1) <= lead <= dt.timedelta(weeks=4):
            raise InvalidCalendarOptionError(
                f"reminders: each lead time must be from 1 minute to 4 weeks before the"
                f" session, got {lead}"
            )


def _times(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in ("tzid", "utc"):
        raise InvalidCalendarOptionError(f"times: must be 'tzid' or 'utc', got {value!r}")


def _uid_key(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, str | bytes) or len(value) < 16):
        raise InvalidCalendarOptionError(
            "uid_key: must be a secret of at least 16 characters (keep it with the clinic's"
            " settings, never in the calendar)"
        )


def _refresh(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (
        not isinstance(value, dt.timedelta)
        or not dt.timedelta(hours=1) <= value <= dt.timedelta(days=7)
    ):
        raise InvalidCalendarOptionError(
            f"refresh: must be a duration from 1 hour to 7 days (for subscribed feeds), got {value!r}"
        )


@attrs.frozen
class CalendarOptions:
    """What a clinic chooses for its calendar files. Everything is optional.

    Args:
        clinic_name: shown after "Appointment" in titles, reminders and the calendar name.
        title: the event title instead of "Appointment"; the clinic's explicit choice.
        calendar_name: the calendar's name (NAME, X-WR-CALNAME); default "Appointments".
        location: the event location.
        phone: a contact number put in the description.
        url: a web address put in URL and the description.
        organizer: an e-mail address; adds ORGANIZER and METHOD:PUBLISH.
        description: the clinic's own text for the description (e.g. what to bring).
        session_numbers: add "(3 of 36)" to each title.
        milestones: add what is due at a session ("PHQ-9 due") to its description. Off by
            default: a rating-scale name can tell a reader what the visits are for.
        reminders: lead times of DISPLAY reminders (``()`` turns them off).
        uid_key: the clinic's secret for deriving UIDs (at least 16 characters).
        times: ``"tzid"`` (local times with a VTIMEZONE) or ``"utc"``.
        refresh: for a subscribed feed, how often clients should refresh it.
        cannot_come: the handout's line on what to do when the patient cannot come
            (default: "If you cannot come, please call the clinic", with the ``phone``).
    """

    clinic_name: str | None = attrs.field(default=None, converter=_clean, validator=_text(120))
    title: str | None = attrs.field(default=None, converter=_clean, validator=_text(200))
    calendar_name: str | None = attrs.field(default=None, converter=_clean, validator=_text(200))
    location: str | None = attrs.field(
        default=None, converter=_clean, validator=_text(500, lines=True)
    )
    phone: str | None = attrs.field(default=None, converter=_clean, validator=_text(60))
    url: str | None = attrs.field(default=None, validator=_url)
    organizer: str | None = attrs.field(default=None, validator=_email)
    description: str | None = attrs.field(
        default=None, converter=_clean, validator=_text(4000, lines=True)
    )
    session_numbers: bool = False
    milestones: bool = False
    reminders: tuple[dt.timedelta, ...] = attrs.field(
        default=DEFAULT_REMINDERS, converter=_reminders, validator=_check_reminders
    )
    uid_key: str | bytes | None = attrs.field(default=None, validator=_uid_key, repr=False)
    times: Literal["tzid", "utc"] = attrs.field(default="tzid", validator=_times)
    refresh: dt.timedelta | None = attrs.field(default=None, validator=_refresh)
    cannot_come: str | None = attrs.field(
        default=None, converter=_clean, validator=_text(500, lines=True)
    )

    @property
    def event_title(self) -> str:
        """The neutral event title: "Appointment — Example Clinic"."""
        base = self.title or "Appointment"
        return f"{base} \N{EM DASH} {self.clinic_name}" if self.clinic_name else base

    @property
    def name(self) -> str:
        """The calendar's name."""
        if self.calendar_name:
            return self.calendar_name
        return (
            f"Appointments \N{EM DASH} {self.clinic_name}" if self.clinic_name else "Appointments"
        )
