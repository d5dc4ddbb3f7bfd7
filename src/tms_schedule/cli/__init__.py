"""The ``tms-schedule`` command line, for the front desk and for scripts.

==================  ======================================================================
module              commands
==================  ======================================================================
``cli.plan``        ``protocols``, ``plan``
``cli.course``      ``course new|record|replan|show|authorize|check|close|export|follow``
``cli.common``      what they share: the parser, plan and calendar options, dates, output
==================  ======================================================================

Bad input prints one line naming the problem on standard error and exits with status 2;
no traceback. The command line is the one place that reads the clock (see
:mod:`tms_schedule.cli.common` for the defaults it supplies). There is no default timezone:
give ``--tz`` or a clinic file.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from tms_schedule import __version__
from tms_schedule.cli.common import Parser, UsageError
from tms_schedule.cli.course import add_course_commands, run_course
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "protocols":
            return run_protocols(args)
        if args.command == "course":
            return run_course(args)
        return run_plan(args)
    except (UsageError, TmsScheduleError) as error:
        message = " ".join(str(error).split())
        print(f"tms-schedule: error: {message}", file=sys.stderr)
        return 2
    except (OverflowError, RecursionError) as error:
        # A value so far out of range that date arithmetic gave up: still bad input.
        print(f"tms-schedule: error: a date or number is out of range ({error})", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
