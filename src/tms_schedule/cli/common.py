"""What every command-line command shares: the parser, the plan and calendar options, dates,
and writing output. The commands' own modules import from here, never from each other.

The command line is the only part of tms_schedule that reads defaults from outside its
arguments, and only these: ``--at`` defaults to 09:00 (the opening time for protocols with
several sessions a day), ``--course-id`` to ``course-START`` (only for text, CSV and JSON:
calendar files and course files need an id of their own), and ``--stamp`` (the export time
of a calendar file) to the current time. There is no default timezone.

``-o FILE`` picks the format from the file's suffix (:data:`SUFFIX_FORMATS`; an unknown one
is refused rather than given the terminal text) and, once the file is written, says so in
one line: ``Wrote 36 sessions (Mon 16 Nov 2026 to Tue 19 Jan 2027) to appointments.ics``.
Standard output (no ``-o``, or ``-o -``) gets the schedule and nothing else.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, NoReturn
from zoneinfo import ZoneInfo

import attrs

from tms_schedule._dates import short_day
from tms_schedule._files import read_file, shown_path, write_file
from tms_schedule.catalogue import Catalogue
from tms_schedule.clinic import EARLIEST_DATE, LATEST_DATE, ClinicCalendar, Closure
from tms_schedule.course.authorization import Authorization, StagedAuthorization
from tms_schedule.course.lifecycle import Course
from tms_schedule.course.record import CAUSES
from tms_schedule.errors import FileWriteError, TmsScheduleError
from tms_schedule.export.ics import schedule_to_ics
from tms_schedule.export.options import CalendarOptions
from tms_schedule.phase import Accelerated, Periodic
from tms_schedule.plan import Plan
from tms_schedule.protocol import Protocol
from tms_schedule.schedule import Schedule
from tms_schedule.settings import ClinicSettings, load_clinic

__all__ = [
    "FORMATS",
    "SAVED",
    "SUFFIX_FORMATS",
    "Parser",
    "StdoutError",
    "UsageError",
    "actor",
    "add_calendar_arguments",
    "add_key_arguments",
    "add_plan_arguments",
    "add_record_arguments",
    "calendar_options_from_args",
    "format_from",
    "output_format",
    "parse_closure",
    "parse_date",
    "parse_local",
    "parse_span",
    "parse_time",
    "plan_from_args",
    "read_uid_key",
    "recorded",
    "require_course_id",
    "saved",
    "sessions_summary",
    "shown_path",
    "stamp_from_args",
    "tuned_protocol",
    "write_schedule",
]

FORMATS = ("text", "json", "csv", "ics", "html")
#: The file name suffixes ``-o`` knows, and the format each one means.
SUFFIX_FORMATS = {
    ".ics": "ics",
    ".ical": "ics",
    ".json": "json",
    ".csv": "csv",
    ".txt": "text",
    ".html": "html",
    ".htm": "html",
}
_FORMAT_WORDS = {
    "ics": "calendar file",
    "json": "JSON file",
    "csv": "CSV file",
    "text": "text",
    "html": "handout",
}
#: Formats written to a file whose suffix names another format: FHIR is JSON.
_WRITTEN_AS = {"fhir": "json"}
#: A UID key file holds one line; anything much longer is not a key file.
_UID_KEY_FILE_LIMIT = 4096


class UsageError(Exception):
    """Bad input on the command line: reported in one line, exit status 2."""


class StdoutError(UsageError):
    """Standard output cannot be written (a full disk, a closed descriptor)."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are :class:`UsageError`, reported like every other."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)

    def _print_message(self, message: str, file: Any = None) -> None:
        # argparse drops a failed write of --help or --version and exits 0; the command
        # reports it instead, like any other output that could not be written.
        if message:
            (file or sys.stderr).write(message)


