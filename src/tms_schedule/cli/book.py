"""``tms-schedule book``: the clinic's book, in a SQLite file or a PostgreSQL site.

Every command that changes the book is one transaction (:mod:`tms_schedule.book.store`):
another terminal's change waits for it, and an error leaves the book as it was. Each reads
and writes what it touches: the courses it names and the chair time of the others. The
command line reads the clock and names who acts (the computer's user) for the library.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tms_schedule._dates import short_day
from tms_schedule._files import Staged, read_file, shown_path, staged
from tms_schedule.book.book import EventReport
from tms_schedule.book.store import BookChange, BookStore, Location
from tms_schedule.catalogue import Catalogue
from tms_schedule.cli.common import (
    UsageError,
    actor,
    add_authorization_arguments,
    add_calendar_arguments,
    add_record_arguments,
    authorization_said,
    authorized,
    calendar_options_from_args,
    output_format,
    parse_closure,
    parse_date,
    parse_local,
    parse_time,
    recorded,
    saved,
    seconds,
    sessions_summary,
    stamp_from_args,
    tuned_protocol,
    whole,
    write_output,
    write_schedule,
)
from tms_schedule.course import BLOCK_CHOICES, POLICIES
from tms_schedule.course.codec import course_to_json
from tms_schedule.course.file import load_course
from tms_schedule.errors import ConfigError, FileWriteError, TmsScheduleError
from tms_schedule.export.uid import key_id

__all__ = ["add_book_commands", "run_book"]

_WAIT = "seconds to wait while another terminal changes the book (default 10)"


@contextlib.contextmanager
def _as_options(names: dict[str, str]) -> Iterator[None]:
    """A library error about a field (``step: must be ...``) said with the command line's
    option for it (``--step: must be ...``)."""
    try:
        yield
    except TmsScheduleError as error:
        if error.field in names:
            rest = str(error).removeprefix(f"{error.field}: ")
            raise UsageError(f"{names[error.field]}: {rest}") from None
        raise


def add_book_commands(commands: Any) -> None:
    """The ``book`` subcommands."""
    book = commands.add_parser(
        "book",
        help="the clinic's book: chairs shared by many courses (a SQLite file or PostgreSQL)",
        description="Book courses into the clinic's chairs; every change is one transaction.",
    )
    actions = book.add_subparsers(
        dest="action", required=True, parser_class=type(book), metavar="ACTION"
    )

    def command(name: str, text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(name, help=text, description=text)
        parser.add_argument(
            "db",
            metavar="BOOK",
            help="the book: its SQLite file, or a postgresql:// address (?site=NAME)",
        )
        parser.add_argument(
            "--site", metavar="NAME", help="the site, where the address names none (default)"
        )
        parser.add_argument("--wait", type=seconds, default=10.0, metavar="SECONDS", help=_WAIT)
        return parser

    init = command("init", "make a new book from a clinic file with [[chairs]]")
    init.add_argument("--clinic", required=True, metavar="clinic.toml", help="the clinic file")

    offer = command("offer", "the best ways to book a new course, each with its trade-offs")
    offer.add_argument(
        "protocol", metavar="PROTOCOL", help="a protocol id (tms-schedule protocols)"
    )
    offer.add_argument("--start", required=True, metavar="YYYY-MM-DD", help="the earliest start")
    offer.add_argument("--at", default="09:00", metavar="HH:MM", help="the time asked for (09:00)")
    offer.add_argument(
        "--window", type=whole, default=60, metavar="MINUTES", help="give or take (default 60)"
    )
    offer.add_argument(
        "--step", type=whole, default=10, metavar="MINUTES", help="times tried in the window (10)"
    )
    offer.add_argument("--chair", metavar="ID", help="the chair asked for, where it is free")
    offer.add_argument(
        "--dates", type=whole, default=10, metavar="N", help="start dates searched (default 10)"
    )
    offer.add_argument(
        "--count", type=whole, default=3, metavar="N", help="offers shown (default 3)"
    )
    offer.add_argument(
        "--follows",
        metavar="COURSE",
        help="the course it follows (maintenance runs on that course's equipment)",
    )
    offer.add_argument(
        "--relation",
        choices=("maintenance", "rescue", "continuation"),
        help="how it follows (a rescue during maintenance supersedes its boosters)",
    )
    offer.add_argument(
        "--resume",
        action="store_true",
        help="with --follows RESCUE: the boosters of the maintenance it superseded",
    )
    offer.add_argument("--acute-sessions", type=whole, metavar="N", help="tune the acute phase")
    offer.add_argument("--no-taper", action="store_true", help="without the taper")
    offer.add_argument("--no-continuation", action="store_true", help="without the continuation")

    take = command("take", "book an offer exactly as it was offered")
    take.add_argument("key", metavar="OFFER", help="the offer's key, as book offer printed it")
    take.add_argument("--course-id", required=True, metavar="ID", help="the course's opaque id")
    take.add_argument(
        "--follows",
        metavar="COURSE",
        help="the course it follows (maintenance after an acute course, or a rescue course)",
    )
    take.add_argument(
        "--relation",
        choices=("maintenance", "rescue", "continuation"),
        help="how it follows (default: maintenance for boosters only, else continuation)",
    )

    command("list", "the courses in the book")
    command("events", "the clinic-wide closures and outages entered, and their numbers")

    record = command("record", "record what happened to a session of a course")
    record.add_argument("course", metavar="COURSE", help="the course id")
    record.add_argument("session", type=whole, metavar="SESSION", help="the session's number")
    add_record_arguments(record)

    void = command("void", "take back a record entered by mistake (it stays in the history)")
    void.add_argument("course", metavar="COURSE", help="the course id")
    void.add_argument("session", type=whole, metavar="SESSION", help="whose latest record")
    void.add_argument("--reason", required=True, metavar="TEXT", help="why (kept)")

    replan = command("replan", "plan again what a course owes, where chairs are free")
    replan.add_argument("course", metavar="COURSE", help="the course id")
    _add_from(replan, "nothing before (default now)")
    replan.add_argument("--policy", choices=POLICIES, default="extend", help="catch-up policy")

    close = command("close", "close the clinic, a chair or some hours; re-plan what it touches")
    close.add_argument("dates", metavar="DATE", help="YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD")
    close.add_argument("--reason", required=True, metavar="TEXT", help="shown to whoever looks")
    close.add_argument("--chair", metavar="ID", help="only this chair (a broken coil)")
    close.add_argument("--hours", metavar="HH:MM-HH:MM", help="only these hours of each day")
    close.add_argument("--policy", choices=POLICIES, default="extend", help="for the re-plans")
    _add_from(close, "re-plan nothing before this moment (default: now)")
    close.add_argument(
        "--calendars", metavar="FOLDER", help="write each changed course's calendar file here"
    )
    close.add_argument(
        "--force",
        action="store_true",
        help="close days whose sessions are recorded attended (the records stay)",
    )
    close.add_argument(
        "--block",
        choices=BLOCK_CHOICES,
        help="where a re-plan would break an accelerated block's consecutive days: continue"
        " on the next open days (a warning is recorded) or restart its sessions to come on"
        " the first consecutive days that hold them",
    )

    undo = command("undo", "take back a closure or outage entered by mistake")
    undo.add_argument("event", type=whole, metavar="EVENT", help="its number (book events)")
    _add_from(undo, "put nothing back before this moment (default: now)")
    undo.add_argument(
        "--calendars", metavar="FOLDER", help="write each changed course's calendar file here"
    )

    end = command("end", "end a course early: its sessions from then on cancelled")
    end.add_argument("course", metavar="COURSE", help="the course id")
    end.add_argument("--reason", required=True, metavar="TEXT", help="why (kept)")
    _add_from(end, "no session from then on (default: now)")

    move = command("move", "a course's new regular time from a date on, on free chairs")
    move.add_argument("course", metavar="COURSE", help="the course id")
    move.add_argument(
        "--from", dest="start", required=True, metavar="YYYY-MM-DD", help="the first day"
    )
    move.add_argument("--at", required=True, metavar="HH:MM", help="the new time")
    move.add_argument(
        "--window", type=whole, default=0, metavar="MINUTES", help="give or take (default 0)"
    )
    move.add_argument("--chair", metavar="ID", help="the chair asked for, where it is free")

    authorize = command("authorize", "set or extend a course's insurance authorization")
    authorize.add_argument("course", metavar="COURSE", help="the course id")
    add_authorization_arguments(authorize, "the payer's stages from the book's clinic file")

    export = command("export", "a course's file: .json the course file, else its calendar")
    export.add_argument("course", metavar="COURSE", help="the course id")
    export.add_argument("-o", "--output", required=True, metavar="FILE", help="write to FILE")
    export.add_argument(
        "--format", choices=("json", "ics", "html", "csv", "text"), help="default: the suffix"
    )
    add_calendar_arguments(export)

    imported = command("import", "add course files to the book, each session on a free chair")
    imported.add_argument("files", nargs="+", metavar="COURSE.json", help="course files")
    imported.add_argument("--chair", metavar="ID", help="this chair where it is free")

    day = command("day", "the day sheet: each chair's sessions, free stretches and outages")
    day.add_argument("date", metavar="DATE", help="the day, YYYY-MM-DD")
    _add_page_arguments(day)

    usage = command("usage", "chair time booked against open, by day, week and hour")
    usage.add_argument(
        "--from", dest="first", required=True, metavar="YYYY-MM-DD", help="the first day"
    )
    usage.add_argument(
        "--to", dest="last", required=True, metavar="YYYY-MM-DD", help="the last day"
    )
    usage.add_argument(
        "--slot",
        type=whole,
        choices=(30, 60),
        default=60,
        help="minutes per cell of the weekday-by-hour map (default 60)",
    )
    usage.add_argument(
        "--by",
        choices=("day", "week", "slot"),
        default="day",
        help="CSV rows: one per day, week or map cell (default day)",
    )
    _add_page_arguments(usage)

    room = command("room", "how many more courses can start on a day within a window")
    room.add_argument("protocol", metavar="PROTOCOL", help="a protocol id (tms-schedule protocols)")
    room.add_argument("--on", required=True, metavar="YYYY-MM-DD", help="the start date")
    room.add_argument(
        "--from", dest="window_start", required=True, metavar="HH:MM", help="the window opens"
    )
    room.add_argument(
        "--to", dest="window_end", required=True, metavar="HH:MM", help="the window closes"
    )
    room.add_argument(
        "--step", type=whole, default=10, metavar="MINUTES", help="times tried (default 10)"
    )
    room.add_argument(
        "--limit", type=whole, default=50, metavar="N", help="stop counting at N (default 50)"
    )

    backup = command(
        "backup",
        "a consistent copy of the book (a file or a PostgreSQL site), while terminals keep working",
    )
    backup.add_argument(
        "target", metavar="COPY", help="a new file, or a postgresql:// address of a new site"
    )

    check = command(
        "check",
        "look over the whole book (every rule, every row against its course), or check a"
        " course against its authorization",
    )
    check.add_argument(
        "course", nargs="?", metavar="COURSE", help="a course: its plan against its authorization"
    )


def _clock() -> dt.datetime:
    """Now, as the command line reads it (the one place that does; tests set another)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@contextlib.contextmanager
