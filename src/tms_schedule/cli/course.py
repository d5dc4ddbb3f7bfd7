"""``tms-schedule course ...``: a front desk without clinic software keeps a course in a file.

::

    tms-schedule course new standard-10hz --start 2026-11-16 --tz America/Denver --course-id c-1 -o c-1.json
    tms-schedule course record c-1.json 3 --missed --cause clinic --note "snow"
    tms-schedule course void c-1.json 30 --reason "typo for 3"
    tms-schedule course replan c-1.json --policy extend
    tms-schedule course authorize c-1.json --sessions 36 --from 2026-11-16 --until 2027-01-31
    tms-schedule course check c-1.json
    tms-schedule course show c-1.json
    tms-schedule course rate c-1.json 18 --session 1
    tms-schedule course authorize c-1.json --payer medicare-a57692 --from 2026-11-16 --until 2027-01-31
    tms-schedule course decide c-1.json
    tms-schedule course end c-1.json --reason "moved away"
    tms-schedule course close c-1.json 2026-12-24..2026-12-31 --reason "Winter break"
    tms-schedule course export c-1.json -o appointments.ics
    tms-schedule course push c-1.json c-1-m.json --server-file caldav.toml

Every command that changes a course locks its file for the whole read-change-save (another
terminal changing the same course waits, up to ``--wait`` seconds) and writes it atomically;
``new`` and ``follow`` never replace an existing file unless told ``--force``. The clock is
read here and only here: attendance and misses are checked against it, and a re-plan starts
from now unless ``--from`` says otherwise. Bad input exits with status 2 and one line on
standard error; ``check`` exits with 1 when a planned session lies outside the authorization.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import attrs

from tms_schedule._dates import short_moment
from tms_schedule._files import shown_path
from tms_schedule.cli.common import (
    UsageError,
    add_authorization_arguments,
    add_calendar_arguments,
    add_key_arguments,
    add_plan_arguments,
    add_record_arguments,
    authorization_said,
    authorized,
    calendar_options_from_args,
    decimal,
    output_format,
    parse_closure,
    parse_date,
    parse_local,
    parse_span,
    plan_from_args,
    read_uid_key,
    recorded,
    require_course_id,
    saved,
    seconds,
    sessions_summary,
    stamp_from_args,
    whole,
    write_output,
    write_schedule,
)
from tms_schedule.course import POLICIES, Course
from tms_schedule.course.authorization import MEDICARE_A57692
from tms_schedule.course.file import editing, load_course, save_course
from tms_schedule.course.ratings import SCALES, Scale
from tms_schedule.errors import CourseError, CourseFileError, FhirExportError
from tms_schedule.export.json import schedule_to_dict
from tms_schedule.export.options import CalendarOptions
from tms_schedule.export.places import places, session_words
from tms_schedule.export.uid import key_id
from tms_schedule.schedule import Schedule
from tms_schedule.settings import load_clinic

__all__ = ["add_course_commands", "run_course"]

_WAIT_HELP = "how long to wait for another terminal changing the same course (default 10)"


def add_course_commands(commands: Any) -> None:
    """Register ``course`` and its subcommands on the top-level parser's subcommands."""
    course = commands.add_parser(
        "course", help="keep a course in a file: record, re-plan, check, export"
    )
    actions = course.add_subparsers(
        dest="action", required=True, parser_class=type(course), metavar="ACTION"
    )

    new = actions.add_parser("new", help="start a course file from a protocol")
    add_plan_arguments(new)
    new.add_argument(
        "--uid-key-file",
        metavar="FILE",
        help="the clinic's UID secret, if not in --clinic's file; the course remembers which"
        " key its calendar ids use",
    )
    new.add_argument("-o", "--output", required=True, metavar="COURSE.json", help="the course file")
    new.add_argument("--force", action="store_true", help="replace an existing file of that name")

    record = actions.add_parser("record", help="record what happened to a session")
    record.add_argument("file", metavar="COURSE.json", help="the course file")
    record.add_argument("session", type=whole, metavar="SESSION", help="the session's number")
    add_record_arguments(record)
    record.add_argument("--wait", type=seconds, default=10.0, metavar="SECONDS", help=_WAIT_HELP)

    void = actions.add_parser(
        "void", help="take back a record entered by mistake (it stays in the history)"
    )
    void.add_argument("file", metavar="COURSE.json", help="the course file")
    void.add_argument(
        "session", type=whole, metavar="SESSION", help="the session whose latest record is voided"
    )
    void.add_argument("--reason", required=True, metavar="TEXT", help="why (kept in the history)")
    void.add_argument("--wait", type=seconds, default=10.0, metavar="SECONDS", help=_WAIT_HELP)

    replan = actions.add_parser("replan", help="plan again what the course owes")
    replan.add_argument("file", metavar="COURSE.json", help="the course file")
    replan.add_argument(
        "--from",
        dest="start",
        metavar="YYYY-MM-DD[THH:MM]",
        help="book nothing before this moment (default: now); a past date re-plans a course"
        " entered late",
    )
    replan.add_argument(
        "--policy",
        choices=POLICIES,
        default="extend",
        help="where missed sessions go: extend (end of their phase, the default), double"
        " (a second session on a later day), extra-day (the clinic's catch-up days)",
    )
    replan.add_argument(
        "--min-gap-hours",
        type=decimal,
        default=6.0,
        metavar="H",
        help="double: the least time from a session's end to the day's second one (default 6)",
    )
    replan.add_argument(
        "--extra-per-week",
        type=whole,
        default=2,
        metavar="N",
        help="double: the most second sessions in a week (1 to 5, default 2)",
    )
    replan.add_argument(
        "--gap-limit-days",
        type=whole,
        default=14,
        metavar="DAYS",
        help="warn about a gap between sessions longer than this (default 14)",
    )
    replan.add_argument(
        "--within-authorization",
        action="store_true",
        help="refuse a re-plan that puts a session outside the insurance authorization",
    )
    replan.add_argument("--wait", type=seconds, default=10.0, metavar="SECONDS", help=_WAIT_HELP)

    show = actions.add_parser("show", help="print the course now")
    show.add_argument("file", metavar="COURSE.json", help="the course file")
    show.add_argument(
        "--format",
        choices=("text", "json", "csv"),
        default="text",
        help="text for people (the default), JSON or CSV for programs",
    )
    show.add_argument(
        "--since",
        type=whole,
        metavar="REVISION",
        help="list the changes since this revision (default: the latest re-plan's)",
    )
    show.add_argument(
        "--clinic", metavar="clinic.toml", help="its UID key, for the uid column of JSON and CSV"
    )
    show.add_argument(
        "--uid-key-file", metavar="FILE", help="the UID key, for the uid column of JSON and CSV"
    )

    authorize = actions.add_parser("authorize", help="set or extend the insurance authorization")
    authorize.add_argument("file", metavar="COURSE.json", help="the course file")
    add_authorization_arguments(
        authorize,
        f"the payer's stages from --clinic's [[authorizations]], or {MEDICARE_A57692.payer}"
        " (Medicare's 20 sessions, then a decision)",
    )
    authorize.add_argument("--clinic", metavar="clinic.toml", help="its [[authorizations]]")
    authorize.add_argument("--wait", type=seconds, default=10.0, metavar="SECONDS", help=_WAIT_HELP)

    check = actions.add_parser("check", help="check the plan against the authorization")
    check.add_argument("file", metavar="COURSE.json", help="the course file")

    export = actions.add_parser(
        "export", help="write the course's calendar file (or handout, CSV, JSON, FHIR)"
    )
    export.add_argument("file", metavar="COURSE.json", help="the course file")
    export.add_argument("--revision", type=whole, metavar="N", help="as of this revision")
    export.add_argument("--clinic", metavar="clinic.toml", help="its [calendar] choices")
    add_calendar_arguments(export)
    export.add_argument(
        "--format",
        choices=("ics", "json", "csv", "html", "text", "fhir"),
        help="default: from -o's suffix, else ics; fhir (a FHIR R4 Bundle, JSON) is only"
        " written when asked for",
    )
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE")
    fhir = export.add_argument_group("FHIR (--format fhir)")
    fhir.add_argument(
        "--patient",
        metavar="Patient/ID",
        help="the clinic system's reference to the patient's Patient resource (required);"
        " only the reference is written",
    )
    fhir.add_argument(
        "--bundle",
        choices=("collection", "transaction"),
        default="collection",
        help="collection (default), or transaction: a PUT per resource for a FHIR server",
    )

    close = actions.add_parser(
        "close", help="add a clinic closure to the course's calendar (then re-plan)"
    )
    close.add_argument("file", metavar="COURSE.json", help="the course file")
    close.add_argument("dates", metavar="DATE", help="YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD")
    close.add_argument(
        "--reason", default="Clinic closure", metavar="TEXT", help="shown where the day shows"
    )
    close.add_argument("--wait", type=seconds, default=10.0, metavar="SECONDS", help=_WAIT_HELP)

    push = actions.add_parser(
        "push", help="bring a CalDAV calendar up to date with a patient's courses"
    )
    push.add_argument(
        "files", nargs="+", metavar="COURSE.json", help="the course files (a patient's courses)"
    )
    push.add_argument(
        "--server-file",
        required=True,
        metavar="caldav.toml",
        help="the CalDAV collection: url, and username and password (a file, readable only"
        " by the front desk: never credentials on the command line)",
    )
    push.add_argument(
        "--cancelled",
        choices=("keep", "drop"),
        default="keep",
        help="keep cancelled and missed sessions as cancelled events (default), or delete them",
    )
    push.add_argument("--clinic", metavar="clinic.toml", help="its [calendar] choices")
    add_calendar_arguments(push)

    rate = actions.add_parser(
        "rate", help="record a rating's score (PHQ-9 0-27, or the clinic's scales)"
    )
    rate.add_argument("file", metavar="COURSE.json", help="the course file")
    rate.add_argument(
        "score", type=whole, nargs="?", metavar="SCORE", help="the score (within its scale's range)"
    )
    rate.add_argument("--scale", metavar="NAME", help="default: the course's scale (PHQ-9)")
    rate.add_argument("--session", type=whole, metavar="N", help="the session it was rated at")
    rate.add_argument("--on", metavar="YYYY-MM-DD", help="the day it was rated (default: today)")
    rate.add_argument("--note", metavar="TEXT", help="a note (never in calendar files)")
    rate.add_argument("--clinic", metavar="clinic.toml", help="its [[scales]]")
    rate.add_argument(
        "--void", type=whole, metavar="N", help="take back rating N instead (give --reason)"
    )
    rate.add_argument("--reason", metavar="TEXT", help="why rating N is taken back")
    rate.add_argument("--wait", type=seconds, default=10.0, metavar="SECONDS", help=_WAIT_HELP)

    decide = actions.add_parser(
        "decide", help="apply a staged authorization's decision with the latest rating"
    )
    decide.add_argument("file", metavar="COURSE.json", help="the course file")
    decide.add_argument(
        "--rating",
        type=whole,
        metavar="N",
        help="the rating that supports it (default: the latest)",
    )
    decide.add_argument("--wait", type=seconds, default=10.0, metavar="SECONDS", help=_WAIT_HELP)

    end = actions.add_parser("end", help="end the course early, with the reason")
    end.add_argument("file", metavar="COURSE.json", help="the course file")
    end.add_argument("--reason", required=True, metavar="TEXT", help="why (kept in the history)")
    end.add_argument(
        "--from",
        dest="start",
        metavar="YYYY-MM-DD[THH:MM]",
        help="no session from then on (default: now)",
    )
    end.add_argument("--wait", type=seconds, default=10.0, metavar="SECONDS", help=_WAIT_HELP)

    follow = actions.add_parser(
        "follow", help="start a maintenance or rescue course after this one"
    )
    follow.add_argument("file", metavar="COURSE.json", help="the course file")
    follow.add_argument("protocol", metavar="PROTOCOL", help="the following course's protocol")
    follow.add_argument("--course-id", required=True, metavar="ID", help="its own opaque id")
    follow.add_argument(
        "--start", metavar="YYYY-MM-DD", help="default: a week after the last session"
    )
    follow.add_argument(
        "--rescue",
        action="store_true",
        help="a reintroduction course for a relapse; during maintenance it supersedes the"
        " boosters from its first day (the maintenance file is updated)",
    )
    follow.add_argument(
        "--resume",
        metavar="MAINTENANCE.json",
        help="after a rescue course (FILE): the boosters of the maintenance it superseded",
    )
    follow.add_argument("-o", "--output", required=True, metavar="NEXT.json", help="its file")
    follow.add_argument(
        "--force", action="store_true", help="replace an existing file of that name"
    )
    # Every command that reads a course file reads a sealed one with the clinic's key.
    for parser in actions.choices.values():
        add_key_arguments(parser)