# Numbers as a person types them: digits 0-9 only. Python's int() and float() also read
# other scripts' digits ("٣٦"), "3_6", surrounding spaces and, for float, "nan" and "inf":
# accepted, they meant nothing anyone typed on purpose ("--wait nan" waited for ever).
_WHOLE = re.compile(r"-?[0-9]+\Z")
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?\Z")


def whole(text: str) -> int:
    """The type of an option that takes a whole number: digits 0-9, perhaps a leading minus.

    The range is the library's to check (one rule, with the field's name).

    Example:
        >>> whole("36")
        36
        >>> whole("3_6")
        Traceback (most recent call last):
          ...
        argparse.ArgumentTypeError: must be a whole number written with the digits 0-9, got '3_6'
    """
    if not _WHOLE.match(text):
        raise argparse.ArgumentTypeError(
            f"must be a whole number written with the digits 0-9, got {text!r}"
        )
    return int(text)


def decimal(text: str) -> float:
    """The type of an option that takes a number that may have a fraction ("6", "6.5")."""
    if not _DECIMAL.match(text):
        raise argparse.ArgumentTypeError(
            f"must be a number written with the digits 0-9 (like 6 or 6.5), got {text!r}"
        )
    return float(text)


def seconds(text: str) -> float:
    """``--wait``: how long to wait for another terminal, 0 to 3600 seconds.

    Example:
        >>> seconds("2.5")
        2.5
        >>> seconds("nan")
        Traceback (most recent call last):
          ...
        argparse.ArgumentTypeError: must be a number of seconds from 0 to 3600, got 'nan'
    """
    value = float(text) if _DECIMAL.match(text) else -1.0
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds from 0 to 3600, got {text!r}"
        )
    return value


def add_plan_arguments(plan: argparse.ArgumentParser) -> None:
    """The options that describe a plan (shared by ``plan`` and ``course new``)."""
    plan.add_argument("protocol", metavar="PROTOCOL", help="a protocol id (see 'protocols')")
    plan.add_argument(
        "--start", required=True, metavar="YYYY-MM-DD", help="first day the course may use"
    )
    plan.add_argument(
        "--at",
        metavar="HH:MM",
        help="session time (first session of the day for accelerated and cluster days);"
        " default 09:00, or the opening time for protocols with several sessions a day",
    )
    plan.add_argument(
        "--tz", metavar="ZONE", help="IANA timezone, e.g. America/Denver (or from --clinic)"
    )
    plan.add_argument("--holidays", metavar="CC[-SUBDIV]", help="public holidays, e.g. US or US-CO")
    plan.add_argument(
        "--closed",
        nargs="+",
        action="extend",
        default=[],
        metavar="DATE",
        help="clinic closures: YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD",
    )
    plan.add_argument("--hours", metavar="HH:MM-HH:MM", help="opening hours (default 08:00-18:00)")
    plan.add_argument("--clinic", metavar="clinic.toml", help="clinic settings file")
    plan.add_argument("--course-id", metavar="ID", help="opaque course id (never patient data)")
    plan.add_argument(
        "--acute-sessions", type=whole, metavar="N", help="tune the acute session count"
    )
    plan.add_argument("--no-taper", action="store_true", help="drop the optional taper")
    plan.add_argument(
        "--no-continuation", action="store_true", help="drop the optional continuation"
    )
    plan.add_argument(
        "--split-blocks",
        action="store_true",
        help="let a closed day split an accelerated block instead of failing",
    )