def _change(store: BookStore, **options: Any) -> Iterator[BookChange]:
    """:meth:`BookStore.change`, and the book noted saved once it is: a Ctrl-C while the
    change commits waits until it is committed and noted, so the line it prints says
    truly whether the book changed (see :func:`tms_schedule.cli.main`)."""
    with _interrupts_wait() as waited:
        with store.change(**options) as change, _interrupts_allowed(waited):
            yield change
        if change.book is not change.before:
            saved(store.shown)


class _Waiting:
    """A Ctrl-C held back (see :func:`_interrupts_wait`): whether one came, and the
    handler Ctrl-C had before."""

    def __init__(self, handler: Any) -> None:
        self.pressed = False
        self.handler = handler

    def press(self, *_: object) -> None:
        self.pressed = True


@contextlib.contextmanager
def _interrupts_wait() -> Iterator[_Waiting]:
    """Ctrl-C waits (noted) until the block ends, then interrupts; the main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield _Waiting(None)
        return
    waiting = _Waiting(signal.getsignal(signal.SIGINT))
    signal.signal(signal.SIGINT, waiting.press)
    try:
        yield waiting
    finally:
        signal.signal(signal.SIGINT, waiting.handler)
    if waiting.pressed:
        raise KeyboardInterrupt


@contextlib.contextmanager
def _interrupts_allowed(waiting: _Waiting) -> Iterator[None]:
    """Inside :func:`_interrupts_wait`: Ctrl-C interrupts at once again, as it did before
    (a change that is still being worked out is rolled back)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if waiting.pressed:
        raise KeyboardInterrupt
    handler = waiting.handler
    if not callable(handler):  # ignored, or not set from Python: the usual Ctrl-C
        handler = signal.default_int_handler
    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, waiting.press)


