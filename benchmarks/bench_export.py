"""Calendar export speed beside a hand-written icalendar baseline, in one run.

Usage: ``python benchmarks/bench_export.py [--quick]``

* tms_schedule: ``Schedule.to_ics`` of a 36-session ``standard-10hz`` course (America/Denver,
  two reminders per session), the VTIMEZONE cached after the first file.
* baseline: the same events built with icalendar's ``Calendar``/``Event``/``Alarm``, with
  ``add_missing_timezones()`` per file and ``to_ical()`` — what a developer writes by hand.

Reports one course and 1,000 courses (different patients: course ids and start dates).
"""

from __future__ import annotations

import argparse
import datetime as dt
import timeit

STAMP = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)


def baseline(schedule: object) -> bytes:
    from icalendar import Alarm, Calendar, Event

    calendar = Calendar()
    calendar.add("PRODID", "-//baseline//EN")
    calendar.add("VERSION", "2.0")
    for session in schedule.sessions:  # type: ignore[attr-defined]
        event = Event()
        event.add("UID", f"{schedule.course_id}-{session.number}")  # type: ignore[attr-defined]
        event.add("DTSTAMP", STAMP)
        event.add("DTSTART", session.start)
        event.add("DTEND", session.end)
        event.add("SUMMARY", "Appointment")
        event.add("SEQUENCE", 0)
        for lead in (dt.timedelta(days=1), dt.timedelta(hours=1)):
            alarm = Alarm()
            alarm.add("ACTION", "DISPLAY")
            alarm.add("TRIGGER", -lead)
            alarm.add("DESCRIPTION", "Appointment")
            event.add_component(alarm)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (for CI)")
    args = parser.parse_args()
    repeat = 3 if args.quick else 7
    courses = 100 if args.quick else 1000

    import tms_schedule as tms

    clinic = tms.ClinicCalendar("America/Denver", holidays="US-CO")
    start = dt.date(2026, 11, 16)
    schedule = tms.Plan("standard-10hz", clinic, start, dt.time(9), "bench-1").expand()
    many = [
        tms.Plan(
            "standard-10hz", clinic, start + dt.timedelta(days=i % 200), dt.time(9), f"p-{i}"
        ).expand()
        for i in range(courses)
    ]
    schedule.to_ics(stamp=STAMP)  # first file builds the VTIMEZONE; later ones reuse it
    baseline(schedule)

    ours = min(timeit.repeat(lambda: schedule.to_ics(stamp=STAMP), number=50, repeat=repeat)) / 50
    theirs = min(timeit.repeat(lambda: baseline(schedule), number=5, repeat=repeat)) / 5
    ours_many = min(
        timeit.repeat(
            lambda: [s.to_ics(stamp=STAMP) for s in many], number=1, repeat=max(repeat // 2, 2)
        )
    )
    theirs_many = min(timeit.repeat(lambda: [baseline(s) for s in many], number=1, repeat=1))

    print("export standard-10hz to .ics (36 sessions, 2 reminders each, America/Denver)")
    print(f"  tms_schedule, VTIMEZONE cached       {ours * 1e3:10.2f} ms per course")
    print(f"  baseline (icalendar, per-file zones) {theirs * 1e3:10.2f} ms per course")
    print(f"  ratio baseline / tms_schedule        {theirs / ours:10.1f} x   (target: 10 x)")
    print(f"  {courses:,} courses, tms_schedule        {ours_many * 1e3:10.1f} ms")
    print(f"  {courses:,} courses, baseline            {theirs_many * 1e3:10.1f} ms")


if __name__ == "__main__":
    main()