def add_calendar_arguments(plan: argparse.ArgumentParser) -> None:
    """The calendar-file options (shared by ``plan`` and ``course export``)."""
    calendar = plan.add_argument_group(
        "calendar files (--format ics)",
        "Titles, reminders and the calendar name stay neutral ('Appointment') unless the"
        " clinic writes something else. A clinic file's [calendar] table sets the same.",
    )
    calendar.add_argument("--clinic-name", metavar="NAME", help="shown after 'Appointment'")
    calendar.add_argument("--title", metavar="TEXT", help="event title instead of 'Appointment'")
    calendar.add_argument("--location", metavar="TEXT", help="event location")
    calendar.add_argument("--phone", metavar="NUMBER", help="clinic phone, in the description")
    calendar.add_argument("--url", metavar="URL", help="clinic web address")
    calendar.add_argument(
        "--cannot-come",
        metavar="TEXT",
        help="the handout's line on what to do when the patient cannot come"
        " (default: call the clinic on --phone)",
    )
    calendar.add_argument("--organizer", metavar="EMAIL", help="adds ORGANIZER and METHOD:PUBLISH")
    calendar.add_argument(
        "--reminders",
        metavar="LIST",
        help="reminder lead times, e.g. 1d,1h (the default) or 30m; 'none' turns them off",
    )
    calendar.add_argument(
        "--session-numbers", action="store_true", help="add '(3 of 36)' to titles"
    )
    calendar.add_argument("--utc", action="store_true", help="write times in UTC (no VTIMEZONE)")
    calendar.add_argument(
        "--uid-key-file",
        metavar="FILE",
        help="a file holding the clinic's UID secret (16+ characters, one line), as"
        " [calendar] uid_key does: without one, anyone who can guess a course id can check"
        " it against the calendar ids. A file, not the secret itself: a command line is"
        " visible to other users (ps) and kept in shell history",
    )
    calendar.add_argument(
        "--stamp",
        metavar="YYYY-MM-DDTHH:MM:SSZ",
        help="export time for DTSTAMP and the handout's issue date (default: now); give it"
        " for byte-identical files",
    )


def plan_from_args(args: argparse.Namespace) -> tuple[Plan, ClinicSettings | None]:
    """The plan the plan options describe, and the clinic settings file when one was given."""
    for option, value in (
        ("--course-id", args.course_id),
        ("--tz", args.tz),
        ("--holidays", args.holidays),
        ("--hours", args.hours),
        ("--clinic", args.clinic),
    ):
        if value is not None and not value.strip():
            raise UsageError(f"{option}: must not be empty; leave the option out instead")
    settings = load_clinic(args.clinic) if args.clinic is not None else None
    catalogue = settings.catalogue if settings else Catalogue()
    protocol = tuned_protocol(catalogue, args)
    clinic = clinic_from_args(args, settings.calendar if settings else None)
    start = parse_date(args.start, "--start")
    at = _at(args.at, protocol, clinic)
    course_id = args.course_id if args.course_id is not None else f"course-{start.isoformat()}"
    blocks: Literal["whole", "split"] = "split" if args.split_blocks else "whole"
    return Plan(protocol, clinic, start, at, course_id, blocks=blocks), settings


def write_schedule(
    schedule: Schedule,
    fmt: str,
    options: CalendarOptions,
    stamp: dt.datetime | None,
    output: str | None,
    *,
    revision: int | None = None,
) -> None:
    """Write ``schedule`` in ``fmt`` to ``output`` (standard output when ``None`` or ``-``).

    ``stamp`` is the calendar file's DTSTAMP and, in the clinic's time, the handout's issue
    date; ``revision`` (a course's) is printed on the handout.

    A file written is reported in one line on standard output (how many sessions, from
    when to when, where); standard output itself gets the schedule and nothing else.
    """
    if fmt == "ics":
        assert stamp is not None
        data = schedule_to_ics(schedule, options, stamp=stamp)
    elif fmt == "json":
        data = schedule.to_json(uid_key=options.uid_key).encode("utf-8")
    elif fmt == "csv":
        data = schedule.to_csv(uid_key=options.uid_key).encode("utf-8")
    elif fmt == "html":
        issued = stamp.astimezone(ZoneInfo(schedule.timezone)).date() if stamp else None
        data = schedule.to_html(options, issued=issued, revision=revision).encode("utf-8")
    else:
        data = schedule.to_text().encode("utf-8")
    write_output(data, output)
    if output is not None and output != "-":
        print(f"Wrote {sessions_summary(schedule)} to {shown_path(output)}")