def _sealing(args: argparse.Namespace) -> str | bytes | None:
    """The clinic's UID key, which seals its course files: ``--uid-key-file``, or the
    ``uid_key`` of ``--clinic``'s file where the command takes one."""
    if getattr(args, "uid_key_file", None) is None and getattr(args, "clinic", None) is None:
        return None
    return _key_from(args)


def run_course(args: argparse.Namespace) -> int:
    """Run one ``course`` subcommand; returns the exit status."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)  # the command line reads the clock
    if args.action == "new":
        require_course_id(args)
        _course_output(args.output)
        plan, settings = plan_from_args(args)
        key = settings.calendar_options.uid_key if settings else None
        if args.uid_key_file is not None:
            key = read_uid_key(args.uid_key_file)
        course = Course.start(plan, uid_key_id=key_id(key))
        _write_new(course, args.output, args.force, key)
        print(
            f"Wrote course {course.course_id} to {shown_path(args.output)}:"
            f" {sessions_summary(course.schedule)}"
        )
        return 0
    match args.action:
        case "record":
            return _record(args, now)
        case "void":
            return _void(args, now)
        case "replan":
            return _replan(args, now)
        case "authorize":
            return _authorize(args)
        case "close":
            return _close(args)
        case "push":
            return _push(args, now)
        case "rate":
            return _rate(args, now)
        case "decide":
            return _decide(args, now)
        case "end":
            return _end(args, now)
    course = load_course(args.file, key=_sealing(args))
    match args.action:
        case "show":
            return _show(course, args, now)
        case "check":
            report = course.check_authorization()
            print(report.to_text(), end="")
            return 0 if report.ok else 1
        case "export":
            return _export(course, args)
        case "follow":
            return _follow(course, args, now)
    raise AssertionError(args.action)


def _record(args: argparse.Namespace, now: dt.datetime) -> int:
    with editing(args.file, timeout=args.wait, key=_sealing(args)) as edit:
        edit.course, said = recorded(edit.course, args, now)
        number = len(edit.course.records)
    saved(args.file)
    print(f"Session {args.session}: {said} (record {number}, saved)")
    if args.missed or args.cancelled:
        print(f"Re-plan to make it up: tms-schedule course replan {args.file}")
    return 0


def _void(args: argparse.Namespace, now: dt.datetime) -> int:
    with editing(args.file, timeout=args.wait, key=_sealing(args)) as edit:
        edit.course = edit.course.void_latest(args.session, args.reason, now=now)
        void = edit.course.records[-1]
        assert void.voids is not None
        target = edit.course.records[void.voids]
    saved(args.file)
    print(
        f"Session {args.session}: record {void.voids + 1} ({target.describe(edit.course.plan.clinic.zone)}) voided;"
        f" the history keeps it (saved)"
    )
    if target.kind != "attended":
        print(f"Re-plan to settle the course: tms-schedule course replan {args.file}")
    return 0


def _moment(text: str | None, now: dt.datetime, zone: Any) -> dt.datetime:
    if text is None:
        return now
    if "T" in text:
        return parse_local(text, zone, "--from")
    return dt.datetime.combine(parse_date(text, "--from"), dt.time(0), tzinfo=zone)


def _replan(args: argparse.Namespace, now: dt.datetime) -> int:
    min_gap = parse_span("--min-gap-hours", hours=args.min_gap_hours)
    gap_limit = parse_span("--gap-limit-days", days=args.gap_limit_days)
    with editing(args.file, timeout=args.wait, key=_sealing(args)) as edit:
        course = edit.course
        moment = _moment(args.start, now, course.plan.clinic.zone)
        edit.course = course.replan(
            moment,
            args.policy,
            min_gap=min_gap,
            extra_per_week=args.extra_per_week,
            gap_limit=gap_limit,
            within_authorization=args.within_authorization,
        )
        updated = edit.course
    saved(args.file)
    if updated is course:
        print(
            f"Nothing to change: every session keeps its time (revision {course.revision.number})"
        )
        return 0
    revision = updated.revision
    assert revision.start is not None
    local = revision.start.astimezone(updated.plan.clinic.zone)
    print(f"Revision {revision.number} ({revision.policy} from {local:%Y-%m-%d %H:%M}):")
    # Since the last revision: the records that led here, then what the re-plan did.
    print(updated.changes_since().to_text(), end="")
    for warning in revision.warnings:
        print(f"Warning: {warning}")
    return 0


def _show(course: Course, args: argparse.Namespace, now: dt.datetime) -> int:
    if args.since is not None:
        course.changes_since(args.since)  # a bad revision fails before anything is printed
    schedule = course.schedule
    if args.format in ("json", "csv"):
        key = _key_from(args)
        _check_key(course, key)
        text = course_json(course, key) if args.format == "json" else schedule.to_csv(uid_key=key)
        print(text, end="")
        return 0
    revision = course.revision
    # The text view below says the course, its protocol and its counts.
    remaining = course.remaining()
    ahead = [s for s in remaining if s.start >= now]
    following = (
        f"next: {_words(course, ahead[0].number)}, {short_moment(ahead[0].start)}"
        if ahead
        else "no session to come"
    )
    behind = len(remaining) - len(ahead)
    if behind:
        following += (
            f"; {behind} past session{'s' if behind != 1 else ''} not recorded yet"
            " (record attended or missed)"
        )
    print(f"Revision {revision.number}; {following}")
    if course.follows:
        print(f"Follows course {course.follows} ({course.relation})")
    if course.ended is not None:
        at = course.ended.at.astimezone(course.plan.clinic.zone)
        print(f"Ended from {at:%Y-%m-%d %H:%M}: {course.ended.reason}")
    auth = course.authorization
    if auth is not None and auth.staged is not None:
        if auth.decision is None:
            print(f"Decision due at {_nth(course, auth.staged.sessions)}: {auth.staged.describe()}")
        else:
            print(f"Decided: {auth.decision.outcome} ({auth.decision.reason})")
    for warning in revision.warnings:
        print(f"Warning: {warning}")
    print()
    print(_with_places(course, schedule.to_text()), end="")
    follow_ups = course.follow_ups()
    if follow_ups:
        print()
        print("After the course")
        for item in follow_ups:
            print(f"  {item.date:%a %d %b %Y}  {item.text}")
    if course.ratings:
        print()
        print("Ratings")
        for index, rating in enumerate(course.ratings, start=1):
            mark = f"  [voided: {rating.voided}]" if rating.voided else ""
            note = f"  ({rating.note})" if rating.note else ""
            print(f"  {index:>3}. {rating}{note}{mark}")
        for name in sorted({r.scale.name for r in course.ratings if r.voided is None}):
            result = course.outcome(name)
            if result is not None and result.latest is not result.baseline:
                print(f"  Since baseline: {result}")
    if course.records:
        print()
        print("Records")
        voided = {r.voids: r for r in course.records if r.kind == "void"}
        for index, record in enumerate(course.records):
            mark = f"  [voided: {voided[index].note}]" if index in voided else ""
            note = f"  ({record.note})" if record.note and record.kind != "void" else ""
            print(
                f"  {index + 1:>3}. {_words(course, record.session)}:"
                f" {record.describe(course.plan.clinic.zone)}{note}{mark}"
            )
    since = args.since if args.since is not None else max(revision.number - 1, 0)
    print()
    print(f"Changes since revision {since}:")
    print(course.changes_since(since).to_text(), end="")
    return 0


def _authorize(args: argparse.Namespace) -> int:
    if args.clinic is not None:
        known = dict(load_clinic(args.clinic).authorizations)
    else:
        known = {MEDICARE_A57692.payer: MEDICARE_A57692}
    with editing(args.file, timeout=args.wait, key=_sealing(args)) as edit:
        edit.course = authorized(edit.course, args, known)
        said = authorization_said(edit.course)
    saved(args.file)
    print(said, end="")
    return 0


def _rate(args: argparse.Namespace, now: dt.datetime) -> int:
    if args.void is not None:
        if args.score is not None or args.reason is None:
            raise UsageError("--void: give the rating's number and --reason, without a SCORE")
        with editing(args.file, timeout=args.wait, key=_sealing(args)) as edit:
            edit.course = edit.course.void_rating(args.void, args.reason, now=now)
            rating = edit.course.ratings[args.void - 1]
        saved(args.file)
        print(f"Rating {args.void} ({rating}) voided; the history keeps it (saved)")
        return 0
    if args.score is None:
        raise UsageError("SCORE: give the score (or --void N --reason TEXT)")
    if args.reason is not None:
        raise UsageError("--reason: only with --void")
    scales: dict[str, Scale] = (
        dict(load_clinic(args.clinic).scales) if args.clinic is not None else dict(SCALES)
    )
    with editing(args.file, timeout=args.wait, key=_sealing(args)) as edit:
        course = edit.course
        scale: Scale | str | None = args.scale
        if isinstance(scale, str) and scale in scales:
            scale = scales[scale]
        elif scale is None and course.milestone_rules.scale in scales:
            scale = scales[course.milestone_rules.scale]
        on = parse_date(args.on, "--on") if args.on else None
        edit.course = course.rate(
            args.score, now=now, on=on, scale=scale, session=args.session, note=args.note
        )
        number = len(edit.course.ratings)
        rating = edit.course.ratings[-1]
        result = edit.course.outcome(rating.scale.name)
    saved(args.file)
    print(f"Rating {number}: {rating} (saved)")
    if result is not None and result.latest is not result.baseline:
        print(f"Since baseline: {result}")
    return 0


def _decide(args: argparse.Namespace, now: dt.datetime) -> int:
    with editing(args.file, timeout=args.wait, key=_sealing(args)) as edit:
        edit.course = edit.course.decide(now=now, rating=args.rating)
        updated = edit.course
    saved(args.file)
    authorization = updated.authorization
    assert authorization is not None and authorization.decision is not None
    decision = authorization.decision
    print(f"Decision: {decision.outcome} ({decision.reason}); saved")
    if updated.ended is not None:
        print(f"The course ends: {updated.ended.reason}")
    print(f"Authorization: {authorization.approved} sessions until {authorization.until}")
    print(updated.changes_since().to_text(), end="")
    return 0


def _end(args: argparse.Namespace, now: dt.datetime) -> int:
    with editing(args.file, timeout=args.wait, key=_sealing(args)) as edit:
        course = edit.course
        start = _moment(args.start, now, course.plan.clinic.zone) if args.start else None
        edit.course = course.end(args.reason, now=now, start=start)
        updated = edit.course
    saved(args.file)
    removed = updated.revision.removed
    print(
        f"Course {updated.course_id} ended ({args.reason}): {len(removed)}"
        f" session{'' if len(removed) == 1 else 's'} cancelled; saved"
    )
    behind = [s.number for s in updated.remaining()]
    if behind:
        print(
            "Still to record (before the end): session"
            f"{'' if len(behind) == 1 else 's'} {', '.join(map(str, behind))}"
        )
    return 0


def _export(course: Course, args: argparse.Namespace) -> int:
    if args.output and args.output != "-" and _same_file(args.output, args.file):
        raise UsageError(
            f"-o: {args.output} is the course file itself; write the export to another file"
        )
    schedule = course.schedule if args.revision is None else course.revision_schedule(args.revision)
    fmt = output_format(args.format, args.output, "ics")
    if args.clinic is not None and not args.clinic.strip():
        raise UsageError("--clinic: must not be empty; leave the option out instead")
    base = (
        load_clinic(args.clinic).calendar_options if args.clinic is not None else CalendarOptions()
    )
    options = calendar_options_from_args(args, base)
    _check_key(course, options.uid_key)
    stamp = stamp_from_args(args.stamp) if fmt in ("ics", "html", "fhir") else None
    if fmt == "fhir":
        _export_fhir(course, schedule, args, options, stamp)
        return 0
    if args.patient is not None:
        raise UsageError("--patient: only a FHIR export names the patient (--format fhir)")
    revision = course.revision.number if args.revision is None else args.revision
    if fmt == "json" and args.revision is None:
        write_output(course_json(course, options.uid_key).encode("utf-8"), args.output)
        if args.output is not None and args.output != "-":
            print(f"Wrote {sessions_summary(schedule)} to {shown_path(args.output)}")
        return 0
    write_schedule(schedule, fmt, options, stamp, args.output, revision=revision)
    return 0


def _export_fhir(
    course: Course,
    schedule: Schedule,
    args: argparse.Namespace,
    options: CalendarOptions,
    stamp: dt.datetime | None,
) -> None:
    if args.patient is None:
        raise UsageError(
            "--patient: a FHIR export needs the reference of the patient's Patient resource"
            " in the clinic's FHIR server, e.g. --patient Patient/example-1"
        )
    from tms_schedule.delivery.fhir import course_to_fhir, fhir_to_json, schedule_to_fhir

    shared: dict[str, Any] = {
        "patient": args.patient,
        "bundle_type": args.bundle,
        "uid_key": options.uid_key,
        "stamp": stamp,
    }
    try:
        if args.revision is None:
            bundle = course_to_fhir(course, **shared)
        else:
            bundle = schedule_to_fhir(schedule, original=course.revision_schedule(0), **shared)
    except FhirExportError as error:
        field, _, why = str(error).partition(": ")
        raise UsageError(f"--{field}: {why}" if field == "patient" else str(error)) from None
    write_output(fhir_to_json(bundle).encode("utf-8"), args.output)
    if args.output is not None and args.output != "-":
        print(f"Wrote {sessions_summary(schedule)} as FHIR to {shown_path(args.output)}")


def _key_from(args: argparse.Namespace) -> str | bytes | None:
    """The UID key ``--uid-key-file`` or ``--clinic``'s file gives (``None``: no key)."""
    if args.uid_key_file is not None:
        return read_uid_key(args.uid_key_file)
    if args.clinic is not None:
        if not args.clinic.strip():
            raise UsageError("--clinic: must not be empty; leave the option out instead")
        return load_clinic(args.clinic).calendar_options.uid_key
    return None


