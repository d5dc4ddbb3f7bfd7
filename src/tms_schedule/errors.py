"""The exceptions tms_schedule raises.

Every error is a :class:`ValueError` subclass, so code that already guards input with
``except ValueError`` keeps working, and each message names the field at fault and what
is allowed instead.
"""

from __future__ import annotations

import datetime as dt

__all__ = [
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


class TmsScheduleError(ValueError):
    """Base class of every error tms_schedule raises on bad input."""


class InvalidProtocolError(TmsScheduleError):
    """A protocol, a phase or a tuning of one has a value outside what is allowed."""


class UnknownProtocolError(TmsScheduleError):
    """No protocol with that id is in the catalogue."""

    def __init__(self, protocol_id: str, known: list[str]) -> None:
        self.protocol_id = protocol_id
        self.known = known
        super().__init__(f"protocol: unknown protocol {protocol_id!r}; known: {', '.join(known)}")


class InvalidClinicError(TmsScheduleError):
    """A clinic calendar setting is outside what is allowed."""


class UnknownTimezoneError(InvalidClinicError):
    """The timezone is not an IANA zone name known to the zone database."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"timezone: unknown IANA timezone {name!r}; use a name such as "
            "'America/Denver', 'Europe/Berlin' or 'UTC'"
        )


class UnknownHolidayCountryError(InvalidClinicError):
    """The holiday country or subdivision is not one the ``holidays`` package knows."""


class HolidayDataError(TmsScheduleError):
    """The course would run past the years the holiday data covers."""


class NoOpenDayError(TmsScheduleError):
    """No open day was found within the search horizon."""


class InvalidPlanError(TmsScheduleError):
    """A plan's start, time or options cannot produce a valid schedule."""


class BlockSplitError(InvalidPlanError):
    """A block of consecutive treatment days would be split by a closed day.

    Attributes:
        next_start: the first start date on or after the requested one where the whole
            block fits, so the caller can offer it.
    """

    def __init__(self, message: str, next_start: dt.date | None) -> None:
        self.next_start = next_start
        super().__init__(message)


class ConfigError(TmsScheduleError):
    """A settings file (clinic or protocols TOML) is malformed; the message names file and key."""


class ScheduleFormatError(TmsScheduleError):
    """A serialized schedule (JSON) is malformed or not one of ours."""


class CourseFileError(ScheduleFormatError):
    """A course file is malformed, truncated, from a newer version, or not a course file."""


class CourseError(TmsScheduleError):
    """A recording or re-plan that cannot be right; the course is left unchanged."""


class InvalidCalendarOptionError(TmsScheduleError):
    """A calendar export option is outside what is allowed."""


class FileWriteError(TmsScheduleError):
    """A file could not be written, or writing it would replace a file it must not."""


class InvitationError(TmsScheduleError):
    """An invitation or cancellation cannot be built: an address that is not one, a session
    the course does not have, or one in a state the message cannot be about."""


class FhirExportError(TmsScheduleError):
    """A FHIR export input is not usable: a reference that is not one (or to the wrong kind
    of resource), a session the course does not have, or a coding of the wrong shape."""


class InvalidChairError(TmsScheduleError):
    """A chair, a staff limit or an outage has a value outside what is allowed."""


class BookError(TmsScheduleError):
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


class StoreError(TmsScheduleError):
    """The book's database cannot be used: missing, damaged, busy, or of a newer schema."""


class ChangedMeanwhileError(StoreError):
    """A change was refused because what it acts on changed since the caller looked (another
    terminal recorded the session, say); the message says what changed, by whom and when.
    ``course_id`` names the course."""

    def __init__(self, message: str, course_id: str | None = None) -> None:
        self.course_id = course_id
        super().__init__(message)


class FeedError(TmsScheduleError):
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
            " days (past_days) or drop cancelled sessions (cancelled='drop')"
        )


class CalDavPushError(TmsScheduleError):
    """A course could not be pushed to a CalDAV collection: the server refused, could not
    be reached, or an object changed there since it was read (the message says which)."""