def sessions_summary(schedule: Schedule) -> str:
    """``36 sessions (Mon 16 Nov 2026 to Tue 19 Jan 2027)``: what a written file holds.

    >>> import datetime as dt
    >>> from tms_schedule import ClinicCalendar, Plan
    >>> schedule = Plan("itbs", ClinicCalendar("UTC"), dt.date(2026, 11, 16), dt.time(9), "c-1").expand()
    >>> sessions_summary(schedule)
    '30 sessions (Mon 16 Nov 2026 to Fri 25 Dec 2026)'
    >>> sessions_summary(attrs.evolve(schedule, sessions=(schedule.first.evolve(status="missed"),)))
    '1 session (Mon 16 Nov 2026; 1 missed or cancelled)'
    """
    count = len(schedule)
    sessions = f"{count} session{'' if count == 1 else 's'}"
    if not count:
        return sessions
    first, last = min(s.date for s in schedule), max(s.date for s in schedule)
    span = short_day(first) if first == last else f"{short_day(first)} to {short_day(last)}"
    # A course's file keeps its missed and cancelled sessions (as cancelled events).
    inactive = sum(1 for s in schedule if not s.active)
    return (
        f"{sessions} ({span}; {inactive} missed or cancelled)"
        if inactive
        else f"{sessions} ({span})"
    )


def require_course_id(args: argparse.Namespace) -> None:
    """Calendar and course files need the caller's own course id: their UIDs derive from it,
    and a default would be the same for every course that starts on the same day."""
    if args.course_id is None:
        raise UsageError(
            "--course-id: required for calendar and course files: give an opaque id of your"
            " own for the course (never a patient's name or record number)"
        )


def calendar_options_from_args(args: argparse.Namespace, base: CalendarOptions) -> CalendarOptions:
    """The calendar options a clinic file gives, with the command line's on top."""
    changes: dict[str, Any] = {
        field: value
        for field, value in (
            ("clinic_name", args.clinic_name),
            ("title", args.title),
            ("location", args.location),
            ("phone", args.phone),
            ("url", args.url),
            ("organizer", args.organizer),
            ("cannot_come", args.cannot_come),
        )
        if value is not None
    }
    if args.reminders is not None:
        text = args.reminders.strip()
        changes["reminders"] = () if text.lower() in ("none", "off", "") else text.split(",")
    if args.session_numbers:
        changes["session_numbers"] = True
    if args.utc:
        changes["times"] = "utc"
    if args.uid_key_file is not None:
        changes["uid_key"] = read_uid_key(args.uid_key_file)
    return attrs.evolve(base, **changes) if changes else base


def read_uid_key(path: str) -> str:
    """The UID secret a key file holds: its one line, without the line break.

    >>> import tempfile, pathlib
    >>> key = pathlib.Path(tempfile.mkdtemp()) / "uid.key"
    >>> _ = key.write_text("a clinic secret of 16+ characters\\n")
    >>> read_uid_key(str(key))
    'a clinic secret of 16+ characters'
    """
    try:
        data = read_file(path, limit=_UID_KEY_FILE_LIMIT, error=UidKeyFileError, what="key file")
    except UidKeyFileError as error:
        raise UsageError(f"--uid-key-file: {error}") from None
    shown = shown_path(path)
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise UsageError(f"--uid-key-file: {shown}: is not UTF-8 text") from None
    key = text.removesuffix("\n").removesuffix("\r")
    if "\n" in key or "\r" in key:
        raise UsageError(f"--uid-key-file: {shown}: must hold the key on one line")
    if len(key.strip()) < 16:
        raise UsageError(
            f"--uid-key-file: {shown}: must hold a secret of at least 16 characters, got"
            f" {len(key.strip())}"
        )
    return key


