"""The printable handout: :func:`schedule_to_html`, the schedule as a page the front desk
prints or sends.

What the page says is worked out in :mod:`tms_schedule.export.handout` (the model); the
page is drawn from its templates by :mod:`tms_schedule.pages.handout`, a layer up, which
says what the page holds and why.
"""

from __future__ import annotations

import datetime as dt

from tms_schedule._conveniences import provided
from tms_schedule.export.handout import handout
from tms_schedule.export.options import CalendarOptions
from tms_schedule.schedule import Schedule

__all__ = ["schedule_to_html"]


def schedule_to_html(
    schedule: Schedule,
    options: CalendarOptions | None = None,
    *,
    issued: dt.date | None = None,
    revision: int | None = None,
) -> str:
    """The schedule as a printable handout: one HTML5 page, self-contained.

    Args:
        schedule: the sessions to show; missed and cancelled ones are marked.
        options: the clinic's name, contact details, ``cannot_come`` line, and its own
            ``title`` and ``description`` (the same
            :class:`~tms_schedule.export.options.CalendarOptions` as the calendar files);
            default: neutral text and no contact details.
        issued: when the page is issued (a date, or a date and time), printed in the
            header and on every page (the library reads no clock: the caller gives it);
            ``None`` prints no date.
        revision: the course revision the page shows, printed beside ``issued``.

    Raises:
        InvalidCalendarOptionError: ``issued`` or ``revision`` is not one.

    >>> import datetime as dt
    >>> from tms_schedule import ClinicCalendar, Plan
    >>> schedule = Plan("itbs", ClinicCalendar("Europe/Berlin"), "2026-11-16", "09:00", "c-1").expand()
    >>> page = schedule_to_html(
    ...     schedule, CalendarOptions(clinic_name="Example Clinic"), issued=dt.date(2026, 11, 2)
    ... )
    >>> page.startswith("<!DOCTYPE html>"), "Your appointments \N{EM DASH} Example Clinic" in page
    (True, True)
    >>> page.count('<section class="month"'), "30 appointments" in page, "Issued 2 Nov 2026" in page
    (2, True, True)
    """
    model = handout(schedule, options, issued=issued, revision=revision)
    return str(provided("handout_html")(model))