def _add_from(parser: argparse.ArgumentParser, text: str) -> None:
    """``--from``: a date (its start) or a date and time in the clinic's zone."""
    parser.add_argument("--from", dest="start", metavar="YYYY-MM-DD[THH:MM]", help=text)


def run_book(args: argparse.Namespace) -> int:
    """Run one ``book`` subcommand; returns the exit status."""
    now = _clock()
    if args.action == "init":
        return _init(args)
    with BookStore(args.db, site=args.site, timeout=args.wait) as store:
        match args.action:
            case "offer":
                return _offer(store, args, now)
            case "take":
                return _take(store, args, now)
            case "list":
                return _list(store)
            case "events":
                return _events(store)
            case "record":
                return _record(store, args, now)
            case "void":
                return _void(store, args, now)
            case "replan":
                return _replan(store, args, now)
            case "close":
                return _close(store, args, now)
            case "undo":
                return _undo(store, args, now)
            case "export":
                return _export(store, args)
            case "import":
                return _import(store, args, now)
            case "day":
                return _day(store, args, now)
            case "usage":
                return _usage(store, args, now)
            case "room":
                return _room(store, args)
            case "backup":
                return _backup(store, args)
            case "end":
                return _end(store, args, now)
            case "move":
                return _move(store, args, now)
            case "authorize":
                return _authorize(store, args, now)
            case "check":
                return _check(store, args)
    raise AssertionError(args.action)