class UidKeyFileError(ValueError):
    """A UID key file that cannot be read (reported as a :class:`UsageError`)."""


def stamp_from_args(text: str | None) -> dt.datetime:
    """The export time: the option's, or now (the command line is the one place that may)."""
    if text is None:
        # The command line is the one place that reads the clock; the library never does.
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise UsageError(
            "--stamp: must be a date and time with a UTC offset, like 2026-11-16T08:00:00Z,"
            f" got {text!r}"
        )
    return value


def clinic_from_args(args: argparse.Namespace, base: ClinicCalendar | None) -> ClinicCalendar:
    closures = tuple(parse_closure(text) for text in args.closed)
    if base is None:
        if args.tz is None:
            raise UsageError(
                "--tz: required (an IANA timezone such as America/Denver) unless --clinic gives"
                " timezone"
            )
        kwargs: dict[str, Any] = {
            "timezone": args.tz,
            "holidays": args.holidays,
            "closures": closures,
        }
        if args.hours is not None:
            kwargs["hours"] = args.hours
        return ClinicCalendar(**kwargs)
    changes: dict[str, Any] = {}
    if args.tz is not None:
        changes["timezone"] = args.tz
    if args.holidays is not None:
        changes["holidays"] = args.holidays
    if args.hours is not None:
        changes["hours"] = args.hours
    if closures:
        changes["closures"] = base.closures + closures
    return attrs.evolve(base, **changes) if changes else base


def parse_closure(text: str, option: str = "--closed") -> Closure:
    """A closure written ``YYYY-MM-DD`` or ``YYYY-MM-DD..YYYY-MM-DD``; errors name ``option``."""
    first, sep, last = text.partition("..")
    start = parse_date(first, option)
    end = parse_date(last, option) if sep else start
    if end < start:
        raise UsageError(
            f"{option}: the last day ({end}) is before the first ({start}); write FIRST..LAST"
        )
    try:
        return Closure(start, end, "Clinic closure")
    except TmsScheduleError as error:
        raise UsageError(f"{option}: {error}") from None


def parse_date(text: str, option: str) -> dt.date:
    """A day written ``YYYY-MM-DD`` in ASCII digits, from 1900 to 2399 (the years a clinic
    calendar covers); errors name ``option``.

    >>> parse_date("2026-11-16", "--start")
    datetime.date(2026, 11, 16)
    >>> parse_date("0001-01-01", "--from")
    Traceback (most recent call last):
    ...
    tms_schedule.cli.common.UsageError: --from: must be a day from 1900-01-01 to 2399-12-31, got '0001-01-01'
    """
    # Not 20261201 nor 2026-W49-3, and only ASCII digits: Python's \d and int() read
    # Arabic-Indic and other digits, which no one means on a form.
    if not isinstance(text, str) or not _DATE.fullmatch(text):
        raise UsageError(f"{option}: must be a date written YYYY-MM-DD, got {text!r}")
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option}: must be a date written YYYY-MM-DD, got {text!r}") from None
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise UsageError(
            f"{option}: must be a day from {EARLIEST_DATE} to {LATEST_DATE}, got {text!r}"
        )
    return value


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})", re.ASCII)
_MOMENT = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}:[0-9]{2})(:00)?(Z|[+-][0-9]{2}:[0-9]{2})?", re.ASCII
)


def _at(text: str | None, protocol: Protocol, clinic: ClinicCalendar) -> dt.time:
    if text is None:
        several = any(
            isinstance(p, Accelerated) or (isinstance(p, Periodic) and p.cluster_sessions > 1)
            for p in protocol.phases
        )
        return clinic.hours.opens if several else dt.time(9)
    return parse_time(text, "--at")


