"""``tms-schedule course ...``: a front desk without clinic software keeps a course in a file.

::

    tms-schedule course new standard-10hz --start 2026-11-16 --tz America/Denver -o c-1.json
    tms-schedule course record c-1.json 3 --missed --cause clinic --note "snow"
    tms-schedule course replan c-1.json --from 2026-11-19 --policy extend
    tms-schedule course authorize c-1.json --sessions 36 --from 2026-11-16 --until 2027-01-31
    tms-schedule course check c-1.json
    tms-schedule course show c-1.json
    tms-schedule course close c-1.json 2026-12-24..2026-12-31 --reason "Winter break"
    tms-schedule course export c-1.json -o appointments.ics

Every command that changes the course rewrites its file atomically. Bad input exits with
status 2 and one line on standard error, as ``plan`` does; ``check`` exits with 1 when a
planned session lies outside the authorization.
"""

from __future__ import annotations

import argparse
from typing import Any

import attrs

from tms_schedule.cli.common import (
    UsageError,
    add_calendar_arguments,
    add_plan_arguments,
    calendar_options_from_args,
    format_from,
    parse_closure,
    parse_date,
    parse_local,
    parse_span,
    plan_from_args,
    require_course_id,
    stamp_from_args,
    write_schedule,
)
from tms_schedule.course import CAUSES, POLICIES, Authorization, Course, CourseError
from tms_schedule.course.file import load_course, save_course
from tms_schedule.export.options import CalendarOptions
from tms_schedule.settings import load_clinic

__all__ = ["add_course_commands", "run_course"]


def add_course_commands(commands: Any) -> None:
    """Register ``course`` and its subcommands on the top-level parser's subcommands."""
    course = commands.add_parser(
        "course", help="keep a course in a file: record, re-plan, check, export"
    )
    actions = course.add_subparsers(dest="action", required=True, parser_class=type(course))

    new = actions.add_parser("new", help="start a course file from a protocol")
    add_plan_arguments(new)
    new.add_argument("-o", "--output", required=True, metavar="COURSE.json", help="the course file")

    record = actions.add_parser("record", help="record what happened to a session")
    record.add_argument("file", metavar="COURSE.json")
    record.add_argument("session", type=int, metavar="SESSION", help="the session's number")
    what = record.add_mutually_exclusive_group(required=True)
    what.add_argument("--attended", action="store_true", help="the session took place")
    what.add_argument("--missed", action="store_true", help="the session did not take place")
    what.add_argument("--cancelled", action="store_true", help="the session will not happen")
    what.add_argument("--moved-to", metavar="YYYY-MM-DDTHH:MM", help="new start, clinic time")
    record.add_argument("--cause", choices=CAUSES, default="patient", help="why it was missed")
    record.add_argument("--when", metavar="YYYY-MM-DDTHH:MM", help="when it was attended")
    record.add_argument("--note", metavar="TEXT", help="a note for the front desk")

    replan = actions.add_parser("replan", help="re-plan the remaining sessions")
    replan.add_argument("file", metavar="COURSE.json")
    replan.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD")
    replan.add_argument("--policy", choices=POLICIES, default="extend")
    replan.add_argument("--min-gap-hours", type=float, default=6.0, metavar="H")
    replan.add_argument("--extra-per-week", type=int, default=2, metavar="N")
    replan.add_argument("--gap-limit-days", type=int, default=14, metavar="DAYS")
    replan.add_argument("--within-authorization", action="store_true")

    show = actions.add_parser("show", help="print the course now")
    show.add_argument("file", metavar="COURSE.json")
    show.add_argument("--format", choices=("text", "json", "csv"), default="text")
    show.add_argument(
        "--since", type=int, metavar="REVISION", help="list changes since this revision"
    )

    authorize = actions.add_parser("authorize", help="set or extend the insurance authorization")
    authorize.add_argument("file", metavar="COURSE.json")
    authorize.add_argument("--sessions", type=int, metavar="N", help="sessions approved")
    authorize.add_argument("--from", dest="valid_from", metavar="YYYY-MM-DD")
    authorize.add_argument("--until", metavar="YYYY-MM-DD")
    authorize.add_argument("--extend", type=int, metavar="N", help="add N approved sessions")
    authorize.add_argument("--note", metavar="TEXT")

    check = actions.add_parser("check", help="check the plan against the authorization")
    check.add_argument("file", metavar="COURSE.json")

    export = actions.add_parser("export", help="write the course's calendar file (or CSV/JSON)")
    export.add_argument("file", metavar="COURSE.json")
    export.add_argument("--revision", type=int, metavar="N", help="as of this revision")
    export.add_argument("--clinic", metavar="clinic.toml", help="its [calendar] choices")
    add_calendar_arguments(export)
    export.add_argument("--format", choices=("ics", "json", "csv", "html", "text"))
    export.add_argument("-o", "--output", metavar="FILE")

    close = actions.add_parser(
        "close", help="add a clinic closure to the course's calendar (then re-plan)"
    )
    close.add_argument("file", metavar="COURSE.json")
    close.add_argument("dates", metavar="DATE", help="YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD")
    close.add_argument("--reason", default="Clinic closure", metavar="TEXT")

    follow = actions.add_parser(
        "follow", help="start a maintenance or rescue course after this one"
    )
    follow.add_argument("file", metavar="COURSE.json")
    follow.add_argument("protocol", metavar="PROTOCOL")
    follow.add_argument("--course-id", required=True, metavar="ID")
    follow.add_argument(
        "--start", metavar="YYYY-MM-DD", help="default: a week after the last session"
    )
    follow.add_argument(
        "--rescue", action="store_true", help="a reintroduction course for a relapse"
    )
    follow.add_argument("-o", "--output", required=True, metavar="NEXT.json")