def _add_page_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=_PAGE_FORMATS, help="text, csv or html (default: -o's suffix, or text)"
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write to FILE (.txt .csv .html); default: the screen",
    )


_PAGE_FORMATS = ("text", "csv", "html")


_PAGE_SUFFIXES = (".txt", ".csv", ".html", ".htm")


def _page_format(args: argparse.Namespace) -> str:
    _not_the_book(args.output, args.db)
    if args.format is None and args.output not in (None, "-"):
        suffix = Path(args.output).suffix.lower()
        if suffix not in _PAGE_SUFFIXES:
            what = f"the suffix {suffix!r}" if suffix else "no suffix"
            raise UsageError(
                f"-o: {shown_path(args.output)} has {what}; this view is written as text"
                " (.txt), csv (.csv) or html (.html .htm), or '-' for standard output"
            )
    fmt = output_format(args.format, args.output)
    if fmt not in _PAGE_FORMATS:
        raise UsageError(
            f"-o: {shown_path(args.output)} asks for {fmt}; this view is written as text (.txt),"
            " csv (.csv) or html (.html .htm)"
        )
    return fmt


def _not_the_book(output: str | None, db: str) -> None:
    """Refuse to write a view or export over the book's own file (or a link to it)."""
    if output in (None, "-") or Location.parse(db).engine != "sqlite":
        return
    if os.path.realpath(output) == os.path.realpath(db) or (
        os.path.exists(output) and os.path.exists(db) and os.path.samefile(output, db)
    ):
        raise UsageError(f"-o: {shown_path(output)} is the book's own file; write to another name")


def _write_page(text: str, args: argparse.Namespace, what: str) -> None:
    write_output(text.encode("utf-8"), args.output)
    if args.output not in (None, "-"):
        print(f"Wrote {what} to {shown_path(args.output)}")


def _day(store: BookStore, args: argparse.Namespace, now: dt.datetime) -> int:
    fmt = _page_format(args)
    day = parse_date(args.date, "DATE")
    sheet = store.day_sheet(day)
    for problem in store.overlaps(day, day):
        print(f"Warning: {problem} (tms-schedule book check)", file=sys.stderr)
    if fmt == "html":
        name = store.settings().calendar_options.clinic_name
        text = sheet.to_html(clinic_name=name, issued=now.astimezone(store.state().clinic.zone))
    else:
        text = sheet.to_csv() if fmt == "csv" else sheet.to_text()
    _write_page(text, args, f"the day sheet of {short_day(day)}")
    return 0


def _usage(store: BookStore, args: argparse.Namespace, now: dt.datetime) -> int:
    fmt = _page_format(args)
    first, last = parse_date(args.first, "--from"), parse_date(args.last, "--to")
    if last < first:
        raise UsageError(f"--to: must be on or after --from ({first}), got {last}")
    if (last - first).days > 366:
        raise UsageError(
            f"--to: at most 366 days after --from, got {(last - first).days} days after"
        )
    usage = store.usage(first, last, slot=args.slot)
    if fmt == "html":
        name = store.settings().calendar_options.clinic_name
        text = usage.to_html(clinic_name=name, issued=now.astimezone(store.state().clinic.zone))
    else:
        text = usage.to_csv(by=args.by) if fmt == "csv" else usage.to_text()
    _write_page(text, args, f"chair time from {short_day(first)} to {short_day(last)}")
    return 0