def _check_key(course: Course, key: str | bytes | None) -> None:
    try:
        course.check_uid_key(key)
    except CourseError as error:
        raise UsageError(
            f"--clinic/--uid-key-file: {str(error).removeprefix('uid_key: ')}"
        ) from None


def _push(args: argparse.Namespace, now: dt.datetime) -> int:
    courses = [load_course(path, key=_sealing(args)) for path in args.files]
    ids = [c.course_id for c in courses]
    if len(set(ids)) != len(ids):
        raise UsageError(f"COURSE.json: the same course twice ({', '.join(ids)})")
    if args.clinic is not None and not args.clinic.strip():
        raise UsageError("--clinic: must not be empty; leave the option out instead")
    base = (
        load_clinic(args.clinic).calendar_options if args.clinic is not None else CalendarOptions()
    )
    options = calendar_options_from_args(args, base)
    url, username, password = _server_file(args.server_file)
    stamp = stamp_from_args(args.stamp) if args.stamp is not None else now
    from tms_schedule.delivery.caldav import push

    result = push(
        courses,
        url,
        stamp=stamp,
        options=options,
        cancelled=args.cancelled,
        username=username,
        password=password,
    )
    print(f"Pushed {', '.join(ids)} to {url}: {result}")
    return 0


def _server_file(path: str) -> tuple[str, str | None, str | None]:
    """The collection's address and credentials from a CalDAV server file (TOML)."""
    from tms_schedule._toml import load_toml

    table = load_toml(path)
    table.check_keys(["url", "username", "password"])
    url = table.typed("url", "str", required=True)
    if not url.startswith(("https://", "http://")) or any(c.isspace() for c in url):
        raise UsageError(
            f"{table.where('url')}: must be the collection's https:// address, e.g."
            f" https://dav.clinic.example/desk/appointments/, got {url!r}"
        )
    username = table.typed("username", "str")
    password = table.typed("password", "str")
    if (username is None) != (password is None):
        raise UsageError(f"{table.where()}: give both username and password, or neither")
    return url, username, password


