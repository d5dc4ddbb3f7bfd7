"""iCalendar export: one VEVENT per session, private by default, stable across exports.

What the file holds, and why (see the calendar-files page of the documentation):

* one VEVENT per session, never RRULE+EXDATE (which silently shortens courses); missed
  and cancelled sessions are exported as STATUS:CANCELLED, without reminders;
* a UID per session derived from the course id and session number by HMAC-SHA256, keyed
  with the clinic's secret when it gives one (RFC 7986: no identifying data in a UID), so
  re-exports update rather than duplicate; SEQUENCE and STATUS come from the session;
* times with the clinic's IANA TZID and a VTIMEZONE in the RRULE form Outlook reads (see
  :mod:`tms_schedule.export.vtimezone`), or all in UTC with ``times="utc"``. A wall time that occurs
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

from tms_schedule.errors import InvalidCalendarOptionError
from tms_schedule.export.options import CalendarOptions
from tms_schedule.export.uid import alarm_uid, session_uid, uid_key_bytes
from tms_schedule.schedule import Schedule

__all__ = ["PRODID", "escape_text", "format_duration", "schedule_to_ics"]

#: The PRODID of every file; it names no treatment (the library's own name would).
PRODID = "-//Appointments//Calendar export//EN"
_UTC_ZONES = frozenset(
    {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu", "Universal", "Etc/Universal"}
)


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
    key = uid_key_bytes(options.uid_key)
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
        from tms_schedule.export.vtimezone import vtimezone

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
                    f"UID:{alarm_uid(uid, index, key)}",
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