def parse_time(text: str, option: str) -> dt.time:
    """A time of day written ``HH:MM`` (``9:00`` too) in ASCII digits, nothing before or
    after it; errors name ``option``.

    >>> parse_time("9:30", "--at")
    datetime.time(9, 30)
    >>> parse_time("09:00\\n", "--at")
    Traceback (most recent call last):
    ...
    tms_schedule.cli.common.UsageError: --at: must be a time written HH:MM (09:00), got '09:00\\n'
    """
    match = _TIME.fullmatch(text) if isinstance(text, str) else None
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise UsageError(f"{option}: must be a time written HH:MM (09:00), got {text!r}")
    return dt.time(int(match[1]), int(match[2]))


def tuned_protocol(catalogue: Catalogue, args: argparse.Namespace) -> Protocol:
    """``PROTOCOL`` from the catalogue, tuned by ``--acute-sessions``, ``--no-taper`` and
    ``--no-continuation``."""
    protocol = catalogue.get(args.protocol)
    tuning: dict[str, Any] = {}
    if args.acute_sessions is not None:
        tuning["acute_sessions"] = args.acute_sessions
    if args.no_taper:
        tuning["taper"] = False
    if args.no_continuation:
        tuning["continuation"] = False
    return protocol.tune(**tuning) if tuning else protocol


def format_from(output: str | None) -> str:
    """The format ``-o``'s file name asks for by its suffix (text for standard output).

    An unknown suffix is refused rather than given the terminal text: ``-o handout.pdf``
    must not write a text file that a PDF reader then refuses.
    """
    if output is None or output == "-":
        return "text"
    suffix = Path(output).suffix.lower()
    if suffix not in SUFFIX_FORMATS:
        what = f"the suffix {suffix!r}" if suffix else "no suffix"
        raise UsageError(
            f"-o: {shown_path(output)} has {what}; known suffixes:"
            f" {' '.join(SUFFIX_FORMATS)} (or '-' for standard output), or give --format"
        )
    return SUFFIX_FORMATS[suffix]


def output_format(given: str | None, output: str | None, default: str = "text") -> str:
    """The format to write: ``--format`` when given, else ``-o``'s suffix, else ``default``.

    With ``--format``, a file name whose suffix belongs to another format is refused (CSV in
    ``appointments.ics`` would be a broken calendar file); an unknown suffix is the caller's
    explicit choice.
    """
    if given is None:
        return default if output is None or output == "-" else format_from(output)
    if output is not None and output != "-":
        implied = SUFFIX_FORMATS.get(Path(output).suffix.lower())
        if implied is not None and implied != _WRITTEN_AS.get(given, given):
            raise UsageError(
                f"-o: {shown_path(output)} names a {_FORMAT_WORDS[implied]} but --format is"
                f" {given}; give the file a {given} suffix ("
                + " ".join(
                    k for k, v in SUFFIX_FORMATS.items() if v == _WRITTEN_AS.get(given, given)
                )
                + ")"
                " or leave out --format"
            )
    return given


def write_output(data: bytes, output: str | None) -> None:
    """Write to standard output, or atomically to the file ``-o`` names."""
    if output is None or output == "-":
        try:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            raise StdoutError(f"standard output: cannot write ({_why(error)})") from None
        return
    held = _course_file_at(output)
    if held is not None:
        raise UsageError(
            f"-o: {shown_path(output)} is the course file of course {held}; an export over it"
            " would lose its records: write the export to another name"
        )
    try:
        write_file(output, data)
    except FileWriteError as error:
        raise UsageError(f"-o: {error}") from None


def _course_file_at(path: str) -> str | None:
    """The course id when ``path`` is an existing course file (its start says so)."""
    if not os.path.isfile(path):
        return None
    try:
        with open(path, "rb") as stream:
            head = stream.read(4096)
    except OSError:
        return None
    if b'"format": "tms_schedule/course"' not in head:
        return None
    match = re.search(rb'"course_id": "([^"]{1,200})"', head)
    return match[1].decode("utf-8", "replace") if match else "(unknown)"