def _same_file(output: str, course_file: str) -> bool:
    try:
        return os.path.samefile(output, course_file)
    except OSError:
        return Path(os.path.realpath(output)) == Path(os.path.realpath(course_file))


def _close(args: argparse.Namespace) -> int:
    closure = attrs.evolve(parse_closure(args.dates, "DATE"), reason=args.reason)
    with editing(args.file, timeout=args.wait, key=_sealing(args)) as edit:
        clinic = edit.course.plan.clinic
        edit.course = edit.course.with_clinic(clinic.with_closure(closure))
        affected = [
            s.number for s in edit.course.remaining() if closure.start <= s.date <= closure.end
        ]
    saved(args.file)
    days = f"{closure.start}" + (f" to {closure.end}" if closure.end != closure.start else "")
    print(f"Closed {days} ({closure.reason}); saved")
    if affected:
        numbers = ", ".join(map(str, affected[:-1])) + (" and " if len(affected) > 1 else "")
        numbers += str(affected[-1])
        verb = "falls" if len(affected) == 1 else "fall"
        noun = "Session" if len(affected) == 1 else "Sessions"
        print(f"{noun} {numbers} {verb} on it: re-plan (tms-schedule course replan {args.file})")
    return 0


def _course_output(output: str) -> None:
    """A course file is JSON: refuse ``-o`` names that promise something else."""
    suffix = Path(output).suffix
    if output == "-" or suffix.lower() != ".json":
        what = (
            "standard output"
            if output == "-"
            else (
                f"{shown_path(output)} has the suffix {suffix!r}"
                if suffix
                else f"{shown_path(output)} has no suffix"
            )
        )
        raise UsageError(f"-o: {what}; a course file is JSON: give a file name ending in .json")