def _room(store: BookStore, args: argparse.Namespace) -> int:
    protocol = _catalogue(store).get(args.protocol)
    on = parse_date(args.on, "--on")
    start, end = parse_time(args.window_start, "--from"), parse_time(args.window_end, "--to")
    if end < start:
        raise UsageError(
            f"--to: must be at or after --from ({start:%H:%M}), got {end:%H:%M}"
            " (the window lies within one day)"
        )
    book = store.window(since=on)
    with _as_options({"step": "--step", "limit": "--limit"}):
        room = book.room_for(protocol, on, start, end, step=args.step, limit=args.limit)
    print(room.to_text(book.chair_names()), end="")
    return 0


def _init(args: argparse.Namespace) -> int:
    if not args.clinic.strip():
        raise UsageError("--clinic: must not be empty")
    data = read_file(args.clinic, limit=1024 * 1024, error=ConfigError, what="TOML file")
    with BookStore.create(args.db, data, shown_path(args.clinic), site=args.site) as store:
        book = store.state()
        shown = store.shown
    chairs = ", ".join(f"{c.name} ({', '.join(sorted(c.runs))})" for c in book.chairs)
    print(f"Made the book {shown}: {len(book.chairs)} chairs: {chairs}")
    return 0


def _catalogue(store: BookStore) -> Catalogue:
    return store.settings().catalogue


def _offer(store: BookStore, args: argparse.Namespace, now: dt.datetime) -> int:
    start = parse_date(args.start, "--start")
    if args.resume and args.follows is None:
        raise UsageError("--resume: give --follows RESCUE, the rescue course it comes after")
    book = store.window(courses=_patient(store, args.follows), since=start)
    if args.resume:
        protocol = book.resumed(args.follows)
        if args.protocol != protocol.id:
            raise UsageError(
                f"PROTOCOL: the resumed boosters are {protocol.id}'s, got {args.protocol!r}"
            )
    else:
        protocol = tuned_protocol(_catalogue(store), args)
    names = {o: f"--{o}" for o in ("window", "step", "chair", "dates", "count", "relation")}
    with _as_options({**names, "earliest": "--start"}):
        offers = book.offers(
            protocol,
            start,
            parse_time(args.at, "--at"),
            window=args.window,
            step=args.step,
            chair=args.chair,
            dates=args.dates,
            count=args.count,
            follows=args.follows,
            relation=args.relation,
            now=now,
        )
    with _interrupts_wait():  # the offers are kept, or not, and the line says which
        store.save_offers(offers, now=now)
        saved(store.shown)
    names = book.chair_names()
    print(
        f"Offers for {protocol.id} from {short_day(start)} at"
        f" {args.at} (give or take {args.window} minutes):"
    )
    for number, offer in enumerate(offers, start=1):
        print(f"  {number}. {offer.key}  {offer.describe(names)}")
    print(f"Book one: tms-schedule book take {args.db} KEY --course-id ID")
    return 0


def _patient(store: BookStore, course_id: str | None) -> list[str]:
    """The course and the courses linked to it by ``follows`` (one patient's), to hold in
    a change that checks they never overlap."""
    if course_id is None:
        return []
    follows = {line.course_id: line.follows for line in store.courses()}
    found = {course_id}
    while True:
        more = {c for c, f in follows.items() if f in found} | {
            f for c, f in follows.items() if c in found and f is not None
        }
        if more <= found:
            return sorted(found)
        found |= more


def _take(store: BookStore, args: argparse.Namespace, now: dt.datetime) -> int:
    # The course remembers the UID key its calendar ids are made with.
    key = key_id(store.settings().calendar_options.uid_key)
    offer = store.offer(args.key)
    with _change(
        store,
        courses=_patient(store, args.follows),
        since=offer.start,
        now=now,
        actor=actor(),
        action="take",
    ) as change:
        before = change.book
        change.book = change.book.take(
            offer,
            args.course_id,
            uid_key_id=key,
            follows=args.follows,
            relation=args.relation,
            now=now,
        )
        change.detail = f"offer {offer.key} taken"
        course = change.book.course(args.course_id)
        booked = change.book
    chairs = sorted(set(booked.seats(args.course_id).values()))
    names = booked.chair_names()
    if args.follows is not None:
        superseded = booked.course(args.follows)
        if superseded is not before.course(args.follows):
            ended = len(superseded.revision.removed)
            print(
                f"Course {args.follows}: {ended} booster{'' if ended == 1 else 's'} from"
                f" {course.schedule.first.date} cancelled (superseded by {course.course_id})"
            )
    print(
        f"Booked course {course.course_id}: {sessions_summary(course.schedule)} on"
        f" {', '.join(names[c] for c in chairs)}"
    )
    return 0


