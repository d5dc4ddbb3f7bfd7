"""The printable handout: the appointments as month grids or a list, for the front desk to
print or send (drawn from ``templates/handout.html``; what it says is worked out in
:mod:`tms_schedule.export.handout`).

What the page holds, and why:

* one self-contained HTML5 document: inline CSS, no scripts, no fonts, images or styles to
  fetch (a Content-Security-Policy says so too), so it looks the same opened from a mail,
  a browser or a USB stick, and prints the same;
* neutral text, as in the calendar files: "Your appointments", the clinic's name and contact
  details, and what to do when the patient cannot come (the clinic's ``cannot_come`` line,
  or "If you cannot come, please call the clinic" with its phone number); no protocol, phase
  or treatment word unless the clinic writes it into ``title``, ``description`` or
  ``cannot_come`` itself (a handout left on a desk or a fridge is read by others);
* the date the page was issued and the course's revision, when the caller gives them (the
  library reads no clock), in the header and at the foot of every printed page, beside the
  clinic's name and "Page 2 of 3";
* the number of appointments (the course's target) and the first and last date; once
  anything is recorded, how many were attended, missed (and whether made up), cancelled
  and are still to come, the counts of :meth:`~tms_schedule.schedule.Schedule.progress`;
* month grids (weeks from Monday) when the appointments fill them: when the appointment
  days number at least eight for each month shown (about two a week). A sparser course is
  printed as a list alone rather than as pages of nearly empty grids: maintenance boosters
  a week or more apart, or an accelerated course of a few days of many sessions (whose
  list gives every time on one page). In a grid an appointment day shows
  its times, or the count and span of a day of many sessions; a day whose sessions were
  missed, one whose sessions are all cancelled and a day passed over each have their own
  mark, named in a legend; the days passed over are explained below the grids;
* every appointment day again as a list, with every session's time (ten on an accelerated
  day), so each date and time is in the text itself (for screen readers, mail previews, and
  people who read lists more easily than grids), and each appointment's number, the one the
  clinic records it by ("(no. 12)", "(nos. 1\N{EN DASH}10)"), for a patient who calls about one;
* a layout for phones: below 720 px the grid cells shrink to the day and its start times
  (on a day of many sessions, their count: "10\N{MULTIPLICATION SIGN}"), the list carries
  the rest, and no word is broken inside;
* print CSS for both A4 and US Letter without forcing either: 12 mm margins, a column
  186 mm wide (A4's width less margins) and grids sized so that two months fit in Letter's
  255 mm of height; a month never splits across pages; marks read in black and white
  (borders, hatching and words, not colour alone);
* English names from fixed tables and every text HTML-escaped by the templates (and
  CSS-escaped where it is printed at the foot of the page); the same input always gives
  the same string.
"""

from __future__ import annotations

from tms_schedule.export.handout import Handout
from tms_schedule.pages import render

__all__ = ["handout_html"]


def handout_html(handout: Handout) -> str:
    """The handout as one self-contained HTML5 page (see the module).

    >>> import datetime as dt
    >>> from tms_schedule import ClinicCalendar, Plan
    >>> from tms_schedule.export.handout import handout
    >>> from tms_schedule.export.options import CalendarOptions
    >>> schedule = Plan("itbs", ClinicCalendar("Europe/Berlin"), "2026-11-16", "09:00", "c-1").expand()
    >>> page = handout_html(handout(schedule, CalendarOptions(clinic_name="Example Clinic")))
    >>> page.startswith("<!DOCTYPE html>"), "<h1>Your appointments \N{EM DASH} Example Clinic</h1>" in page
    (True, True)
    """
    return render("handout.html", handout=handout)
