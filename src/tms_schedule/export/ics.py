"""iCalendar export: one VEVENT per session, private by default, stable across exports.

What the file holds, and why (see the calendar-files page of the documentation):

* one VEVENT per session, never RRULE+EXDATE (which silently shortens courses); missed
  and cancelled sessions are exported as STATUS:CANCELLED, TRANSP:TRANSPARENT (the time is
  free again), without reminders, and their title says so ("Cancelled: Appointment",
  "Missed: Appointment") for the clients that ignore STATUS;
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
import re
import zoneinfo
from collections.abc import Callable, Sequence

from tms_schedule.clinic import offset_change_days
from tms_schedule.errors import InvalidCalendarOptionError
from tms_schedule.export.options import CalendarOptions
from tms_schedule.export.uid import alarm_uid, session_uid, uid_key_bytes
from tms_schedule.export.vtimezone import vtimezone
from tms_schedule.schedule import Schedule, Session

__all__ = ["PRODID", "escape_text", "format_duration", "schedule_to_ics", "schedules_to_ics"]

#: The PRODID of every file; it names no treatment (the library's own name would).
PRODID = "-//Appointments//Calendar export//EN"
# What the title of a session that will not happen starts with: several clients show a
# cancelled event like any other (see the calendar-files page).
_STATUS_PREFIX = {"cancelled": "Cancelled: ", "missed": "Missed: "}
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_UTC_ZONES = frozenset(
    {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu", "Universal", "Etc/Universal"}
)


def schedule_to_ics(
    schedule: Schedule,
    options: CalendarOptions | None = None,
    *,
    stamp: dt.datetime,
    total: int | None = None,
    method: str | None = None,
    only: int | None = None,
    event_lines: Sequence[str] = (),
) -> bytes:
    """The schedule as an iCalendar file (bytes: write them in binary mode).

    Args:
        schedule: the sessions to export; missed and cancelled ones are exported as
            STATUS:CANCELLED, TRANSP:TRANSPARENT, titled "Missed: ..." or "Cancelled: ...".
        options: the clinic's choices (default: neutral text, reminders on, local times).
        stamp: the export time (timezone-aware), written as DTSTAMP in UTC. It is an input so
            the same schedule always gives the same bytes.
        total: the course's session count for ``session_numbers`` (default: the sessions of
            the schedule that are attended or still to come).
        method: the iTIP METHOD (``PUBLISH``, ``REQUEST`` or ``CANCEL``; RFC 5546 wants an
            organizer with each). Default: PUBLISH when the options name an organizer,
            otherwise none. Invitations (:mod:`tms_schedule.delivery.imip`) set it.
        only: write only the event of the session with this number, as an iTIP message
            about one session does; titles still count the whole course, and the VTIMEZONE
            is the one the course's file carries.
        event_lines: content lines every event carries besides its own (an invitation's
            ATTENDEE), unfolded and already escaped; they go before the reminders.

    >>> import datetime as dt
    >>> from tms_schedule import ClinicCalendar, Plan
    >>> schedule = Plan("itbs", ClinicCalendar("Europe/Berlin"), "2026-11-16", "09:00", "c-1").expand()
    >>> data = schedule_to_ics(schedule, stamp=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    >>> data.count(b"BEGIN:VEVENT"), data.startswith(b"BEGIN:VCALENDAR\\r\\n")
    (30, True)
    """
    options = options or CalendarOptions()
    _check_stamp(stamp)
    _check_message(schedule, options, method, only, event_lines)
    keep = None if only is None else (lambda _, session: session.number == only)
    return _calendar([(schedule, keep, total)], options, stamp, method, event_lines)


def schedules_to_ics(
    schedules: Sequence[Schedule],
    options: CalendarOptions | None = None,
    *,
    stamp: dt.datetime,
    keep: Callable[[Schedule, Session], bool] | None = None,
) -> bytes:
    """Several courses in one calendar, each session written as :func:`schedule_to_ics` does.

    A patient's subscription feed (:mod:`tms_schedule.delivery.feed`) holds all their
    courses this way: every event has the UID it has in its own course's file, and one
    VTIMEZONE per zone covers the years of all of them.

    Args:
        schedules: the courses' schedules, in the order their events are written.
        options: the clinic's choices, as for one course.
        stamp: the export time (timezone-aware), written as DTSTAMP in UTC.
        keep: which sessions to write, asked with each schedule and session (default:
            all). Titles still count each course's sessions as a whole ("3 of 36").

    >>> import datetime as dt
    >>> from tms_schedule import ClinicCalendar, Plan
    >>> clinic = ClinicCalendar("Europe/Berlin")
    >>> acute = Plan("itbs", clinic, "2026-11-16", "09:00", "c-1").expand()
    >>> boosters = Plan("maintenance", clinic, "2027-01-11", "09:00", "c-2").expand()
    >>> data = schedules_to_ics([acute, boosters], stamp=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    >>> data.count(b"BEGIN:VEVENT") == len(acute) + len(boosters), data.count(b"BEGIN:VTIMEZONE")
    (True, 1)
    """
    options = options or CalendarOptions()
    _check_stamp(stamp)
    for schedule in schedules:
        if not isinstance(schedule, Schedule):
            raise InvalidCalendarOptionError(
                f"schedules: each must be a Schedule, got {type(schedule).__name__}"
            )
    return _calendar([(s, keep, None) for s in schedules], options, stamp, None, ())


def _check_stamp(stamp: object) -> None:
    if not isinstance(stamp, dt.datetime) or stamp.tzinfo is None or stamp.utcoffset() is None:
        raise InvalidCalendarOptionError(
            f"stamp: must be a timezone-aware datetime (the export time), got {stamp!r}"
        )
    if not 1970 <= stamp.year <= 9000:
        raise InvalidCalendarOptionError(
            f"stamp: must be a time from 1970 on, got {stamp.isoformat()}"
        )


def _calendar(
    parts: Sequence[tuple[Schedule, Callable[[Schedule, Session], bool] | None, int | None]],
    options: CalendarOptions,
    stamp: dt.datetime,
    method: str | None,
    event_lines: Sequence[str],
) -> bytes:
    """One VCALENDAR: the header, a VTIMEZONE per zone, then each schedule's events."""
    key = uid_key_bytes(options.uid_key)
    lines: list[str] = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        # Neutral on purpose: the product's name would tell a reader what the visits are for.
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
    ]
    if method or options.organizer:
        lines.append(f"METHOD:{method or 'PUBLISH'}")
    name = escape_text(options.name)
    lines += [f"NAME:{name}", f"X-WR-CALNAME:{name}"]
    if options.refresh is not None:
        lines += [
            f"REFRESH-INTERVAL;VALUE=DURATION:{format_duration(options.refresh)}",
            f"X-PUBLISHED-TTL:{format_duration(options.refresh)}",
        ]
    out = [_fold(line) for line in lines]
    years: dict[str, list[int]] = {}
    for schedule, _, _ in parts:
        if schedule.sessions and not _utc_only(schedule, options):
            found = years.setdefault(schedule.timezone, [])
            found += [s.start.year for s in schedule.sessions]
            found += [s.end.year for s in schedule.sessions]
    for zone, found in years.items():
        out.append(vtimezone(zone, min(found), max(found))[0].decode("utf-8"))
    # What every event shares is written (and folded) once.
    dtstamp = f"DTSTAMP:{_basic(stamp.astimezone(dt.UTC))}Z\r\n"
    shared = {
        active: "".join(_fold(line) for line in _constant_lines(options, active=active))
        for active in (True, False)
    }
    summary = escape_text(options.event_title)
    alarm_text = _fold(f"DESCRIPTION:{summary}")
    alarms = [
        f"ACTION:DISPLAY\r\nTRIGGER:-{format_duration(lead)}\r\n{alarm_text}END:VALARM\r\n"
        for lead in options.reminders
    ]
    extra = "".join(_fold(line) for line in event_lines)
    numbered = options.session_numbers
    for schedule, keep, total in parts:
        times = _Times(schedule.timezone, _utc_only(schedule, options))
        # "(3 of 36)" counts the sessions that take place, in order, not session numbers
        # (which are identities and keep their value when a re-plan adds sessions).
        taking_place = [s.number for s in schedule.sessions if s.active]
        position = {number: k for k, number in enumerate(taking_place, start=1)}
        course_total = total or len(taking_place)
        for session in schedule.sessions:
            if keep is not None and not keep(schedule, session):
                continue
            uid = session_uid(schedule.course_id, session.number, key)
            active = session.active
            if not active:
                title = f"{_STATUS_PREFIX[session.status]}{summary}"
            elif options.session_numbers and session.number in position:
                title = f"{summary} ({position[session.number]} of {course_total})"
            else:
                title = summary
            out += [
                f"BEGIN:VEVENT\r\nUID:{uid}\r\n",
                dtstamp,
                _fold(times.line("DTSTART", session.start)),
                _fold(times.line("DTEND", session.end)),
                # The place in the course shows only in numbered titles: only they count
                # its changes (a push of unnumbered events rewrites what changed, no more).
                f"SEQUENCE:{session.sequence + (session.renumbered if numbered else 0)}\r\n",
                "STATUS:CONFIRMED\r\n" if active else "STATUS:CANCELLED\r\n",
                _fold(f"SUMMARY:{title}"),
                "".join(
                    _fold(line)
                    for line in _constant_lines(options, session.milestones, active=active)
                )
                if options.milestones and session.milestones
                else shared[active],
            ]
            out.append(extra)
            if session.status == "scheduled":
                for index, alarm in enumerate(alarms):
                    out += ["BEGIN:VALARM\r\n", f"UID:{alarm_uid(uid, index, key)}\r\n", alarm]
            out.append("END:VEVENT\r\n")
    out.append("END:VCALENDAR\r\n")
    return "".join(out).encode("utf-8")


def _utc_only(schedule: Schedule, options: CalendarOptions) -> bool:
    return options.times == "utc" or schedule.timezone in _UTC_ZONES


_METHODS = ("PUBLISH", "REQUEST", "CANCEL")


def _check_message(
    schedule: Schedule,
    options: CalendarOptions,
    method: str | None,
    only: int | None,
    event_lines: Sequence[str],
) -> None:
    """The iTIP arguments: a known METHOD with its organizer, a session the schedule has,
    and extra lines that cannot break the file's structure."""
    if method is not None:
        if method not in _METHODS:
            raise InvalidCalendarOptionError(
                f"method: must be one of {', '.join(_METHODS)}, got {method!r}"
            )
        if not options.organizer:
            raise InvalidCalendarOptionError(
                f"organizer: METHOD:{method} needs an organizer e-mail address (RFC 5546)"
            )
    if only is not None and all(s.number != only for s in schedule.sessions):
        raise InvalidCalendarOptionError(f"only: the schedule has no session {only!r}")
    for line in event_lines:
        if not isinstance(line, str) or _CONTROL.search(line) or ":" not in line:
            raise InvalidCalendarOptionError(
                f"event_lines: each must be one content line (NAME:value) without line"
                f" breaks or control characters, got {line!r}"
            )


class _Times:
    """DTSTART and DTEND lines: local time with the TZID, or UTC.

    A wall time that occurs twice (the hour a fall-back repeats) is written in UTC: only the
    days whose UTC offset changes can hold one, so only those are looked at.
    """

    def __init__(self, zone: str, utc_only: bool) -> None:
        self.zone = zone
        self.utc_only = utc_only
        self.changes: dict[int, frozenset[dt.date]] = {}

    def line(self, name: str, moment: dt.datetime) -> str:
        if not self.utc_only:
            changes = self.changes.get(moment.year)
            if changes is None:
                changes = self.changes[moment.year] = offset_change_days(
                    zoneinfo.ZoneInfo(self.zone), moment.year
                )
            if moment.date() not in changes or not _repeated(moment):
                return f"{name};TZID={self.zone}:{_basic(moment)}"
        return f"{name}:{_basic(moment.astimezone(dt.UTC))}Z"


def _repeated(moment: dt.datetime) -> bool:
    """Whether the wall time occurs twice (its other fold has another UTC offset)."""
    return moment.replace(fold=1 - moment.fold).utcoffset() != moment.utcoffset()


def _basic(moment: dt.datetime) -> str:
    """``20261116T090000``: RFC 5545's date-time without its zone.

    %-formatting takes 0.4 us here, str.format 0.7 us and strftime 1.5 us: a course file
    writes two of these per session.
    """
    return "%04d%02d%02dT%02d%02d%02d" % (  # noqa: UP031
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
    )


def _constant_lines(
    options: CalendarOptions, milestones: tuple[str, ...] = (), *, active: bool = True
) -> list[str]:
    """The event lines every session shares (with a session's milestones, when asked).

    A session that will not happen (missed, cancelled) is TRANSPARENT: it no longer holds
    the patient's time, so free/busy lookups and clients that ignore STATUS see it free.
    """
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
    lines += ["CLASS:PRIVATE", "TRANSP:OPAQUE" if active else "TRANSP:TRANSPARENT"]
    return lines


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
    if len(line) <= 75 and line.isascii():  # most lines: one octet a character
        return line + "\r\n"
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
