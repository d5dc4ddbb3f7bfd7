"""tms_schedule: plan courses of TMS treatment as dated sessions, and export them.

>>> import datetime as dt
>>> import tms_schedule as tms
>>> clinic = tms.ClinicCalendar("America/Denver", holidays="US-CO")
>>> plan = tms.Plan(tms.get_protocol("standard-10hz"), clinic, dt.date(2026, 11, 16), dt.time(9), "c-1")
>>> len(plan.expand())
36
"""

from __future__ import annotations

from tms_schedule.catalogue import (
    BUILTIN_PROTOCOLS,
    Catalogue,
    get_protocol,
    load_protocols,
    protocol_ids,
)
from tms_schedule.clinic import ClinicCalendar, Closure, ExtraOpenDay, OpeningHours
from tms_schedule.course import (
    Authorization,
    AuthorizationReport,
    Course,
    Extension,
    MilestoneRules,
    Record,
    Revision,
)
from tms_schedule.errors import (
    BlockSplitError,
    ConfigError,
    CourseError,
    HolidayDataError,
    InvalidClinicError,
    InvalidPlanError,
    InvalidProtocolError,
    NoOpenDayError,
    ScheduleFormatError,
    TmsScheduleError,
    UnknownHolidayCountryError,
    UnknownProtocolError,
    UnknownTimezoneError,
)
from tms_schedule.export.options import CalendarOptions
from tms_schedule.export.uid import session_uid
from tms_schedule.phase import Accelerated, Daily, Periodic, Phase, Taper, Weekly
from tms_schedule.plan import Plan
from tms_schedule.protocol import Protocol, Stimulation
from tms_schedule.schedule import Schedule, Session, SkippedDay
from tms_schedule.settings import ClinicSettings, load_clinic

__version__ = "0.1.0"

__all__ = [
    "BUILTIN_PROTOCOLS",
    "Accelerated",
    "Authorization",
    "AuthorizationReport",
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
    "HolidayDataError",
    "InvalidClinicError",
    "InvalidPlanError",
    "InvalidProtocolError",
    "MilestoneRules",
    "NoOpenDayError",
    "OpeningHours",
    "Periodic",
    "Phase",
    "Plan",
    "Protocol",
    "Record",
    "Revision",
    "Schedule",
    "ScheduleFormatError",
    "Session",
    "SkippedDay",
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