def _end(store: BookStore, args: argparse.Namespace, now: dt.datetime) -> int:
    if not args.reason.strip():
        raise UsageError("--reason: must not be empty: it is kept in the course's history")
    zone = store.state().clinic.zone
    start = _moment(args.start, zone, now)
    with (
        _change(store, courses=[args.course], now=now, actor=actor(), action="end") as change,
        _as_options({"reason": "--reason", "start": "--from"}),
    ):
        change.book = change.book.end(args.course, args.reason, now=now, start=start)
        change.detail = f"ended: {args.reason}"
        course = change.book.course(args.course)
    cancelled = len(course.revision.removed)
    print(
        f"Course {args.course} ended ({args.reason}): {cancelled} session"
        f"{'' if cancelled == 1 else 's'} from {short_day(start.astimezone(zone).date())}"
        " cancelled, their chairs free (saved)"
    )
    return 0


def _move(store: BookStore, args: argparse.Namespace, now: dt.datetime) -> int:
    start = parse_date(args.start, "--from")
    at = parse_time(args.at, "--at")
    names = {"window": "--window", "chair": "--chair", "start": "--from"}
    with (
        _change(
            store, courses=[args.course], since=start, now=now, actor=actor(), action="move"
        ) as change,
        _as_options(names),
    ):
        (offer,) = change.book.move_offers(
            args.course, start, at, now=now, window=args.window, chair=args.chair, count=1
        )
        change.book = change.book.move(args.course, offer, now=now)
        change.detail = f"regular time from {start}: {offer.at:%H:%M}"
        chair_names = change.book.chair_names()
    print(f"Course {args.course}: {offer.describe(chair_names)}")
    print("Tell the patient; their new calendar file: tms-schedule book export")
    return 0


def _authorize(store: BookStore, args: argparse.Namespace, now: dt.datetime) -> int:
    known = store.settings().authorizations
    with _change(
        store, courses=[args.course], now=now, actor=actor(), action="authorize"
    ) as change:
        course = authorized(change.book.course(args.course), args, known)
        change.book = change.book.authorize(args.course, course.authorization)
        change.detail = "authorization set"
    print(authorization_said(course), end="")
    return 0


def _list(store: BookStore) -> int:
    lines = store.courses()
    if not lines:
        print("No course in the book yet (book offer, then book take).")
        return 0
    names = store.state().chair_names()
    for line in lines:
        print(
            f"{line.course_id:<16} {line.protocol_id:<20} {line.progress};"
            f" {', '.join(names[c] for c in line.chairs) or 'no chair'}"
        )
    return 0


def _events(store: BookStore) -> int:
    events = store.events()
    if not events:
        print("No clinic-wide closure or outage entered yet.")
    for event in events:
        undone = " (undone)" if event.undone else ""
        courses = len(event.revisions)
        print(
            f"{event.number}. {event.describe()}{undone}; re-planned {courses}"
            f" course{'s' if courses != 1 else ''}"
        )
    return 0


def _record(store: BookStore, args: argparse.Namespace, now: dt.datetime) -> int:
    with _change(store, courses=[args.course], now=now, actor=actor(), action="record") as change:
        course, said = recorded(change.book.course(args.course), args, now)
        change.book = change.book.update(course)
        change.detail, change.session = f"session {args.session}: {said}", args.session
        number = len(course.records)
    print(f"Course {args.course} session {args.session}: {said} (record {number}, saved)")
    if args.missed or args.cancelled:
        print(f"Re-plan to make it up: tms-schedule book replan {args.db} {args.course}")
    return 0


