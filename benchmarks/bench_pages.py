"""The views and their pages: the day sheet, chair time, room for more courses and the
handout, worked out and rendered, beside hand-written pages in the same run.

Usage: ``python benchmarks/bench_pages.py [--quick]``

The book is :mod:`busy_clinic`'s: four chairs, sixty courses running. The day is its
Monday (every chair busy from 07:00); chair time covers eight weeks from three weeks
before it; room for more courses asks for a three-hour window that day.

* The computations (the sheet, chair time) read the sessions of the days asked about.
* Each rendering is timed apart: text, CSV, and the page from its Jinja2 template.
* Baseline: the same table of the day's sessions (every cell of the sheet's rows) and
  the same handout list (every appointment day and its times) written by hand as joined,
  escaped strings, as the pages were written before their templates: what the template
  engine costs over plain string building.

Times are the best of several runs, in the process's CPU time. Targets: a day sheet and
its page under 10 ms together; chair time over eight weeks and its page under 50 ms (the
front desk's pages, which include them, aim at 50 ms).
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import time
import timeit
from collections.abc import Callable

from busy_clinic import NOW, busy_book
from tms_schedule import Plan
from tms_schedule.book import DaySheet

_DASH = "\N{EN DASH}"


def hand_written_sheet(sheet: DaySheet) -> str:
    """The sheet's table, every session a row of seven escaped cells, by string joins."""
    rows = []
    for entry in sheet.chairs:
        rows.append(
            f'<tbody><tr class="chair"><th colspan="7">{html.escape(entry.chair.name)}</th></tr>'
        )
        for s in entry.sessions:
            due = "; ".join(html.escape(m) for m in s.milestones)
            rows.append(
                f'<tr class="session {s.status}"><td>{s.start:%H:%M}{_DASH}{s.end:%H:%M}</td>'
                f"<td>{html.escape(s.course_id)}</td><td>{html.escape(s.protocol_id)}</td>"
                f"<td>{html.escape(s.position)}</td><td>{s.status}</td><td>{due}</td>"
                f"<td>{html.escape(s.cpt or '')}</td></tr>"
            )
        rows.append("</tbody>")
    return "\n".join(["<table>", *rows, "</table>"]) + "\n"


def hand_written_list(schedule_days: dict[dt.date, list[tuple[dt.datetime, dt.datetime]]]) -> str:
    """The handout's list of every appointment day and its times, by string joins."""
    items = [
        f"<li><span>{day:%a %d %b %Y}</span> <span>"
        + ", ".join(f"{a:%H:%M}{_DASH}{b:%H:%M}" for a, b in times)
        + "</span></li>"
        for day, times in schedule_days.items()
    ]
    return "\n".join(["<ul>", *items, "</ul>"]) + "\n"


def best(call: Callable[[], object], number: int, repeat: int) -> float:
    """The best time of one call, in seconds of this process's CPU time: on a machine
    others share, the time it waited for a core is not the page's."""
    return min(timeit.repeat(call, number=number, repeat=repeat, timer=time.process_time)) / number


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (for CI)")
    args = parser.parse_args()
    number, repeat = (3, 3) if args.quick else (20, 5)

    book = busy_book()
    day = NOW.date()
    sheet = book.day_sheet(day)
    sheet.to_html()  # the templates are compiled once, on first use
    print(f"day sheet of {day}: {len(sheet.sessions())} sessions on {len(sheet.chairs)} chairs")
    figures = {
        "work it out": best(lambda: book.day_sheet(day), number, repeat),
        "text": best(sheet.to_text, number, repeat),
        "CSV": best(sheet.to_csv, number, repeat),
        "page (template)": best(sheet.to_html, number, repeat),
        "baseline: its table by hand": best(lambda: hand_written_sheet(sheet), number, repeat),
    }
    for what, seconds in figures.items():
        print(f"  {what:<34} {seconds * 1e3:8.2f} ms")
    total = figures["work it out"] + figures["page (template)"]
    print(f"  worked out and its page            {total * 1e3:8.2f} ms   (target: 10 ms)")

    first, last = day - dt.timedelta(weeks=3), day + dt.timedelta(weeks=5, days=-1)
    used = book.usage(first, last)
    used.to_html()
    computed = best(lambda: book.usage(first, last), number, repeat)
    page = best(used.to_html, number, repeat)
    print(f"chair time from {first} to {last} ({len(used.slots)} heat-map cells)")
    print(f"  work it out                        {computed * 1e3:8.2f} ms")
    print(
        f"  text                               {best(used.to_text, number, repeat) * 1e3:8.2f} ms"
    )
    print(f"  page (template, SVG heat map)      {page * 1e3:8.2f} ms")
    print(
        f"  worked out and its page            {(computed + page) * 1e3:8.2f} ms   (target: 50 ms)"
    )

    window = (dt.time(9), dt.time(12))
    room = book.room_for("standard-10hz", day, *window)
    found = best(lambda: book.room_for("standard-10hz", day, *window), 1, repeat)
    print(f"room for more standard-10hz courses on {day}, 09:00 to 12:00: {room.count}")
    print(f"  work it out                        {found * 1e3:8.2f} ms")
    print(
        f"  page (template)                    {best(room.to_html, number, repeat) * 1e3:8.2f} ms"
    )

    schedule = Plan("standard-10hz", book.clinic, day, "09:00", "c-1").expand()
    schedule.to_html()
    days: dict[dt.date, list[tuple[dt.datetime, dt.datetime]]] = {}
    for session in schedule.sessions:
        days.setdefault(session.date, []).append((session.start, session.end))
    print(f"the handout of a standard-10hz course ({len(schedule)} sessions)")
    print(
        f"  page (template)                    {best(schedule.to_html, number, repeat) * 1e3:8.2f} ms"
    )
    print(
        f"  baseline: its list by hand         "
        f"{best(lambda: hand_written_list(days), number, repeat) * 1e3:8.2f} ms"
    )


if __name__ == "__main__":
    main()
