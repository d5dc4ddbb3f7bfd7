"""The ``tms-schedule`` command line, for the front desk and for scripts.

==================  ======================================================================
module              commands
==================  ======================================================================
``cli.plan``        ``protocols``, ``plan``
``cli.course``      ``course new|record|replan|show|authorize|check|close|export|follow|push``
``cli.feeds``       ``serve``, ``feed url|revoke``
``cli.book``        ``book init|offer|take|list|events|record|void|replan|close|undo|...``
``cli.desk``        ``desk``, ``book user add|list|remove|password``
``cli.common``      what they share: the parser, plan and calendar options, dates, output
==================  ======================================================================

Ctrl-C at any moment prints one line, ``interrupted; nothing was changed`` (or the files
saved before it came), and exits with status 130; files are written whole or not at all.
Bad input prints one line naming the problem on standard error and exits with status 2;
no traceback, and nothing written or changed. That includes text that is not UTF-8 (a
terminal in another encoding sends other bytes: refused, naming the option) and standard
output that cannot be written (a full disk, a closed descriptor). The command line is the
one place that reads the clock (see :mod:`tms_schedule.cli.common` for the defaults it
supplies). There is no default timezone: give ``--tz`` or a clinic file.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Sequence

from tms_schedule._files import shown_path
from tms_schedule._version import __version__
from tms_schedule.cli.book import add_book_commands, run_book
from tms_schedule.cli.common import SAVED, Parser, StdoutError, UsageError
from tms_schedule.cli.course import add_course_commands, run_course
from tms_schedule.cli.desk import add_desk_commands, add_user_commands, run_desk, run_user
from tms_schedule.cli.feeds import add_feed_commands, run_feed, run_serve
from tms_schedule.cli.plan import add_plan_commands, run_plan, run_protocols
from tms_schedule.errors import TmsScheduleError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The whole command line's parser."""
    parser = Parser(
        prog="tms-schedule",
        description="Plan courses of TMS treatment as dated sessions.",
    )
    parser.add_argument("--version", action="version", version=f"tms-schedule {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    add_plan_commands(commands)
    add_course_commands(commands)
    add_feed_commands(commands)
    add_book_commands(commands)
    add_user_commands(commands.choices["book"])  # book user ...: the desk's staff
    add_desk_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    if sys.stdout is None:  # started with standard output closed (``>&-``)
        _report("standard output is closed; send it to a file or to /dev/null instead")
        return 2
    parser = build_parser()
    SAVED.clear()
    try:
        args = parser.parse_args(argv)
        check_text(parser, args)
        status = _run(args)
        sys.stdout.flush()  # a full disk shows here, while the error can still be reported
        return status
    except StdoutError as error:
        _report(str(error))
        _drop_stdout()
        return 2
    except (UsageError, TmsScheduleError) as error:
        _report(" ".join(str(error).split()))
        return 2
    except (OverflowError, RecursionError) as error:
        # A value so far out of range that date arithmetic gave up: still bad input.
        _report(f"a date or number is out of range ({error})")
        return 2
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as other command-line tools do.
        _drop_stdout()
        return 0
    except OSError as error:
        if error.filename is not None:  # a file the command could not read or write
            _report(f"{shown_path(error.filename)}: {error.strerror or error}")
            return 2
        _report(f"standard output: cannot write ({error.strerror or error})")
        _drop_stdout()
        return 2
    except KeyboardInterrupt:
        # Ctrl-C: one line, never a traceback. Files are written whole or not at all (a
        # temporary file replaces the old one in one step), so each is as it was or saved.
        what = f"saved already: {', '.join(map(shown_path, SAVED))}" if SAVED else None
        _say(f"interrupted; {what or 'nothing was changed'}")
        return 130
    except SystemExit as done:  # --help and --version print, then exit
        try:
            sys.stdout.flush()
        except OSError as error:
            _report(f"standard output: cannot write ({error.strerror or error})")
            _drop_stdout()
            return 2
        return done.code if isinstance(done.code, int) else 0


def _run(args: argparse.Namespace) -> int:
    if args.command == "protocols":
        return run_protocols(args)
    if args.command == "course":
        return run_course(args)
    if args.command == "serve":
        return run_serve(args)
    if args.command == "feed":
        return run_feed(args)
    if args.command == "book" and args.action == "user":
        return run_user(args)
    if args.command == "book":
        return run_book(args)
    if args.command == "desk":
        return run_desk(args)
    return run_plan(args)


def check_text(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse arguments that are not UTF-8 text, naming the option.

    Python hands over bytes that are not UTF-8 as lone surrogates (``caf\\udce9``), which
    no file format can hold: refused here rather than failing half-way through writing.
    File names are passed on as they are: the system takes them back byte for byte.
    """
    names = _option_names(parser, args)
    for dest, value in vars(args).items():
        if dest in _PATHS:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and _SURROGATE.search(item):
                raise UsageError(
                    f"{names.get(dest, dest)}: must be UTF-8 text; the terminal or script"
                    f" sent other bytes: '{shown_path(item)}'"
                )


#: The options that name files: their bytes go to the system unchanged.
_PATHS = frozenset(
    {
        "clinic",
        "output",
        "file",
        "files",
        "uid_key_file",
        "folder",
        "secret_file",
        "server_file",
        "db",
        "target",
        "calendars",
    }
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _option_names(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, str]:
    """Each destination of the chosen command's arguments, as the user wrote the option."""
    names: dict[str, str] = {}
    current: argparse.ArgumentParser | None = parser
    while current is not None:
        following = None
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                following = action.choices.get(getattr(args, action.dest, None) or "")
            elif action.option_strings:
                names.setdefault(action.dest, max(action.option_strings, key=len))
            else:
                names.setdefault(action.dest, str(action.metavar or action.dest))
        current = following
    return names


def _report(message: str) -> None:
    """One line on standard error (which may itself be gone: then there is nowhere to say it)."""
    _say(f"error: {message}")


def _say(message: str) -> None:
    with contextlib.suppress(OSError, ValueError, AttributeError):
        print(f"tms-schedule: {message}", file=sys.stderr, flush=True)


def _drop_stdout() -> None:
    """Point standard output at the null device, so the interpreter's last flush of what
    could not be written succeeds quietly instead of printing "Exception ignored"."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
