"""``tms-schedule protocols`` and ``tms-schedule plan``: the catalogue, and a course expanded.

``tms-schedule protocols`` lists the built-in protocols (and a clinic file's own);
``tms-schedule plan PROTOCOL --start YYYY-MM-DD ...`` prints or writes a whole course.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import textwrap
from typing import Any

import attrs

from tms_schedule.catalogue import Catalogue, clearances
from tms_schedule.cli.common import (
    FORMATS,
    add_calendar_arguments,
    add_plan_arguments,
    calendar_options_from_args,
    output_format,
    plan_from_args,
    require_course_id,
    stamp_from_args,
    write_schedule,
)
from tms_schedule.export.options import CalendarOptions
from tms_schedule.protocol import Protocol, describe_phase
from tms_schedule.settings import load_clinic

__all__ = ["add_plan_commands", "protocol_to_dict", "run_plan", "run_protocols"]

_COLUMNS = 80
_ID_COLUMN = 24  # wider ids go on a line of their own


def add_plan_commands(commands: Any) -> None:
    """Register ``protocols`` and ``plan`` on the top-level parser's subcommands."""
    listing = commands.add_parser("protocols", help="list the protocols")
    listing.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (default: one protocol a line) or json (every field)",
    )
    listing.add_argument("--clinic", metavar="clinic.toml", help="add the file's own protocols")

    plan = commands.add_parser(
        "plan",
        help="expand a course into dated sessions",
        description="Expand PROTOCOL from --start into every dated session.",
    )
    add_plan_arguments(plan)
    add_calendar_arguments(plan)
    plan.add_argument(
        "--format", choices=FORMATS, help="output format (default: from -o, else text)"
    )
    plan.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE instead of standard output"
    )


def run_protocols(args: argparse.Namespace) -> int:
    catalogue = load_clinic(args.clinic).catalogue if args.clinic is not None else Catalogue()
    if args.format == "json":
        print(json.dumps([protocol_to_dict(p) for p in catalogue], indent=2, ensure_ascii=False))
        return 0
    # Wrapped to 80 columns under the ids: a terminal or a printout never cuts a line.
    width = min(max(len(p.id) for p in catalogue), _ID_COLUMN)
    indent = " " * (width + 2)
    for protocol in catalogue:
        if len(protocol.id) > width:  # a clinic's long id stands on a line of its own
            print(protocol.id)
            first = indent
        else:
            first = f"{protocol.id:<{width}}  "
        print(_wrap(protocol.name, first, indent))
        print(_wrap(protocol.describe(), indent, indent))
    return 0


def _wrap(text: str, first: str, indent: str) -> str:
    return textwrap.fill(
        text,
        _COLUMNS,
        initial_indent=first,
        subsequent_indent=indent,
        break_on_hyphens=False,
    )


def protocol_to_dict(protocol: Protocol) -> dict[str, Any]:
    """A protocol as JSON-ready data (the ``protocols --format json`` output)."""
    stimulation = attrs.asdict(protocol.stimulation) if protocol.stimulation else None
    return {
        "id": protocol.id,
        "name": protocol.name,
        "total_sessions": protocol.total_sessions,
        "session_minutes": protocol.session.total_seconds() / 60,
        "first_session_minutes": protocol.first_session.total_seconds() / 60,
        "phases": [
            {
                "name": phase.name,
                "kind": phase.kind,
                "type": type(phase).__name__.lower(),
                "sessions": phase.total,
                "description": describe_phase(phase),
                **{
                    key: (value.total_seconds() / 60 if isinstance(value, dt.timedelta) else value)
                    for key, value in attrs.asdict(phase).items()
                    if key != "name"
                },
            }
            for phase in protocol.phases
        ],
        "acute_range": list(protocol.acute_range) if protocol.acute_range else None,
        "optional_phases": sorted(protocol.optional_phases),
        "requires": sorted(protocol.requires),
        "stimulation": stimulation,
        "sources": list(protocol.sources),
        "notes": list(protocol.notes),
        # What the device is cleared for, as the catalogue states it (never a check).
        "clearances": [
            {
                "device": c.device,
                "number": c.number,
                "cleared": c.cleared.isoformat() if c.cleared else None,
                "indication": c.indication,
                "population": c.population,
                "unverified": c.unverified,
            }
            for c in clearances(protocol)
        ],
    }


def run_plan(args: argparse.Namespace) -> int:
    fmt = output_format(args.format, args.output)
    plan, settings = plan_from_args(args)
    if fmt == "ics":
        require_course_id(args)
    options = calendar_options_from_args(
        args, settings.calendar_options if settings else CalendarOptions()
    )
    stamp = stamp_from_args(args.stamp) if fmt in ("ics", "html") else None
    write_schedule(plan.expand(), fmt, options, stamp, args.output)
    return 0
