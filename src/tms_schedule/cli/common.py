"""What every command-line command shares: the parser, the plan and calendar options, dates,
and writing output. The commands' own modules import from here, never from each other.

The command line is the only part of tms_schedule that reads defaults from outside its
arguments, and only these: ``--at`` defaults to 09:00 (the opening time for protocols with
several sessions a day), ``--course-id`` to ``course-START`` (only for text, CSV and JSON:
calendar files and course files need an id of their own), and ``--stamp`` (the export time
of a calendar file) to the current time. There is no default timezone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any, Literal, NoReturn

import attrs

from tms_schedule._files import write_file
from tms_schedule.catalogue import Catalogue
from tms_schedule.clinic import ClinicCalendar, Closure
from tms_schedule.errors import FileWriteError
from tms_schedule.export.ics import schedule_to_ics
from tms_schedule.export.options import CalendarOptions
from tms_schedule.phase import Accelerated, Periodic
from tms_schedule.plan import Plan
from tms_schedule.protocol import Protocol
from tms_schedule.schedule import Schedule
from tms_schedule.settings import ClinicSettings, load_clinic

__all__ = [
    "FORMATS",
    "Parser",
    "UsageError",
    "add_calendar_arguments",
    "add_plan_arguments",
    "calendar_options_from_args",
    "format_from",
    "parse_closure",
    "parse_date",
    "parse_local",
    "parse_span",
    "plan_from_args",
    "require_course_id",
    "stamp_from_args",
    "write_schedule",
]

FORMATS = ("text", "json", "csv", "ics", "html")
_SUFFIX_FORMATS = {
    ".json": "json",
    ".csv": "csv",
    ".txt": "text",
    ".ics": "ics",
    ".html": "html",
    ".htm": "html",
}


class UsageError(Exception):
    """Bad input on the command line: reported in one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are :class:`UsageError`, reported like every other."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


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
        "--acute-sessions", type=int, metavar="N", help="tune the acute session count"
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
        "--stamp",
        metavar="YYYY-MM-DDTHH:MM:SSZ",
        help="export time for DTSTAMP (default: now); give it for byte-identical files",
    )


def plan_from_args(args: argparse.Namespace) -> tuple[Plan, ClinicSettings | None]:
    """The plan the plan options describe, and the clinic settings file when one was given."""
    settings = load_clinic(args.clinic) if args.clinic else None
    catalogue = settings.catalogue if settings else Catalogue()
    protocol = catalogue.get(args.protocol)
    tuning: dict[str, Any] = {}
    if args.acute_sessions is not None:
        tuning["acute_sessions"] = args.acute_sessions
    if args.no_taper:
        tuning["taper"] = False
    if args.no_continuation:
        tuning["continuation"] = False
    if tuning:
        protocol = protocol.tune(**tuning)
    clinic = clinic_from_args(args, settings.calendar if settings else None)
    start = parse_date(args.start, "--start")
    at = _at(args.at, protocol, clinic)
    course_id = args.course_id or f"course-{start.isoformat()}"
    blocks: Literal["whole", "split"] = "split" if args.split_blocks else "whole"
    return Plan(protocol, clinic, start, at, course_id, blocks=blocks), settings


def write_schedule(
    schedule: Schedule,
    fmt: str,
    options: CalendarOptions,
    stamp: dt.datetime | None,
    output: str | None,
) -> None:
    """Write ``schedule`` in ``fmt`` to ``output`` (standard output when ``None``)."""
    if fmt == "ics":
        assert stamp is not None
        write_output(schedule_to_ics(schedule, options, stamp=stamp), output)
        return
    if fmt == "json":
        text = schedule.to_json(uid_key=options.uid_key)
    elif fmt == "csv":
        text = schedule.to_csv(uid_key=options.uid_key)
    elif fmt == "html":
        text = schedule.to_html(options)
    else:
        text = schedule.to_text()
    write_output(text.encode("utf-8"), output)


def require_course_id(args: argparse.Namespace) -> None:
    """Calendar and course files need the caller's own course id: their UIDs derive from it,
    and a default would be the same for every course that starts on the same day."""
    if not args.course_id:
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
    return attrs.evolve(base, **changes) if changes else base


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
        if not args.tz:
            raise UsageError(
                "--tz: required (an IANA timezone such as America/Denver) unless --clinic gives"
                " timezone"
            )
        kwargs: dict[str, Any] = {
            "timezone": args.tz,
            "holidays": args.holidays,
            "closures": closures,
        }
        if args.hours:
            kwargs["hours"] = args.hours
        return ClinicCalendar(**kwargs)
    changes: dict[str, Any] = {}
    if args.tz:
        changes["timezone"] = args.tz
    if args.holidays:
        changes["holidays"] = args.holidays
    if args.hours:
        changes["hours"] = args.hours
    if closures:
        changes["closures"] = base.closures + closures
    return attrs.evolve(base, **changes) if changes else base


def parse_closure(text: str) -> Closure:
    first, sep, last = text.partition("..")
    start = parse_date(first, "--closed")
    end = parse_date(last, "--closed") if sep else start
    return Closure(start, end, "Clinic closure")


def parse_date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option}: must be a date written YYYY-MM-DD, got {text!r}") from None


def _at(text: str | None, protocol: Protocol, clinic: ClinicCalendar) -> dt.time:
    if text is None:
        several = any(
            isinstance(p, Accelerated) or (isinstance(p, Periodic) and p.cluster_sessions > 1)
            for p in protocol.phases
        )
        return clinic.hours.opens if several else dt.time(9)
    try:
        value = dt.time.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--at: must be a time written HH:MM, got {text!r}") from None
    if value.second or value.microsecond or value.tzinfo:
        raise UsageError(f"--at: must be a time written HH:MM, got {text!r}")
    return value


def format_from(output: str | None) -> str:
    if output is None:
        return "text"
    return _SUFFIX_FORMATS.get(Path(output).suffix.lower(), "text")


def write_output(data: bytes, output: str | None) -> None:
    """Write to standard output, or atomically to the file ``-o`` names."""
    if output is None or output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        write_file(output, data)
    except FileWriteError as error:
        raise UsageError(f"-o: {error}") from None


def parse_span(option: str, **amount: float) -> dt.timedelta:
    """A duration from an option's number (``hours=6``), or a :class:`UsageError` naming it."""
    try:
        return dt.timedelta(**amount)
    except (ValueError, OverflowError):
        raise UsageError(f"{option}: {next(iter(amount.values()))} is out of range") from None


def parse_local(text: str, zone: Any, option: str) -> dt.datetime:
    """A date and time in the clinic's zone (``2026-11-20T14:00``), or with its own offset."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{option}: must be a date and time like 2026-11-20T14:00, got {text!r}"
        ) from None
    return value.replace(tzinfo=zone) if value.tzinfo is None else value