def parse_span(option: str, **amount: float) -> dt.timedelta:
    """A duration from an option's number (``hours=6``), or a :class:`UsageError` naming it."""
    try:
        return dt.timedelta(**amount)
    except (ValueError, OverflowError):
        raise UsageError(f"{option}: {next(iter(amount.values()))} is out of range") from None


def parse_local(text: str, zone: Any, option: str) -> dt.datetime:
    """A date and time to the minute in the clinic's zone (``2026-11-20T14:00``), or with
    its own offset (``2026-11-20T21:00Z``, ``2026-11-20T14:00-07:00``).

    Sessions and records are kept to the minute, so a time with seconds (other than
    ``:00``) is refused rather than cut short.

    >>> parse_local("2026-11-20T14:00:30", dt.UTC, "--moved-to")
    Traceback (most recent call last):
    ...
    tms_schedule.cli.common.UsageError: --moved-to: must be a date and time to the minute like 2026-11-20T14:00 (or with an offset, 2026-11-20T14:00-07:00), got '2026-11-20T14:00:30'
    """
    match = _MOMENT.fullmatch(text) if isinstance(text, str) else None
    value = None
    if match is not None:
        day = parse_date(match[1], option)
        time = parse_time(match[2], option)
        offset = match[4]
        try:
            value = dt.datetime.fromisoformat(
                f"{day}T{time}{'+00:00' if offset == 'Z' else offset or ''}"
            )
        except ValueError:  # an offset of 24 hours or more
            value = None
    if value is None:
        raise UsageError(
            f"{option}: must be a date and time to the minute like 2026-11-20T14:00 (or with an"
            f" offset, 2026-11-20T14:00-07:00), got {text!r}"
        )
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


def _why(error: OSError) -> str:
    return error.strerror or str(error) or type(error).__name__


def add_key_arguments(parser: argparse.ArgumentParser) -> None:
    """``--uid-key-file`` and ``--clinic`` where a command has neither: the clinic's UID
    key, which seals its course files (a file sealed with it is read and saved only with
    it), from a key file or the clinic file's ``[calendar] uid_key``."""
    given = parser._option_string_actions  # what the command takes already
    if "--uid-key-file" not in given:
        parser.add_argument(
            "--uid-key-file",
            metavar="FILE",
            help="a file holding the clinic's UID key, if its course files are sealed with it",
        )
    if "--clinic" not in given:
        parser.add_argument(
            "--clinic",
            metavar="clinic.toml",
            help="the clinic file, whose [calendar] uid_key seals its course files",
        )


def add_record_arguments(record: argparse.ArgumentParser) -> None:
    """What ``course record`` and ``book record`` take after the session's number."""
    what = record.add_mutually_exclusive_group(required=True)
    what.add_argument("--attended", action="store_true", help="the session took place")
    what.add_argument(
        "--missed", action="store_true", help="the session did not take place (give --cause)"
    )
    what.add_argument(
        "--cancelled", action="store_true", help="the session will not happen (re-plan after)"
    )
    what.add_argument(
        "--moved-to", metavar="YYYY-MM-DDTHH:MM", help="the session's new start, clinic time"
    )
    record.add_argument(
        "--cause", choices=CAUSES, help="why it was missed (required with --missed)"
    )
    record.add_argument(
        "--when", metavar="YYYY-MM-DDTHH:MM", help="when it was attended (default: as planned)"
    )
    record.add_argument("--note", metavar="TEXT", help="a note for the front desk")


