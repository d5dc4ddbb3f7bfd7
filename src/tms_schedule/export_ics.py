"""iCalendar export: one VEVENT per session, private by default, stable across exports.

What the file holds, and why (see the calendar-files page of the documentation):

* one VEVENT per session, never RRULE+EXDATE (which silently shortens courses); missed
  and cancelled sessions are exported as STATUS:CANCELLED, without reminders;
* a UID per session derived from the course id and session number by HMAC-SHA256, keyed
  with the clinic's secret when it gives one (RFC 7986: no identifying data in a UID), so
  re-exports update rather than duplicate; SEQUENCE and STATUS come from the session;
* times with the clinic's IANA TZID and a VTIMEZONE in the RRULE form Outlook reads (see
  :mod:`tms_schedule.vtimezone`), or all in UTC with ``times="utc"``. A wall time that occurs
  twice (the hour a fall-back repeats) is written in UTC: ical.js and libical read such a
  TZID time with the offset after the change (the tests show it), while the schedule means
  the first occurrence, as RFC 5545 does;
* DTSTAMP in UTC from the explicit ``stamp`` argument, so identical inputs give identical
  bytes; VERSION, a neutral PRODID, and METHOD:PUBLISH with an ORGANIZER only when the clinic gives
  one (RFC 5546 requires it), otherwise no METHOD;
* neutral text: "Appointment" (plus the clinic's name when given) in the title, reminder and
  calendar name; nothing about the treatment unless the clinic writes it into ``title`` or
  ``description`` itself;
* reminders as DISPLAY VALARMs with stable UIDs (default: a day and an hour before);
* CRLF line ends, lines folded at 75 octets without splitting a UTF-8 character, no BOM.

The event lines are written here rather than through icalendar's serializer, which takes
about 5 ms for a 36-session course on its own; the VTIMEZONE is built with icalendar and
cached, and the tests read every file back with icalendar, ical.js and libical.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import uuid
from typing import Any, Literal

import attrs

from tms_schedule.errors import TmsScheduleError
from tms_schedule.schedule import Schedule

__all__ = [
    "DEFAULT_REMINDERS",
    "PRODID",
    "CalendarOptions",
    "InvalidCalendarOptionError",
    "parse_reminder",
    "schedule_to_ics",
    "session_uid",
]

#: The PRODID of every file; it names no treatment (the library's own name would).
PRODID = "-//Appointments//Calendar export//EN"
#: A day before and an hour before.
DEFAULT_REMINDERS = (dt.timedelta(days=1), dt.timedelta(hours=1))
_UTC_ZONES = frozenset(
    {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu", "Universal", "Etc/Universal"}
)
_DEFAULT_UID_KEY = b"tms_schedule session uid v1"
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
_URL = re.compile(r"^https?://[^\s\x00-\x1f\x7f\"<>\\^`{|}]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_REMINDER = re.compile(r"^\s*(\d+)\s*(m|min|minutes?|h|hours?|d|days?|w|weeks?)\s*$", re.IGNORECASE)


class InvalidCalendarOptionError(TmsScheduleError):
    """A calendar export option is outside what is allowed."""


def _text(limit: int) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            raise InvalidCalendarOptionError(
                f"{attribute.name}: must be a non-empty text of at most {limit} characters,"
                f" got {value!r}"
            )
        if _CONTROL.search(value):
            raise InvalidCalendarOptionError(
                f"{attribute.name}: must not contain control characters other than line"
                f" breaks and tabs, got {value!r}"
            )

    return check


def _clean(value: Any) -> Any:
    """Line breaks read as LF, and no space at either end (some clients drop it)."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return value


