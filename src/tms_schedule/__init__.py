"""tms_schedule: plan courses of TMS treatment as dated sessions, and export them.

>>> import datetime as dt
>>> import tms_schedule as tms
>>> clinic = tms.ClinicCalendar("America/Denver", holidays="US-CO")
>>> plan = tms.Plan(tms.get_protocol("standard-10hz"), clinic, dt.date(2026, 11, 16), dt.time(9), "c-1")
>>> len(plan.expand())
36
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from tms_schedule import _conveniences
from tms_schedule._version import __version__
from tms_schedule.catalogue import (
    BUILTIN_PROTOCOLS,
    Catalogue,
    get_protocol,
    load_protocols,
    protocol_ids,
)
from tms_schedule.clinic import ClinicCalendar, Closure, ExtraOpenDay, OpeningHours
from tms_schedule.errors import (
    BlockBreakError,
    BlockSplitError,
    ConfigError,
    CourseError,
    FileWriteError,
    HolidayDataError,
    InvalidClinicError,
    InvalidInputError,
    InvalidPlanError,
    InvalidProtocolError,
    NoOpenDayError,
    ScheduleFormatError,
    TmsScheduleError,
    UnknownHolidayCountryError,
    UnknownProtocolError,
    UnknownTimezoneError,
)
from tms_schedule.phase import Accelerated, Daily, Periodic, Phase, Taper, Weekly
from tms_schedule.plan import Plan
from tms_schedule.protocol import Protocol, Stimulation
from tms_schedule.schedule import Progress, Schedule, Session, SkippedDay

if TYPE_CHECKING:
    from tms_schedule.course import (
        Authorization,
        AuthorizationReport,
        Course,
        Extension,
        MilestoneRules,
        Rating,
        Record,
        Revision,
        Scale,
        StagedAuthorization,
    )
    from tms_schedule.export.options import CalendarOptions
    from tms_schedule.export.uid import session_uid
    from tms_schedule.settings import ClinicSettings, load_clinic


# The parts a plan does not need load on first use: ``import tms_schedule`` stays quick for
# the command line and for programs that only expand plans.
_LAZY = {
    "Authorization": "tms_schedule.course",
    "AuthorizationReport": "tms_schedule.course",
    "Course": "tms_schedule.course",
    "Extension": "tms_schedule.course",
    "MilestoneRules": "tms_schedule.course",
    "Rating": "tms_schedule.course",
    "Record": "tms_schedule.course",
    "Revision": "tms_schedule.course",
    "Scale": "tms_schedule.course",
    "StagedAuthorization": "tms_schedule.course",
    "CalendarOptions": "tms_schedule.export.options",
    "session_uid": "tms_schedule.export.uid",
    "ClinicSettings": "tms_schedule.settings",
    "load_clinic": "tms_schedule.settings",
}

# The work of the conveniences a lower layer offers (``Schedule.to_ics()``, ``Course.save()``,
# ``Book.day_sheet()``) is done a layer above; this is where each is (see
# :mod:`tms_schedule._conveniences`). Nothing here is imported until it is used.
_conveniences.HOMES.update(
    {
        "calendar_options": "tms_schedule.export.options:CalendarOptions",
        "schedule_to_csv": "tms_schedule.export.csv:schedule_to_csv",
        "schedule_to_html": "tms_schedule.export.html:schedule_to_html",
        "handout_html": "tms_schedule.pages.handout:handout_html",
        "schedule_to_ics": "tms_schedule.export.ics:schedule_to_ics",
        "schedule_to_json": "tms_schedule.export.json:schedule_to_json",
        "schedule_to_text": "tms_schedule.export.text:schedule_to_text",
        "course_to_json": "tms_schedule.course.codec:course_to_json",
        "course_from_json": "tms_schedule.course.codec:course_from_json",
        "save_course": "tms_schedule.course.file:save_course",
        "load_course": "tms_schedule.course.file:load_course",
        "day_sheet": "tms_schedule.book.sheet:day_sheet",
        "day_sheet_csv": "tms_schedule.pages.day_sheet:day_sheet_csv",
        "day_sheet_html": "tms_schedule.pages.day_sheet:day_sheet_html",
        "day_sheet_text": "tms_schedule.pages.day_sheet:day_sheet_text",
        "usage": "tms_schedule.book.usage:usage",
        "usage_csv": "tms_schedule.pages.usage:usage_csv",
        "usage_html": "tms_schedule.pages.usage:usage_html",
        "usage_text": "tms_schedule.pages.usage:usage_text",
        "room_for": "tms_schedule.book.room:room_for",
        "room_html": "tms_schedule.pages.room:room_html",
        "room_text": "tms_schedule.pages.room:room_text",
    }
)


if not TYPE_CHECKING:  # type checkers see the imports above, and flag a misspelt name

    def __getattr__(name: str) -> Any:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'tms_schedule' has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        """What the package exports and its public modules, not the names it uses itself."""
        return sorted(set(__all__) | _public_modules())


def _public_modules() -> set[str]:
    return {n for n in globals() if not n.startswith("_") and f"{__name__}.{n}" in sys.modules}


__all__ = [
    "BUILTIN_PROTOCOLS",
    "Accelerated",
    "Authorization",
    "AuthorizationReport",
    "BlockBreakError",
    "BlockSplitError",
    "CalendarOptions",
    "Catalogue",
    "ClinicCalendar",
    "ClinicSettings",
    "Closure",
    "ConfigError",
    "Course",
    "CourseError",
    "Daily",
    "Extension",
    "ExtraOpenDay",
    "FileWriteError",
    "HolidayDataError",
    "InvalidClinicError",
    "InvalidInputError",
    "InvalidPlanError",
    "InvalidProtocolError",
    "MilestoneRules",
    "NoOpenDayError",
    "OpeningHours",
    "Periodic",
    "Phase",
    "Plan",
    "Progress",
    "Protocol",
    "Rating",
    "Record",
    "Revision",
    "Scale",
    "Schedule",
    "ScheduleFormatError",
    "Session",
    "SkippedDay",
    "StagedAuthorization",
    "Stimulation",
    "Taper",
    "TmsScheduleError",
    "UnknownHolidayCountryError",
    "UnknownProtocolError",
    "UnknownTimezoneError",
    "Weekly",
    "__version__",
    "get_protocol",
    "load_clinic",
    "load_protocols",
    "protocol_ids",
    "session_uid",
]