def _void(store: BookStore, args: argparse.Namespace, now: dt.datetime) -> int:
    with _change(store, courses=[args.course], now=now, actor=actor(), action="void") as change:
        course = change.book.course(args.course).void_latest(args.session, args.reason, now=now)
        change.book = change.book.update(course)
        change.detail, change.session = f"session {args.session}: record voided", args.session
    print(f"Course {args.course} session {args.session}: record voided; the history keeps it")
    return 0


def _moment(text: str | None, zone: Any, now: dt.datetime) -> dt.datetime:
    """``--from``: a date (its start), a date and time in the clinic's zone, or now."""
    if text is None:  # left out; an empty --from is a mistake, not "now"
        return now
    if "T" in text:
        return parse_local(text, zone, "--from")
    return dt.datetime.combine(parse_date(text, "--from"), dt.time(), tzinfo=zone)


def _replan(store: BookStore, args: argparse.Namespace, now: dt.datetime) -> int:
    zone = store.state().clinic.zone
    moment = _moment(args.start, zone, now)
    with _change(
        store,
        courses=[args.course],
        since=min(moment.astimezone(zone).date(), store.first_day(args.course)),
        now=now,
        actor=actor(),
        action="replan",
    ) as change:
        before = change.book.course(args.course)
        change.book = change.book.replan(args.course, moment, args.policy)
        change.detail = f"re-planned ({args.policy})"
        after = change.book.course(args.course)
    if after is before:
        print(
            f"Nothing to change: every session keeps its time (revision {before.revision.number})"
        )
        return 0
    print(f"Course {args.course}, revision {after.revision.number}:")
    print(after.changes_since().to_text(), end="")
    for warning in after.revision.warnings:
        print(f"Warning: {warning}")
    return 0


