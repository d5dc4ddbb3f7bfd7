"""Exports: a :class:`~tms_schedule.schedule.Schedule` in the formats people and programs read.

========================  ==================================================================
module                    what it writes
========================  ==================================================================
``export.ics``            iCalendar files for phones and calendar apps
``export.vtimezone``      the VTIMEZONE components those files carry (Outlook's RRULE form)
``export.json``           JSON for clinic software, and a strict loader
``export.csv``            CSV, one row per session, for spreadsheets and imports
``export.text``           the front desk's terminal view: weeks, month grids, days passed over
``export.html``           the printable handout (drawn by ``pages.handout``)
``export.handout``        what the handout says: its model, worked out from a schedule
``export.options``        :class:`CalendarOptions`: what the calendar files and handout say
``export.uid``            the one-way session UIDs every format shares
========================  ==================================================================

Each exporter is a function of a schedule and its options; none reads a clock, a locale or
the machine's timezone.
"""
