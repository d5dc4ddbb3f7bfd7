"""``tms-schedule desk`` and ``tms-schedule book user``: the front desk in a browser, and the
staff who may sign in to it.

::

    tms-schedule book user add clinic.db ana --role front-desk
    tms-schedule desk clinic.db [--host 127.0.0.1] [--port 8080] [--secret-file feed.key]

The desk reads the clock (it hands the time to the library at each request) and runs until
Ctrl-C. Passwords are asked on the terminal (twice), or read from standard input with
``--password-stdin`` for scripts; never from the command line, which other users of the
machine can read with ``ps`` and the shell keeps in its history.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import getpass
import logging
import sys
from typing import Any

from tms_schedule._files import shown_path
from tms_schedule.cli.common import UsageError, actor, whole
from tms_schedule.delivery.server import DEFAULT_HOST, DEFAULT_PORT, PREFIX
from tms_schedule.errors import FeedError, TmsScheduleError

__all__ = ["add_desk_commands", "add_user_commands", "run_desk", "run_user"]

_ROLES = ("front-desk", "technician", "clinician", "admin")
_LOCAL = ("127.0.0.1", "localhost", "::1")


def add_desk_commands(commands: Any) -> None:
    """Register ``desk`` on the top-level parser's subcommands."""
    desk = commands.add_parser(
        "desk",
        help="the front desk in a browser over the clinic's book",
        description="Serve the front desk (and the patients' feeds) over the clinic's book.",
    )
    desk.add_argument("db", metavar="BOOK.db", help="the book's database file")
    desk.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"the address to listen on (default {DEFAULT_HOST}: this computer only)",
    )
    desk.add_argument(
        "--port", type=whole, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}; 0: any free one"
    )
    desk.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME[:PORT]",
        help="another name the desk is reached by (the clinic's proxy); repeat for more",
    )
    desk.add_argument(
        "--https",
        action="store_true",
        help="the desk is reached over HTTPS (a proxy): cookies go over HTTPS only",
    )
    desk.add_argument(
        "--idle-minutes",
        type=whole,
        default=15,
        metavar="MINUTES",
        help="sign out after this long without use (default 15)",
    )
    desk.add_argument(
        "--secret-file",
        metavar="FILE",
        help="the clinic's feed secret: serve patients' feeds under /feeds/ as well",
    )
    desk.add_argument(
        "--feed-url",
        metavar="URL",
        help="where patients reach the feeds (default: the desk's own address)",
    )


def add_user_commands(book: argparse.ArgumentParser) -> None:
    """Register ``book user add|list|remove|password`` under the ``book`` command's parser."""
    actions = next(a for a in book._actions if isinstance(a, argparse._SubParsersAction))
    parser_class = type(book)
    user = actions.add_parser(
        "user",
        help="the staff who may sign in to the front desk",
        description="Add, list and remove the staff who may sign in to the desk.",
    )
    what = user.add_subparsers(
        dest="user_action", required=True, parser_class=parser_class, metavar="ACTION"
    )

    def command(name: str, text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = what.add_parser(name, help=text, description=text)
        parser.add_argument("db", metavar="BOOK.db", help="the book's database file")
        return parser

    add = command("add", "someone who may sign in, with a role")
    add.add_argument("name", metavar="NAME", help="the name they sign in with")
    add.add_argument("--role", required=True, choices=_ROLES, help="what they may do")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    command("list", "who may sign in, and their roles")
    remove = command("remove", "someone who may no longer sign in")
    remove.add_argument("name", metavar="NAME", help="the name they sign in with")
    password = command("password", "set someone's password (their sessions are signed out)")
    password.add_argument("name", metavar="NAME", help="the name they sign in with")
    password.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )


def _password(args: argparse.Namespace) -> str:
    from tms_schedule.desk.auth import password_problem

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise UsageError(
                "--password-stdin: standard input is not a terminal; give --password-stdin"
                " to read the password from it"
            )
        password = getpass.getpass(f"Password for {args.name}: ")
        if getpass.getpass("The same again: ") != password:
            raise UsageError("password: the two passwords differ; nothing was changed")
    problem = password_problem(password)
    if problem:
        raise UsageError(f"password: {problem}")
    return password


def _desk_book(path: str) -> Any:
    try:
        from tms_schedule.desk.auth import hash_password
        from tms_schedule.desk.port import DeskBook
    except ImportError as error:  # pragma: no cover - the desk extra is missing
        raise UsageError(
            f"desk: needs the 'desk' extra (pip install '.[desk]' in a checkout): {error}"
        ) from None
    del hash_password
    return DeskBook(path)