def _write_new(course: Course, output: str, force: bool, key: str | bytes | None = None) -> None:
    """Save a new course; an existing file is replaced only with ``--force`` (or when it
    already holds exactly this course, so the same command run twice succeeds)."""
    path = Path(output)
    if not force and (path.exists() or path.is_symlink()):
        try:
            there = load_course(path, key=key)
        except CourseFileError:
            there = None
        if there != course:
            what = (
                f"course {there.course_id} ({len(there.records)}"
                f" record{'' if len(there.records) == 1 else 's'},"
                f" revision {there.revision.number})"
                if there is not None
                else "another file"
            )
            raise UsageError(
                f"-o: {shown_path(output)} already holds {what}; give another name, or"
                " --force to replace it"
            )
    save_course(course, output, force=force, key=key)
    saved(output)


def _follow(course: Course, args: argparse.Namespace, now: dt.datetime) -> int:
    _course_output(args.output)
    start = parse_date(args.start, "--start") if args.start else None
    if args.resume is not None:
        if args.rescue:
            raise UsageError("--resume: resumes maintenance after a rescue; leave out --rescue")
        superseded = load_course(args.resume, key=_sealing(args))
        following = course.resume(superseded, args.course_id, start=start)
        if args.protocol != superseded.plan.protocol.id:
            raise UsageError(
                f"PROTOCOL: the resumed boosters are {superseded.plan.protocol.id}'s, got"
                f" {args.protocol!r}"
            )
        _write_new(following, args.output, args.force, _sealing(args))
        print(
            f"Wrote course {following.course_id} (resumes {superseded.course_id} after"
            f" {course.course_id}) to {shown_path(args.output)}:"
            f" {sessions_summary(following.schedule)}"
        )
        return 0
    if args.rescue:
        if start is None:
            raise CourseError("--start: a rescue course needs its start date")
        following = course.rescue(args.protocol, args.course_id, start)
        if course.boosters_only and not course.ended:
            # The rescue takes the place of the boosters it interrupts: the maintenance
            # file is changed first, so a rescue is never written beside live boosters.
            with editing(args.file, key=_sealing(args)) as edit:
                edit.course = edit.course.supersede(following, now=now)
                ended = len(edit.course.revision.removed)
            saved(args.file)
            print(
                f"Course {course.course_id}: {ended} booster{'' if ended == 1 else 's'} from"
                f" {following.schedule.first.date} cancelled (superseded by"
                f" {following.course_id}); saved"
            )
    else:
        following = course.next_course(args.protocol, args.course_id, start=start)
    _write_new(following, args.output, args.force, _sealing(args))
    print(
        f"Wrote course {following.course_id} ({following.relation} after {course.course_id})"
        f" to {shown_path(args.output)}: {sessions_summary(following.schedule)}"
    )
    return 0


