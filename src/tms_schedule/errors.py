"""The exceptions tms_schedule raises.

Every error is a :class:`TmsScheduleError`, so one ``except`` catches whatever the library
refuses. Beside that root, each takes the builtin base that fits its meaning:

* bad input (a value outside what is allowed, a malformed file, a record or a booking that
  cannot be right) is a :class:`ValueError`, by way of :class:`InvalidInputError`. Its
  message begins with the field at fault and says what is allowed instead; the field is
  also kept as data, :attr:`InvalidInputError.field`;
* a failure of what the program works with rather than of the values it was given (a file
  that cannot be written, a database that is busy or damaged, a CalDAV server that refuses
  or cannot be reached) is an :class:`OSError`.

>>> from tms_schedule import Plan, ClinicCalendar
>>> try:
...     Plan("itbs", ClinicCalendar("UTC"), "2026-11-31", "09:00", "c-1")
... except ValueError as error:
...     print(error.field, "|", error)
start | start: must be a date written YYYY-MM-DD, got '2026-11-31'
"""

from __future__ import annotations

import datetime as dt
import re

__all__ = [
    "BlockBreakError",
    "BlockSplitError",
    "BookError",
    "BookingConflictError",
    "CalDavPushError",
    "ChangedMeanwhileError",
    "ConfigError",
    "CourseError",
    "CourseFileError",
    "FeedError",
    "FeedTooLargeError",
    "FhirExportError",
    "FileWriteError",
    "HolidayDataError",
    "InvalidCalendarOptionError",
    "InvalidChairError",
    "InvalidClinicError",
    "InvalidInputError",
    "InvalidPlanError",
    "InvalidProtocolError",
    "InvitationError",
    "NoOfferError",
    "NoOpenDayError",
    "ScheduleFormatError",
    "StoreError",
    "TmsScheduleError",
    "UnknownHolidayCountryError",
    "UnknownProtocolError",
    "UnknownTimezoneError",
]

# A message that is about a field begins with it: ``start: ...``, ``closure end: ...``,
# ``sessions[3].status: ...``, ``closing_holidays/open_holidays: ...``.
_LEAD = re.compile(r"([A-Za-z_][\w.\[\]/-]*(?: [a-z_][\w.\[\]-]*){0,3}): ")


class TmsScheduleError(Exception):
    """The root of every error tms_schedule raises."""

    #: The field the error is about (``None``: no one field, or not an input error).
    field: str | None = None


class InvalidInputError(TmsScheduleError, ValueError):
    """A value the library cannot take: out of range, of the wrong kind, malformed, or not
    right for the state it meets (a session recorded twice, a chair already taken).

    Attributes:
        field: the field at fault, as the message names it (``"start"``, ``"closure
            end"``, ``"sessions[3].status"``); by default read from the message's lead,
            ``None`` when the message does not begin with a field.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        if field is None:
            lead = _LEAD.match(message) if isinstance(message, str) else None
            field = lead[1] if lead else None
        self.field = field


class InvalidProtocolError(InvalidInputError):
    """A protocol, a phase or a tuning of one has a value outside what is allowed."""


class UnknownProtocolError(InvalidInputError):
    """No protocol with that id is in the catalogue."""

    def __init__(self, protocol_id: str, known: list[str]) -> None:
        self.protocol_id = protocol_id
        self.known = known
        super().__init__(
            f"protocol: unknown protocol {protocol_id!r}; known: {', '.join(known)}",
            field="protocol",
        )


class InvalidClinicError(InvalidInputError):
    """A clinic calendar setting is outside what is allowed."""


class UnknownTimezoneError(InvalidClinicError):
    """The timezone is not an IANA zone name known to the zone database."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"timezone: unknown IANA timezone {name!r}; use a name such as "
            "'America/Denver', 'Europe/Berlin' or 'UTC'",
            field="timezone",
        )


class UnknownHolidayCountryError(InvalidClinicError):
    """The holiday country or subdivision is not one the ``holidays`` package knows."""


class HolidayDataError(InvalidInputError):
    """The course would run past the years the holiday data covers."""


class NoOpenDayError(InvalidInputError):
    """No open day was found within the search horizon."""


class InvalidPlanError(InvalidInputError):
    """A plan's start, time or options cannot produce a valid schedule."""