def recorded(course: Course, args: argparse.Namespace, now: dt.datetime) -> tuple[Course, str]:
    """The course with the record the arguments describe, and the record in words."""
    if args.missed and args.cause is None:
        raise UsageError(f"--cause: say why session {args.session} was missed: {', '.join(CAUSES)}")
    if args.cause is not None and not args.missed:
        raise UsageError("--cause: only a missed session has a cause (give --missed)")
    if args.when is not None and not args.attended:
        raise UsageError("--when: only an attendance has a time (give --attended)")
    zone = course.plan.clinic.zone
    if args.attended:
        when = parse_local(args.when, zone, "--when") if args.when is not None else None
        return course.attended(args.session, when, args.note, now=now), "attended"
    if args.missed:
        changed = course.missed(args.session, args.cause, args.note, now=now)
        return changed, f"missed ({args.cause})"
    if args.cancelled:
        return course.cancelled(args.session, args.note, now=now), "cancelled"
    to = parse_local(args.moved_to, zone, "--moved-to")
    return course.moved(args.session, to, args.note, now=now), f"moved to {to:%Y-%m-%d %H:%M}"


def add_authorization_arguments(parser: argparse.ArgumentParser, payers: str) -> None:
    """The options that set or extend a course's insurance authorization (``payers``: where
    ``--payer``'s staged authorizations come from, in words)."""
    parser.add_argument("--sessions", type=whole, metavar="N", help="sessions approved")
    parser.add_argument(
        "--from", dest="valid_from", metavar="YYYY-MM-DD", help="the first approved day"
    )
    parser.add_argument("--until", metavar="YYYY-MM-DD", help="the last approved day")
    parser.add_argument(
        "--extend", type=whole, metavar="N", help="add N approved sessions (with --until: later)"
    )
    parser.add_argument("--note", metavar="TEXT", help="a note on the extension")
    parser.add_argument("--payer", metavar="ID", help=f"a staged authorization: {payers}")


def authorized(
    course: Course, args: argparse.Namespace, known: Mapping[str, StagedAuthorization]
) -> Course:
    """The course with the authorization the options give: set (``--sessions``, ``--from``,
    ``--until``), staged (``--payer``, one of ``known``) or extended (``--extend``)."""
    if args.extend is not None:
        until = parse_date(args.until, "--until") if args.until else None
        return course.extend_authorization(args.extend, until, args.note)
    staged = None
    if args.payer is not None:
        if args.payer not in known:
            raise UsageError(
                f"--payer: must be one of {', '.join(sorted(known))} (the clinic file's"
                f" [[authorizations]]), got {args.payer!r}"
            )
        staged = known[args.payer]
    sessions = args.sessions if staged is None else staged.sessions
    if sessions is None or args.valid_from is None or args.until is None:
        raise UsageError(
            "authorize: give --sessions, --from and --until, or --extend N (a staged"
            " authorization: --payer instead of --sessions)"
        )
    if staged is not None and args.sessions not in (None, staged.sessions):
        raise UsageError(
            f"--sessions: {staged.name} approves {staged.sessions} before its decision;"
            " leave --sessions out"
        )
    return course.authorize(
        Authorization(
            sessions,
            parse_date(args.valid_from, "--from"),
            parse_date(args.until, "--until"),
            staged=staged,
        )
    )


def authorization_said(course: Course, saved_to: str = " (saved)") -> str:
    """``Authorization: 36 sessions until 2027-01-31 (saved)``, and its stages when
    staged, as lines."""
    authorization = course.authorization
    assert authorization is not None
    said = (
        f"Authorization: {authorization.approved} sessions until {authorization.until}{saved_to}\n"
    )
    if authorization.decision_due:
        assert authorization.staged is not None
        said += f"Staged: {authorization.staged.describe()}\n"
    return said


#: The files this command has saved so far: a Ctrl-C after a save says what was saved
#: rather than "nothing was changed" (see :func:`tms_schedule.cli.main`).
SAVED: list[str] = []


def saved(path: str | os.PathLike[str]) -> None:
    """Note that the command saved ``path`` (for the line a Ctrl-C prints)."""
    SAVED.append(str(path))


def actor() -> str:
    """Who acts, for the book's audit trail: the computer's user (the command line's
    answer; the front desk names its signed-in user)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "command line"