def _words(course: Course, number: int) -> str:
    """A session by the number ``record`` takes, in the words every view uses
    (:func:`~tms_schedule.export.places.session_words`)."""
    place = places(course.schedule).get(number)
    return session_words(number, place, course.schedule.progress().target)


def _nth(course: Course, place: int) -> str:
    """The session at ``place`` in the course, by the number ``record`` takes."""
    for number, k in places(course.schedule).items():
        if k == place:
            return _words(course, number)
    return f"session {place}"


def _with_places(course: Course, text: str) -> str:
    """The schedule's listing with each session's place beside its number where they
    differ (the number is the one ``record`` takes): "(2nd of 36)", "(a make-up: 30th of
    36)", the words of :func:`~tms_schedule.export.places.session_words` after the
    number."""
    placed = places(course.schedule)
    target = course.schedule.progress().target
    out = []
    for line in text.splitlines():
        number = _listed_number(line)
        place = placed.get(number) if number is not None else None
        if number is not None and place is not None and place != number:
            words = session_words(number, place, target).removeprefix(f"session {number}")
            line += f"  ({words.lstrip(',:').strip()})"
        out.append(line)
    return "\n".join(out) + "\n"


def _listed_number(line: str) -> int | None:
    """The session number a line of the listing starts with (``  45  Mon 16 Nov  ...``)."""
    head, _, rest = line[:5], None, line[5:]
    if line.startswith("  ") and head.strip().isdigit() and rest[:2] == "  " and rest[2:5] in _DAYS:
        return int(head)
    return None