def run_course(args: argparse.Namespace) -> int:
    """Run one ``course`` subcommand; returns the exit status."""
    if args.action == "new":
        require_course_id(args)
        plan, _ = plan_from_args(args)
        course = Course.start(plan)
        save_course(course, args.output)
        print(
            f"{course.course_id}: {len(course.schedule)} sessions from {course.schedule.first.date}"
        )
        return 0
    course = load_course(args.file)
    match args.action:
        case "record":
            return _record(course, args)
        case "replan":
            return _replan(course, args)
        case "show":
            return _show(course, args)
        case "authorize":
            return _authorize(course, args)
        case "check":
            report = course.check_authorization()
            print(report.to_text(), end="")
            return 0 if report.ok else 1
        case "export":
            return _export(course, args)
        case "follow":
            return _follow(course, args)
        case "close":
            return _close(course, args)
    raise AssertionError(args.action)


def _record(course: Course, args: argparse.Namespace) -> int:
    zone = course.plan.clinic.zone
    if args.attended:
        when = parse_local(args.when, zone, "--when") if args.when else None
        updated = course.attended(args.session, when, args.note)
        said = "attended"
    elif args.missed:
        updated = course.missed(args.session, args.cause, args.note)
        said = f"missed ({args.cause})"
    elif args.cancelled:
        updated = course.cancelled(args.session, args.note)
        said = "cancelled"
    else:
        to = parse_local(args.moved_to, zone, "--moved-to")
        updated = course.moved(args.session, to, args.note)
        said = f"moved to {to:%Y-%m-%d %H:%M}"
    save_course(updated, args.file)
    print(f"Session {args.session}: {said}")
    return 0


def _replan(course: Course, args: argparse.Namespace) -> int:
    updated = course.replan(
        parse_date(args.start, "--from"),
        args.policy,
        min_gap=parse_span("--min-gap-hours", hours=args.min_gap_hours),
        extra_per_week=args.extra_per_week,
        gap_limit=parse_span("--gap-limit-days", days=args.gap_limit_days),
        within_authorization=args.within_authorization,
    )
    save_course(updated, args.file)
    revision = updated.revision
    print(f"Revision {revision.number} ({revision.policy} from {revision.start}):")
    print(updated.changes_since(revision.number - 1).to_text(), end="")
    for warning in revision.warnings:
        print(f"Warning: {warning}")
    return 0


