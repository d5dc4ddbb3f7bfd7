"""``tms-schedule serve`` and ``tms-schedule feed url|revoke``: patients' feeds from a folder.

::

    tms-schedule feed url courses/ c-1 --secret-file feed.key --base-url https://feeds.clinic.example
    tms-schedule feed revoke courses/ c-1 --secret-file feed.key --base-url https://feeds.clinic.example
    tms-schedule serve courses/ --secret-file feed.key [--host 127.0.0.1] [--port 8080]

The folder holds the clinic's course files; each patient's feed is their first course with
the courses that follow it (see :mod:`tms_schedule.delivery.sources`). The secret comes from a
file, never from the command line (which other users of the machine can read with ``ps``,
and the shell keeps in its history). ``serve`` reads the clock for each request (the
window of past days, and Last-Modified is never later than now) and runs until Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import re
import sys
from typing import Any

from tms_schedule._files import shown_path
from tms_schedule.book.store import is_book_location
from tms_schedule.cli.common import (
    UsageError,
    actor,
    add_calendar_arguments,
    calendar_options_from_args,
    decimal,
    whole,
)
from tms_schedule.delivery.feed import CANCELLED_CHOICES, DEFAULT_PAST_DAYS, FeedKey
from tms_schedule.delivery.server import DEFAULT_HOST, DEFAULT_PORT, PREFIX
from tms_schedule.delivery.sources import BookSource, FolderSource
from tms_schedule.errors import FeedError, StoreError
from tms_schedule.export.options import CalendarOptions
from tms_schedule.settings import load_clinic

__all__ = ["add_feed_commands", "run_feed", "run_serve"]


def _store(path: str, site: str | None = None, **choices: Any) -> FolderSource | BookSource:
    """A folder of course files, or the clinic's book when ``path`` is a file or an address
    (``site``: the site of a PostgreSQL book whose address names none)."""
    if is_book_location(path):
        try:
            return BookSource(path, site=site, **choices)
        except StoreError as error:
            raise FeedError(
                f"folder: {shown_path(path)} is neither a folder of course files nor a"
                f" clinic's book ({str(error).removeprefix(shown_path(path) + ': ')})"
            ) from None
    if site is not None:
        raise UsageError(
            f"--site: names a site of a PostgreSQL book; {shown_path(path)} is a folder"
        )
    return FolderSource(path, **choices)


_BASE_URL = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~\-/]*)?")
_SITE_HELP = "the site of a PostgreSQL book, where the address names none (default)"
_SECRET_HELP = (
    "a file holding the clinic's feed secret (32+ bytes on its first line, e.g. from"
    " `openssl rand -base64 48`), readable only by the server; never the secret itself"
)


def add_feed_commands(commands: Any) -> None:
    """Register ``serve`` and ``feed`` on the top-level parser's subcommands."""
    serve = commands.add_parser(
        "serve", help="serve patients' calendar feeds from a folder of course files"
    )
    serve.add_argument(
        "folder",
        metavar="FOLDER|BOOK",
        help="a folder of course files, or the clinic's book: its SQLite file or a"
        " postgresql:// address (?site=NAME)",
    )
    serve.add_argument("--site", metavar="NAME", help=_SITE_HELP)
    serve.add_argument("--secret-file", required=True, metavar="FILE", help=_SECRET_HELP)
    serve.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"the address to listen on (default {DEFAULT_HOST}: this machine only; put an"
        " HTTPS reverse proxy in front)",
    )
    serve.add_argument(
        "--port", type=whole, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}; 0: any free one"
    )
    _add_feed_choices(serve)
    serve.add_argument("--clinic", metavar="clinic.toml", help="its [calendar] choices")
    add_calendar_arguments(serve)

    feed = commands.add_parser("feed", help="a patient's feed address: show it or revoke it")
    actions = feed.add_subparsers(
        dest="action", required=True, parser_class=type(feed), metavar="ACTION"
    )
    for name, text in (
        ("url", "print the address of the feed that holds a course"),
        ("revoke", "revoke the feed's address and print the new one"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument(
            "folder",
            metavar="FOLDER|BOOK",
            help="a folder of course files, or the book (a file or a postgresql:// address)",
        )
        action.add_argument("--site", metavar="NAME", help=_SITE_HELP)
        action.add_argument("course_id", metavar="COURSE_ID", help="any of the patient's courses")
        action.add_argument("--secret-file", required=True, metavar="FILE", help=_SECRET_HELP)
        action.add_argument(
            "--base-url",
            required=True,
            metavar="URL",
            help="where patients reach the server, e.g. https://feeds.clinic.example",
        )


def _add_feed_choices(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("what each feed holds (feeds.toml may set one feed's)")
    group.add_argument(
        "--past-days",
        type=whole,
        default=DEFAULT_PAST_DAYS,
        metavar="DAYS",
        help=f"keep sessions that ended up to DAYS days ago (default {DEFAULT_PAST_DAYS})",
    )
    group.add_argument(
        "--cancelled",
        choices=CANCELLED_CHOICES,
        default="keep",
        help="keep cancelled and missed sessions as cancelled events (default), or drop them",
    )
    group.add_argument(
        "--refresh-hours",
        type=decimal,
        default=12.0,
        metavar="HOURS",
        help="the refresh hint to calendar apps, 1 to 168 (default 12; most apps ignore it)",
    )


def _key(path: str) -> FeedKey:
    try:
        return FeedKey.from_file(path)
    except FeedError as error:
        raise UsageError(f"--secret-file: {str(error).removeprefix('secret: ')}") from None


def _options(args: argparse.Namespace) -> CalendarOptions:
    if args.clinic is not None and not args.clinic.strip():
        raise UsageError("--clinic: must not be empty; leave the option out instead")
    base = (
        load_clinic(args.clinic).calendar_options if args.clinic is not None else CalendarOptions()
    )
    return calendar_options_from_args(args, base)


def run_serve(args: argparse.Namespace) -> int:
    """Run ``serve`` until interrupted; returns the exit status."""
    if args.stamp is not None:
        raise UsageError(
            "--stamp: a feed's DTSTAMP is each course's last change; serve takes no --stamp"
        )
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port: must be from 0 to 65535 (0: any free port), got {args.port}")
    if not 1 <= args.refresh_hours <= 168:
        raise UsageError(f"--refresh-hours: must be from 1 to 168, got {args.refresh_hours:g}")
    key = _key(args.secret_file)
    if is_book_location(args.folder) and args.clinic is None:  # the book's own clinic file
        from tms_schedule.book.store import BookStore

        with BookStore(args.folder, site=args.site) as book:
            options = calendar_options_from_args(args, book.settings().calendar_options)
    else:
        options = _options(args)
    try:
        store = _store(
            args.folder,
            args.site,
            options=options,
            past_days=args.past_days,
            cancelled=args.cancelled,
            refresh=dt.timedelta(hours=args.refresh_hours),
        )
    except FeedError as error:
        field, _, why = str(error).partition(": ")
        raise UsageError(f"--{field.replace('_', '-')}: {why}") from None
    store.check()  # a broken course file stops the start, rather than hiding a feed
    from tms_schedule.delivery.server import FeedApp, serve

    # The command line reads the clock; the library is handed it.
    app = FeedApp(store, key, clock=lambda: dt.datetime.now(dt.UTC))
    logging.basicConfig(format="tms-schedule serve: %(message)s", level=logging.WARNING)

    def ready(host: str, port: int) -> None:
        count = len(store.versions())
        where = f"[{host}]" if ":" in host else host
        print(
            f"Serving {count} feed{'' if count == 1 else 's'} from"
            f" {shown_path(args.folder)} at http://{where}:{port}{PREFIX} (Ctrl-C stops)",
            flush=True,
        )

    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how it stops
            serve(app, host=args.host, port=args.port, ready=ready)
    except FeedError as error:
        field, _, why = str(error).partition(": ")
        if field == "address":  # cannot be bound: in use, or not this machine's
            raise UsageError(f"--host/--port: {why}") from None
        if field == "host":
            raise UsageError(f"--host: {why}") from None
        raise
    return 0


def run_feed(args: argparse.Namespace) -> int:
    """Run ``feed url`` or ``feed revoke``; returns the exit status."""
    base = args.base_url.rstrip("/")
    if not _BASE_URL.fullmatch(base):
        raise UsageError(
            f"--base-url: must be an https:// (or http://) address such as"
            f" https://feeds.clinic.example, got {args.base_url!r}"
        )
    key = _key(args.secret_file)
    try:
        store = _store(args.folder, args.site)
    except FeedError as error:
        raise UsageError(f"FOLDER: {str(error).removeprefix('folder: ')}") from None
    try:
        feed_id = store.feed_of(args.course_id)
    except FeedError as error:
        raise UsageError(f"COURSE_ID: {str(error).removeprefix('course: ')}") from None
    if args.action == "revoke":
        if isinstance(store, BookSource):  # the book's audit trail says who and when
            now = dt.datetime.now(dt.UTC).replace(microsecond=0)
            feed = store.revoke(feed_id, now=now, actor=actor())
        else:
            feed = store.revoke(feed_id)
        print(
            f"Revoked the old address of feed {feed.feed_id} (version {feed.version} now);"
            " give the patient the new one:"
        )
    else:
        found = store.feed(feed_id)
        if found is None:  # pragma: no cover - the folder changed in between
            raise UsageError(f"COURSE_ID: the feed of {args.course_id} cannot be read")
        feed = found
    address = f"{base.split('://', 1)[1]}{PREFIX}{feed.token(key)}.ics"
    scheme = base.split("://", 1)[0]
    print(f"{scheme}://{address}")
    print(f"webcal://{address}")
    sys.stdout.flush()
    return 0