_DAYS = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}


def course_json(course: Course, key: str | bytes | None) -> str:
    """The course's JSON export: the schedule's document and a ``course`` block with its
    clinical record (ratings and their outcome against baseline, a staged authorization's
    decision, an early end). Calendar files and feeds carry none of it."""
    data = schedule_to_dict(course.schedule, uid_key=key)
    names = sorted({r.scale.name for r in course.ratings if r.voided is None})
    outcomes = [course.outcome(name) for name in names]
    auth = course.authorization
    decision = auth.decision if auth is not None else None
    data["course"] = {
        "ratings": [
            {
                "number": index,
                "scale": rating.scale.name,
                "score": rating.score,
                "range": [rating.scale.low, rating.scale.high],
                "date": rating.date.isoformat(),
                "session": rating.session,
                "voided": rating.voided,
            }
            for index, rating in enumerate(course.ratings, start=1)
        ],
        "outcomes": [o.to_data() for o in outcomes if o is not None],
        "decision": None
        if decision is None
        else {"outcome": decision.outcome, "rating": decision.rating, "reason": decision.reason},
        "decision_due_at": _nth(course, auth.staged.sessions)
        if auth is not None and auth.staged is not None and auth.decision is None
        else None,
        "ended": None
        if course.ended is None
        else {
            "at": course.ended.at.isoformat(),
            "reason": course.ended.reason,
            "superseded_by": course.ended.superseded_by,
        },
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