def _calendars(args: argparse.Namespace) -> Path | None:
    """``--calendars``: checked before the book changes."""
    if args.calendars is None:
        return None
    folder = Path(args.calendars)
    if not folder.is_dir():
        raise UsageError(f"--calendars: {shown_path(folder)} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"--calendars: cannot write in {shown_path(folder)}")
    return folder


def _close(store: BookStore, args: argparse.Namespace, now: dt.datetime) -> int:
    closure = parse_closure(args.dates, "DATE")
    if not args.reason.strip():
        raise UsageError("--reason: must not be empty: it is shown to whoever looks")
    folder = _calendars(args)
    names = {
        "first": "DATE",
        "reason": "--reason",
        "closure reason": "--reason",
        "hours": "--hours",
        "opening hours": "--hours",
        "block": "--block",
    }
    zone = store.state().clinic.zone
    moment = _moment(args.start, zone, now)
    # The calendar files are written (into a hidden folder) before the book commits, and
    # put in place after: a full disk refuses the whole change, never half of it.
    with (
        _staged(folder) as files,
        _change(
            store,
            days=(closure.start, closure.end),
            events=True,
            since=min(closure.start, moment.astimezone(zone).date()),
            now=now,
            actor=actor(),
            action="closure",
        ) as change,
        _as_options(names),
    ):
        change.book, report = change.book.enter_closure(
            closure.start,
            closure.end,
            reason=args.reason,
            now=moment,
            chair=args.chair,
            hours=args.hours,
            policy=args.policy,
            force=args.force,
            block=args.block,
        )
        change.detail = f"event {report.event.number}: {report.event.describe()}"
        _write_calendars(store, report, files)
    _report(report, files, args.db)
    return 0


def _undo(store: BookStore, args: argparse.Namespace, now: dt.datetime) -> int:
    folder = _calendars(args)
    zone = store.state().clinic.zone
    moment = _moment(args.start, zone, now)
    found = next((e for e in store.events() if e.number == args.event), None)
    touched = [course_id for course_id, _ in found.revisions] if found else []
    present = {line.course_id for line in store.courses()} if touched else set()
    with (
        _staged(folder) as files,
        _change(
            store,
            courses=[c for c in touched if c in present],
            days=(found.first, found.last) if found else None,  # its sessions left waiting
            events=True,
            since=moment.astimezone(zone).date() if not touched else None,
            now=now,
            actor=actor(),
            action="undo",
        ) as change,
    ):
        change.book, report = change.book.undo(args.event, now=moment)
        change.detail = f"event {args.event} undone"
        _write_calendars(store, report, files)
    _report(report, files, args.db)
    return 0


@contextlib.contextmanager
def _staged(folder: Path | None) -> Iterator[Staged | None]:
    if folder is None:
        yield None
        return
    try:
        with staged(folder) as files:
            yield files
    except FileWriteError as error:
        raise UsageError(f"--calendars: {error}; the book was not changed") from None


def _write_calendars(store: BookStore, report: EventReport, files: Staged | None) -> None:
    if files is None:
        return
    options = store.settings().calendar_options
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for entry in report.courses:
        files.write(f"{entry.course_id}.ics", entry.course.to_ics(stamp=stamp, options=options))


def _report(report: EventReport, files: Staged | None, db: str) -> None:
    print(f"Event {report.event.number}: ", end="")
    print(report.to_text(), end="")
    if report.courses:
        print(
            f"{len(report.courses)} course(s) changed: tell each patient; their new calendar"
            " files: tms-schedule book export"
        )
    if files is None:
        return
    failed = set(files.publish())
    for name in files.names:
        if name not in failed:
            saved(files.folder / name)
            print(f"Wrote {files.folder / name}")
    for name in sorted(failed):
        course_id = name.removesuffix(".ics")
        print(
            f"Warning: {files.folder / name} could not be put in place (the book is changed);"
            f" write it again: tms-schedule book export {db} {course_id} -o {files.folder / name}",
            file=sys.stderr,
        )


def _export(store: BookStore, args: argparse.Namespace) -> int:
    _not_the_book(args.output, args.db)
    course = store.course(args.course)
    fmt = args.format or ("json" if args.output.lower().endswith(".json") else None)
    if fmt == "json" and (args.format == "json" or args.output.lower().endswith(".json")):
        if os.path.lexists(args.output):
            raise UsageError(f"-o: {shown_path(args.output)} exists; give a new file's name")
        key = store.settings().calendar_options.uid_key  # the file is sealed with it
        write_output(course_to_json(course, key=key).encode("utf-8"), args.output)
        print(f"Wrote course {course.course_id} to {shown_path(args.output)}")
        return 0
    fmt = output_format(args.format, args.output, "ics")
    options = calendar_options_from_args(args, store.settings().calendar_options)
    try:
        course.check_uid_key(options.uid_key)
    except TmsScheduleError as error:
        raise UsageError(str(error)) from None
    stamp = stamp_from_args(args.stamp) if fmt in ("ics", "html") else None
    write_schedule(
        course.schedule, fmt, options, stamp, args.output, revision=course.revision.number
    )
    return 0


def _import(store: BookStore, args: argparse.Namespace, now: dt.datetime) -> int:
    key = store.settings().calendar_options.uid_key  # files sealed with it are read with it
    courses = [load_course(path, key=key) for path in args.files]
    given = {course.course_id: course for course in courses}

    def after(course: Any) -> int:  # how many of the given courses it follows, in a line
        steps = 0
        while course.follows in given and steps < len(given):
            course, steps = given[course.follows], steps + 1
        return steps

    courses.sort(key=after)  # a course goes in after the one it follows
    known = {line.course_id for line in store.courses()} | set(given)
    for course in courses:
        if course.follows is not None and course.follows not in known:
            raise UsageError(
                f"FILE: course {course.course_id} follows {course.follows}, which is not in the"
                f" book; import {course.follows} first (or with it)"
            )
    first = min(s.date for course in courses for s in course.schedule.sessions)
    with _change(store, since=first, now=now, actor=actor(), action="import") as change:
        for course in courses:
            change.book = change.book.add(course, chair=args.chair)
        change.detail = "imported from a course file"
        book = change.book
    names = book.chair_names()
    for course in courses:
        chairs = sorted(set(book.seats(course.course_id).values()))
        print(
            f"Added course {course.course_id}: {sessions_summary(course.schedule)} on"
            f" {', '.join(names[c] for c in chairs) or 'no chair'}"
        )
    return 0


def _backup(store: BookStore, args: argparse.Namespace) -> int:
    counts = store.backup(args.target)
    what = ", ".join(
        f"{counts[table]} {table[:-1] if counts[table] == 1 else table}"
        for table in ("courses", "sessions", "events")
    )
    print(
        f"Copied the book to {Location.parse(args.target).shown}: {what}"
        " (every table's rows counted and checksummed on both sides)"
    )
    return 0


def _check(store: BookStore, args: argparse.Namespace) -> int:
    if args.course is not None:
        report = store.course(args.course).check_authorization()
        print(report.to_text(), end="")
        return 0 if report.ok else 1
    problems = store.check()
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in {store.shown}")
        return 1
    print(f"{store.shown}: no problem found ({len(store.courses())} courses)")
    return 0