def run_user(args: argparse.Namespace) -> int:
    """Run ``book user ...``; returns the exit status."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)  # the command line reads the clock
    if args.user_action in ("add", "password"):
        from tms_schedule.desk.auth import hash_password

        password = _password(args)
        with _desk_book(args.db) as book:
            try:
                if args.user_action == "add":
                    hashed = hash_password(password)
                    book.add_user(args.name, args.role, hashed, now=now, actor=actor())
                    print(f"Added {args.name} ({args.role}) to {shown_path(args.db)}")
                else:
                    book.set_password(args.name, hash_password(password), now=now, actor=actor())
                    print(f"Set the password of {args.name}; their sessions are signed out")
            except TmsScheduleError as error:
                raise UsageError(str(error)) from None
        return 0
    with _desk_book(args.db) as book:
        if args.user_action == "list":
            people = book.users()
            if not people:
                print(
                    f"Nobody may sign in yet: tms-schedule book user add {shown_path(args.db)}"
                    " NAME --role admin"
                )
            for person in people:
                print(f"{person.name:<24} {person.role}")
            return 0
        try:
            book.remove_user(args.name, now=now, actor=actor())
        except TmsScheduleError as error:
            raise UsageError(str(error)) from None
        print(f"Removed {args.name}: they can no longer sign in")
    return 0


def _allowed_hosts(host: str, port: int, extra: list[str]) -> set[str]:
    names = {host}
    if host in _LOCAL:
        names |= {"127.0.0.1", "localhost", "[::1]"}
    hosts = {
        f"[{n}]:{port}" if ":" in n and not n.startswith("[") else f"{n}:{port}" for n in names
    }
    for name in extra:
        if not name.strip() or "/" in name or " " in name:
            raise UsageError(
                f"--allow-host: must be a host name such as desk.clinic.example, got {name!r}"
            )
        hosts.add(name.lower())
    return hosts


def run_desk(args: argparse.Namespace) -> int:
    """Run ``desk`` until interrupted; returns the exit status."""
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port: must be from 0 to 65535 (0: any free port), got {args.port}")
    if not 1 <= args.idle_minutes <= 24 * 60:
        raise UsageError(f"--idle-minutes: must be from 1 to 1440, got {args.idle_minutes}")
    _allowed_hosts(args.host, args.port, args.allow_host)  # checked before anything starts
    try:
        from tms_schedule.desk.app import create_app
        from tms_schedule.desk.port import DeskBook
        from tms_schedule.desk.server import Dispatcher, serve_desk
    except ImportError as error:
        raise UsageError(
            f"desk: needs the 'desk' extra (pip install '.[desk]' in a checkout): {error}"
        ) from None
    from tms_schedule.delivery.feed import FeedKey
    from tms_schedule.delivery.server import FeedApp
    from tms_schedule.delivery.sources import BookSource

    book = DeskBook(args.db)
    if not book.users():
        book.close()
        raise UsageError(
            f"BOOK.db: nobody may sign in yet; add someone first: tms-schedule book user add"
            f" {shown_path(args.db)} NAME --role admin"
        )
    hosts: set[str] = set()
    feed_app = None
    token = None

    def clock() -> dt.datetime:
        return dt.datetime.now(dt.UTC)  # the command line reads the clock

    if args.secret_file is not None:
        try:
            key = FeedKey.from_file(args.secret_file)
        except FeedError as error:
            raise UsageError(f"--secret-file: {str(error).removeprefix('secret: ')}") from None
        source = BookSource(args.db)
        feed_app = FeedApp(source, key, clock=clock)
        token = key.token
    logging.basicConfig(format="tms-schedule desk: %(message)s", level=logging.INFO)
    logging.getLogger("waitress").setLevel(logging.WARNING)
    base = (args.feed_url or "").rstrip("/")
    app = create_app(
        book,
        clock=clock,
        hosts=hosts,
        secure=args.https,
        idle=dt.timedelta(minutes=args.idle_minutes),
        feeds=f"{base}{PREFIX}" if base else None,
        feed_token=token,
    )

    def ready(host: str, port: int) -> None:
        hosts.update(_allowed_hosts(host, port, args.allow_host))
        where = f"[{host}]" if ":" in host else host
        print(
            f"The front desk of {shown_path(args.db)} is at http://{where}:{port}/"
            + (f" (feeds under {PREFIX})" if feed_app is not None else "")
            + " (Ctrl-C stops)",
            flush=True,
        )

    try:
        with contextlib.suppress(KeyboardInterrupt):
            serve_desk(Dispatcher(app, feed_app), host=args.host, port=args.port, ready=ready)
    except FeedError as error:
        field, _, why = str(error).partition(": ")
        if field == "host":
            raise UsageError(f"--host/--port: {why}") from None
        raise
    finally:
        book.close()
    return 0