def _show(course: Course, args: argparse.Namespace) -> int:
    schedule = course.schedule
    if args.format == "json":
        print(schedule.to_json(), end="")
        return 0
    if args.format == "csv":
        print(schedule.to_csv(), end="")
        return 0
    delivered = len(course.delivered())
    remaining = course.remaining()
    missed = sum(1 for s in schedule if s.status == "missed")
    revision = course.revision
    print(f"Course {course.course_id} - {course.plan.protocol.id} - revision {revision.number}")
    print(
        f"Delivered {delivered} of {delivered + len(remaining)}; missed {missed};"
        f" remaining {len(remaining)}"
        + (f"; next {remaining[0].start:%Y-%m-%d %H:%M}" if remaining else "")
    )
    if course.follows:
        print(f"Follows course {course.follows} ({course.relation})")
    for warning in revision.warnings:
        print(f"Warning: {warning}")
    print()
    print(schedule.to_text(), end="")
    since = args.since if args.since is not None else max(revision.number - 1, 0)
    print()
    print(f"Changes since revision {since}:")
    print(course.changes_since(since).to_text(), end="")
    return 0


def _authorize(course: Course, args: argparse.Namespace) -> int:
    if args.extend is not None:
        until = parse_date(args.until, "--until") if args.until else None
        updated = course.extend_authorization(args.extend, until, args.note)
    else:
        if args.sessions is None or args.valid_from is None or args.until is None:
            raise UsageError("authorize: give --sessions, --from and --until, or --extend N")
        updated = course.authorize(
            Authorization(
                args.sessions,
                parse_date(args.valid_from, "--from"),
                parse_date(args.until, "--until"),
            )
        )
    save_course(updated, args.file)
    assert updated.authorization is not None
    print(
        f"Authorization: {updated.authorization.approved} sessions until"
        f" {updated.authorization.until}"
    )
    return 0


def _export(course: Course, args: argparse.Namespace) -> int:
    schedule = (
        course.schedule if args.revision is None else course._revision(args.revision).schedule
    )
    fmt = args.format or (format_from(args.output) if args.output else "ics")
    base = load_clinic(args.clinic).calendar_options if args.clinic else CalendarOptions()
    options = calendar_options_from_args(args, base)
    stamp = stamp_from_args(args.stamp) if fmt == "ics" else None
    write_schedule(schedule, fmt, options, stamp, args.output)
    return 0


def _close(course: Course, args: argparse.Namespace) -> int:
    closure = attrs.evolve(parse_closure(args.dates), reason=args.reason)
    clinic = course.plan.clinic
    updated = course.with_clinic(attrs.evolve(clinic, closures=(*clinic.closures, closure)))
    save_course(updated, args.file)
    affected = [s.number for s in updated.remaining() if closure.start <= s.date <= closure.end]
    print(
        f"Closed {closure.start}"
        + (f" to {closure.end}" if closure.end != closure.start else "")
        + (f"; sessions {', '.join(map(str, affected))} fall on it: re-plan" if affected else "")
    )
    return 0


def _follow(course: Course, args: argparse.Namespace) -> int:
    start = parse_date(args.start, "--start") if args.start else None
    if args.rescue:
        if start is None:
            raise CourseError("--start: a rescue course needs its start date")
        following = course.rescue(args.protocol, args.course_id, start)
    else:
        following = course.next_course(args.protocol, args.course_id, start=start)
    save_course(following, args.output)
    print(
        f"{following.course_id} ({following.relation} after {course.course_id}):"
        f" {len(following.schedule)} sessions from {following.schedule.first.date}"
    )
    return 0
