"""Plain-text view for the front desk: the sessions week by week, then the skipped days."""

from __future__ import annotations

import datetime as dt

from tms_schedule.schedule import Schedule

__all__ = ["schedule_to_text"]


def schedule_to_text(schedule: Schedule) -> str:
    """The schedule as text a person reads, 80 columns wide."""
    sessions = schedule.sessions
    lines = [
        f"Course {schedule.course_id} - {schedule.protocol_id} - {len(sessions)} sessions"
        f" - times in {schedule.timezone}",
    ]
    if sessions:
        lines.append(f"From {_day(sessions[0].start.date())} to {_day(sessions[-1].start.date())}")
    week: dt.date | None = None
    for s in sessions:
        local = s.start.date()
        monday = local - dt.timedelta(days=local.weekday())
        if monday != week:
            week = monday
            count = sum(1 for x in sessions if _monday(x.start.date()) == monday)
            lines.append("")
            lines.append(f"Week of {_day(monday)} ({count} session{'s' if count != 1 else ''})")
        status = "" if s.status == "scheduled" else f"  [{s.status}]"
        lines.append(
            f"  {s.number:>3}  {local:%a} {local.day:>2} {local:%b}  {s.start:%H:%M}-{s.end:%H:%M}"
            f"  {s.phase} {s.phase_number}{status}"
        )
    if schedule.skipped:
        lines.append("")
        lines.append("Days passed over")
        for day in schedule.skipped:
            lines.append(f"  {_day(day.date)}  {day.reason}")
    return "\n".join(lines) + "\n"


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _day(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"