def _email(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (
        not isinstance(value, str) or not _EMAIL.match(value) or len(value) > 254
    ):
        raise InvalidCalendarOptionError(
            f"organizer: must be an e-mail address like desk@clinic.example, got {value!r}"
        )


def _url(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (
        not isinstance(value, str) or not _URL.match(value) or len(value) > 500
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
    if isinstance(value, int) and not isinstance(value, bool):
        return dt.timedelta(minutes=value)
    match = _REMINDER.match(value) if isinstance(value, str) else None
    if not match:
        raise InvalidCalendarOptionError(
            f"reminders: each must be a lead time like 30m, 2h, 1d or 1w, got {value!r}"
        )
    amount, unit = int(match[1]), match[2][0].lower()
    return {
        "m": dt.timedelta(minutes=amount),
        "h": dt.timedelta(hours=amount),
        "d": dt.timedelta(days=amount),
        "w": dt.timedelta(weeks=amount),
    }[unit]


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
    """

    clinic_name: str | None = attrs.field(default=None, converter=_clean, validator=_text(120))
    title: str | None = attrs.field(default=None, converter=_clean, validator=_text(200))
    calendar_name: str | None = attrs.field(default=None, converter=_clean, validator=_text(200))
    location: str | None = attrs.field(default=None, converter=_clean, validator=_text(500))
    phone: str | None = attrs.field(default=None, converter=_clean, validator=_text(60))
    url: str | None = attrs.field(default=None, validator=_url)
    organizer: str | None = attrs.field(default=None, validator=_email)
    description: str | None = attrs.field(default=None, converter=_clean, validator=_text(4000))
    session_numbers: bool = False
    milestones: bool = False
    reminders: tuple[dt.timedelta, ...] = attrs.field(
        default=DEFAULT_REMINDERS, converter=_reminders, validator=_check_reminders
    )
    uid_key: str | bytes | None = attrs.field(default=None, validator=_uid_key, repr=False)
    times: Literal["tzid", "utc"] = attrs.field(default="tzid", validator=_times)
    refresh: dt.timedelta | None = attrs.field(default=None, validator=_refresh)

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


def session_uid(course_id: str, number: int, key: str | bytes | None = None) -> str:
    """The UID of session ``number`` of a course: a one-way function of both, keyed.

    The same course id, number and key always give the same UID; nothing about the course
    can be read back from it. It has the form of a UUID (version 8, RFC 9562).

    >>> session_uid("c-1", 1) == session_uid("c-1", 1) != session_uid("c-1", 2)
    True
    """
    secret = key.encode() if isinstance(key, str) else (key or _DEFAULT_UID_KEY)
    digest = bytearray(
        hmac.new(secret, f"{course_id}\x00{number}".encode(), hashlib.sha256).digest()[:16]
    )
    digest[6] = (digest[6] & 0x0F) | 0x80  # version 8: custom
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 9562 variant
    return str(uuid.UUID(bytes=bytes(digest)))


def _alarm_uid(event_uid: str, index: int, key: bytes) -> str:
    digest = bytearray(
        hmac.new(key, f"{event_uid}\x00alarm\x00{index}".encode(), hashlib.sha256).digest()[:16]
    )
    digest[6] = (digest[6] & 0x0F) | 0x80
    digest[8] = (digest[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(digest)))


def schedule_to_ics(
    schedule: Schedule,
    options: CalendarOptions | None = None,
    *,
    stamp: dt.datetime,
    total: int | None = None,
) -> bytes:
    """The schedule as an iCalendar file (bytes: write them in binary mode).

    Args:
        schedule: the sessions to export; cancelled ones are exported as STATUS:CANCELLED.
        options: the clinic's choices (default: neutral text, reminders on, local times).
        stamp: the export time (timezone-aware), written as DTSTAMP in UTC. It is an input so
            the same schedule always gives the same bytes.
        total: the course's session count for ``session_numbers`` (default: the sessions of
            the schedule that are attended or still to come).

    >>> import datetime as dt
    >>> from tms_schedule import ClinicCalendar, Plan
    >>> schedule = Plan("itbs", ClinicCalendar("Europe/Berlin"), "2026-11-16", "09:00", "c-1").expand()
    >>> data = schedule_to_ics(schedule, stamp=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    >>> data.count(b"BEGIN:VEVENT"), data.startswith(b"BEGIN:VCALENDAR\\r\\n")
    (30, True)
    """
    options = options or CalendarOptions()
    if not isinstance(stamp, dt.datetime) or stamp.tzinfo is None or stamp.utcoffset() is None:
        raise InvalidCalendarOptionError(
            f"stamp: must be a timezone-aware datetime (the export time), got {stamp!r}"
        )
    if not 1970 <= stamp.year <= 9000:
        raise InvalidCalendarOptionError(
            f"stamp: must be a time from 1970 on, got {stamp.isoformat()}"
        )
    key = (
        options.uid_key.encode() if isinstance(options.uid_key, str) else options.uid_key
    ) or _DEFAULT_UID_KEY
    utc_only = options.times == "utc" or schedule.timezone in _UTC_ZONES
    lines: list[str] = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        # Neutral on purpose: the product's name would tell a reader what the visits are for.
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
    ]
    if options.organizer:
        lines.append("METHOD:PUBLISH")
    name = escape_text(options.name)
    lines += [f"NAME:{name}", f"X-WR-CALNAME:{name}"]
    if options.refresh is not None:
        lines += [
            f"REFRESH-INTERVAL;VALUE=DURATION:{format_duration(options.refresh)}",
            f"X-PUBLISHED-TTL:{format_duration(options.refresh)}",
        ]
    out = [_fold(line) for line in lines]
    if schedule.sessions and not utc_only:
        from tms_schedule.vtimezone import vtimezone

        years = [s.start.year for s in schedule.sessions] + [s.end.year for s in schedule.sessions]
        out.append(vtimezone(schedule.timezone, min(years), max(years))[0].decode("utf-8"))
    dtstamp = stamp.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    # "(3 of 36)" counts the sessions that take place, in order, not session numbers
    # (which are identities and keep their value when a re-plan adds sessions).
    active = [s.number for s in schedule.sessions if s.active]
    position = {number: k for k, number in enumerate(active, start=1)}
    course_total = total or len(active)
    constant = _constant_lines(options)
    alarm_text = escape_text(options.event_title)
    for session in schedule.sessions:
        uid = session_uid(schedule.course_id, session.number, key)
        title = options.event_title
        if options.session_numbers and session.number in position:
            title = f"{title} ({position[session.number]} of {course_total})"
        event = [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            f"DTSTAMP:{dtstamp}",
            _time_line("DTSTART", session.start, schedule.timezone, utc_only),
            _time_line("DTEND", session.end, schedule.timezone, utc_only),
            f"SEQUENCE:{session.sequence}",
            f"STATUS:{'CONFIRMED' if session.active else 'CANCELLED'}",
            f"SUMMARY:{escape_text(title)}",
            *(
                _constant_lines(options, session.milestones)
                if options.milestones and session.milestones
                else constant
            ),
        ]
        if session.status == "scheduled":
            for index, lead in enumerate(options.reminders):
                event += [
                    "BEGIN:VALARM",
                    f"UID:{_alarm_uid(uid, index, key)}",
                    "ACTION:DISPLAY",
                    f"TRIGGER:-{format_duration(lead)}",
                    f"DESCRIPTION:{alarm_text}",
                    "END:VALARM",
                ]
        event.append("END:VEVENT")
        out.extend(_fold(line) for line in event)
    out.append(_fold("END:VCALENDAR"))
    return "".join(out).encode("utf-8")


def _constant_lines(options: CalendarOptions, milestones: tuple[str, ...] = ()) -> list[str]:
    """The event lines every session shares (with a session's milestones, when asked)."""
    lines = []
    if options.location:
        lines.append(f"LOCATION:{escape_text(options.location)}")
    description = [
        part
        for part in (
            options.description,
            options.clinic_name,
            f"Phone: {options.phone}" if options.phone else None,
            options.url,
            *milestones,
        )
        if part
    ]
    if description:
        lines.append(f"DESCRIPTION:{escape_text(chr(10).join(description))}")
    if options.url:
        lines.append(f"URL:{options.url}")
    if options.organizer:
        cn = f";CN={_param(options.clinic_name)}" if options.clinic_name else ""
        lines.append(f"ORGANIZER{cn}:mailto:{options.organizer}")
    lines += ["CLASS:PRIVATE", "TRANSP:OPAQUE"]
    return lines


def _time_line(name: str, moment: dt.datetime, zone: str, utc_only: bool) -> str:
    repeated = moment.replace(fold=1 - moment.fold).utcoffset() != moment.utcoffset()
    if utc_only or repeated:
        return f"{name}:{moment.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
    return f"{name};TZID={zone}:{moment:%Y%m%dT%H%M%S}"


def escape_text(value: str) -> str:
    """RFC 5545 TEXT: backslash, semicolon, comma and line breaks escaped (CRLF and CR read as LF)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _param(value: str) -> str:
    """A parameter value: quoted when it holds ``:;,``; a double quote cannot appear at all."""
    value = value.replace('"', "'").replace("\r", " ").replace("\n", " ")
    return f'"{value}"' if any(c in value for c in ":;,") else value


def format_duration(value: dt.timedelta) -> str:
    """An RFC 5545 duration (without sign): ``P1D``, ``PT1H``, ``P1DT2H30M``."""
    seconds = int(value.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days and not (hours or minutes or seconds) and days % 7 == 0:
        return f"P{days // 7}W"
    text = "P" + (f"{days}D" if days else "")
    clock = (
        (f"{hours}H" if hours else "")
        + (f"{minutes}M" if minutes else "")
        + (f"{seconds}S" if seconds else "")
    )
    return text + ("T" + clock if clock else "") if text != "P" or clock else "PT0S"


def _fold(line: str) -> str:
    """The content line with CRLF, folded at 75 octets without splitting a UTF-8 character."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line + "\r\n"
    parts = []
    start, limit = 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # inside a character
            end -= 1
        parts.append(data[start:end].decode("utf-8"))
        start, limit = end, 74  # continuation lines begin with a space
    return "\r\n ".join(parts) + "\r\n"