class BlockSplitError(InvalidPlanError):
    """A block of consecutive treatment days would be split by a closed day.

    Attributes:
        next_start: the first start date on or after the requested one where the whole
            block fits, so the caller can offer it.
    """

    def __init__(self, message: str, next_start: dt.date | None) -> None:
        self.next_start = next_start
        super().__init__(message, field="start")


class ConfigError(InvalidInputError):
    """A settings file (clinic or protocols TOML) is malformed; the message names file and key."""


class ScheduleFormatError(InvalidInputError):
    """A serialized schedule (JSON) is malformed or not one of ours."""


class CourseFileError(ScheduleFormatError):
    """A course file is malformed, truncated, from a newer version, or not a course file."""


class CourseError(InvalidInputError):
    """A recording or re-plan that cannot be right; the course is left unchanged."""


class BlockBreakError(CourseError):
    """A re-plan would break the consecutive days of an accelerated block (a closure on one
    of its days, say): the clinician chooses, and the re-plan is asked again with it.

    Attributes:
        phase: the accelerated phase whose days would no longer follow one another.
        choices: what the re-plan's ``block`` may say: ``"continue"`` (on the next open
            days, with a warning recorded) or ``"restart"`` (the block's sessions to come
            together again, on the first consecutive days that hold them).
    """

    choices = ("continue", "restart")

    def __init__(self, message: str, phase: str) -> None:
        self.phase = phase
        super().__init__(message, field="block")


class InvalidCalendarOptionError(InvalidInputError):
    """A calendar export option is outside what is allowed."""


class InvitationError(InvalidInputError):
    """An invitation or cancellation cannot be built: an address that is not one, a session
    the course does not have, or one in a state the message cannot be about."""


class FhirExportError(InvalidInputError):
    """A FHIR export input is not usable: a reference that is not one (or to the wrong kind
    of resource), a session the course does not have, or a coding of the wrong shape."""


class InvalidChairError(InvalidInputError):
    """A chair, a staff limit or an outage has a value outside what is allowed."""


class BookError(InvalidInputError):
    """The clinic's book cannot do what was asked (an unknown course or chair, say)."""


class BookingConflictError(BookError):
    """A session cannot be booked where it was asked: its chair is taken, closed or cannot
    run the protocol. ``conflicts`` lists each session and why."""

    def __init__(self, message: str, conflicts: tuple[tuple[int, str], ...] = ()) -> None:
        self.conflicts = conflicts
        super().__init__(message)


class NoOfferError(BookError):
    """No way to book the course in the dates, times and chairs searched.

    ``next_dates`` are the first start dates after the search that could hold it, when any
    was found.
    """

    def __init__(self, message: str, next_dates: tuple[dt.date, ...] = ()) -> None:
        self.next_dates = next_dates
        super().__init__(message)


class FeedError(InvalidInputError):
    """A subscription feed cannot be made or served: a setting out of range, a secret too
    short, courses that are not one patient's."""


class FeedTooLargeError(FeedError):
    """A feed is larger than the limit set for it (by default what Google Calendar accepts);
    the message names the feed, its size and the limit."""

    def __init__(self, feed_id: str, size: int, limit: int) -> None:
        self.feed_id = feed_id
        self.size = size
        self.limit = limit
        super().__init__(
            f"feed {feed_id}: {size:,} bytes is over its limit of {limit:,} bytes (Google"
            " Calendar stops reading subscribed calendars of about 1 MB); keep fewer past"
            " days (past_days) or drop cancelled sessions (cancelled='drop')",
            field="past_days",
        )


class FileWriteError(TmsScheduleError, OSError):
    """A file could not be written, or writing it would replace a file it must not."""


class StoreError(TmsScheduleError, OSError):
    """The book's database cannot be used: missing, damaged, busy, or of a newer schema."""


class ChangedMeanwhileError(StoreError):
    """A change was refused because what it acts on changed since the caller looked (another
    terminal recorded the session, say); the message says what changed, by whom and when.
    ``course_id`` names the course."""

    def __init__(self, message: str, course_id: str | None = None) -> None:
        self.course_id = course_id
        super().__init__(message)


class CalDavPushError(TmsScheduleError, OSError):
    """A course could not be pushed to a CalDAV collection: the server refused, could not
    be reached, or an object changed there since it was read (the message says which)."""
