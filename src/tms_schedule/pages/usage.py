"""Chair time as staff read it: a page the clinic manager reads at a glance
(``templates/usage.html``, with the heat map drawn in SVG), text for a terminal and CSV
for a spreadsheet. What is counted is worked out in :mod:`tms_schedule.book.usage`.

The page: the share of open chair time booked, the fullest and the emptiest weekday and
hour, the heat map (a row per open weekday, a column per slot of the opening hours, each
cell filled by how full the chairs were then over the range's weeks, in five steps from
pale yellow, under 20%, to dark blue, 80% or more, with the percentage written in the
cell; a cell with no open time white and hatched), the same numbers in a table, and the
weeks. One self-contained HTML5 document; A4 and Letter portrait. Each cell's numbers
show on hover (an SVG ``<title>``); the picture's label and the table after it give them
to screen readers.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import attrs

from tms_schedule._dates import WEEKDAY_ABBR, WEEKDAY_FULL, short_day
from tms_schedule.book.usage import SlotUsage, Usage
from tms_schedule.errors import BookError
from tms_schedule.export.csv import csv_text
from tms_schedule.pages import render
from tms_schedule.pages._format import (
    STAFF_ONLY,
    check_page_arguments,
    clock,
    percent,
)

__all__ = [
    "BINS",
    "USAGE_CSV_COLUMNS",
    "HeatMap",
    "heat_map",
    "usage_csv",
    "usage_html",
    "usage_text",
]

#: The columns of :func:`usage_csv` for each ``by`` (see the function).
USAGE_CSV_COLUMNS = {
    "day": (
        "date",
        "weekday",
        "week",
        "open_minutes",
        "booked_minutes",
        "free_minutes",
        "sessions",
        "closed",
    ),
    "week": (
        "week",
        "first",
        "last",
        "open_days",
        "open_minutes",
        "booked_minutes",
        "free_minutes",
        "sessions",
    ),
    "slot": ("weekday", "start", "end", "open_minutes", "booked_minutes", "free_minutes"),
}
#: The heat map's steps: the share booked, from empty to full, each with its fill and the
#: text colour that reads on it. ColorBrewer's YlGnBu: its lightness falls steadily, so the
#: steps stay apart in greyscale print and for readers who do not tell red from green.
BINS = (
    (0.2, "#ffffcc", "#000000"),
    (0.4, "#a1dab4", "#000000"),
    (0.6, "#41b6c4", "#000000"),
    (0.8, "#2c7fb8", "#000000"),
    (1.0, "#253494", "#ffffff"),
)


def usage_html(
    used: Usage, *, clinic_name: str | None = None, issued: dt.date | None = None
) -> str:
    """The page (see the module).

    Args:
        used: the chair time.
        clinic_name: printed under the heading and at the foot of every page.
        issued: when the page was printed (a date, or a date and time). The library
            reads no clock: the caller gives it.

    Raises:
        BookError: ``issued`` is not a date, or ``clinic_name`` not a text.
    """
    check_page_arguments(clinic_name, issued)
    return render(
        "usage.html", used=used, heat=heat_map(used), clinic_name=clinic_name, issued=issued
    )


# -- the heat map ---------------------------------------------------------------------------------

# The heat map's geometry, in SVG units (the picture scales to the page's width).
_LABEL = 46
_HEAD = 24
_ROW = 34
_CELL = {60: 44, 30: 26}


@attrs.frozen
class HeatCell:
    """One cell of the heat map, placed.

    Attributes:
        slot: its numbers.
        x: its left edge; y: its top edge; width: its width (the row's height is
            :attr:`HeatMap.row`).
        where: ``Monday 09:00\N{EN DASH}10:00``.
        fill: its colour, ``None`` when no chair is open then (hatched).
        ink: the colour of the number written on it.
    """

    slot: SlotUsage
    x: int
    y: int
    width: int
    where: str
    fill: str | None
    ink: str

    @property
    def number(self) -> int:
        """The share booked, in whole per cent (rounded down)."""
        return self.slot.booked * 100 // self.slot.open if self.slot.open else 0


@attrs.frozen
class HeatMap:
    """The heat map of a :class:`~tms_schedule.book.usage.Usage`, laid out for its
    template (``fragments/heat_map.html``) and its table (``fragments/heat_table.html``).

    Attributes:
        width: the picture's width; height: its height (SVG units).
        head: the height of the hours' row along the top.
        row: a row's height; label: the width of the weekdays' column.
        font: the size of the numbers in the cells.
        halves: the cells are half hours (their numbers are left to the table on a phone).
        hours: each hour's label along the top, with its centre.
        rows: each open weekday's abbreviation, its label's baseline and its cells.
        legend: each step's fill and its words ("0\N{EN DASH}19%").
        weekdays: the table's columns: each weekday's abbreviation and full name.
        times: the table's rows: each slot's times ("09:00\N{EN DASH}10:00") and its cell for each
            weekday.
    """

    width: int
    height: int
    head: int
    row: int
    label: int
    font: int
    halves: bool
    hours: tuple[tuple[float, str], ...]
    rows: tuple[tuple[str, float, tuple[HeatCell, ...]], ...]
    legend: tuple[tuple[str, str], ...]
    weekdays: tuple[tuple[str, str], ...]
    times: tuple[tuple[str, tuple[SlotUsage, ...]], ...]


def heat_map(used: Usage) -> HeatMap:
    """The heat map of ``used``, laid out (see :class:`HeatMap`)."""
    weekdays = used.weekdays()
    cells = {(c.weekday, c.start): c for c in used.slots}
    starts = sorted({c.start for c in used.slots})
    width = _CELL[used.slot]
    per_hour = 60 // used.slot
    hours = tuple(
        (_LABEL + width * k + width * min(per_hour, len(starts) - k) / 2, _hhmm(start))
        for k, start in enumerate(starts)
        if start % 60 == 0
    )
    rows = []
    for row, weekday in enumerate(weekdays):
        y = _HEAD + _ROW * row
        placed = []
        for k, start in enumerate(starts):
            slot = cells[(weekday, start)]
            # The share as a float, as it always was: the step of a share on a boundary stays.
            _, fill, ink = BINS[min(int(slot.booked / slot.open * 5), 4)] if slot.open else BINS[0]
            where = f"{WEEKDAY_FULL[weekday]} {_hhmm(start)}\N{EN DASH}{_hhmm(start + used.slot)}"
            placed.append(
                HeatCell(
                    slot, _LABEL + width * k, y, width, where, fill if slot.open else None, ink
                )
            )
        rows.append((WEEKDAY_ABBR[weekday], y + _ROW / 2 + 4, tuple(placed)))
    return HeatMap(
        width=_LABEL + width * len(starts),
        height=_HEAD + _ROW * len(weekdays),
        head=_HEAD,
        row=_ROW,
        label=_LABEL,
        font=12 if used.slot == 60 else 10,
        halves=used.slot == 30,
        hours=hours,
        rows=tuple(rows),
        legend=_legend(),
        weekdays=tuple((WEEKDAY_ABBR[w], WEEKDAY_FULL[w]) for w in weekdays),
        times=tuple(
            (
                f"{_hhmm(start)}\N{EN DASH}{_hhmm(start + used.slot)}",
                tuple(cells[(w, start)] for w in weekdays),
            )
            for start in starts
        ),
    )


def _legend() -> tuple[tuple[str, str], ...]:
    """Each step's fill and the shares it stands for."""
    items = []
    low = 0
    for high, fill, _ in BINS:
        top = int(high * 100)
        items.append((fill, f"{low}\N{EN DASH}{top - 1 if top < 100 else 100}%"))
        low = top
    return tuple(items)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# -- CSV ------------------------------------------------------------------------------------------


def usage_csv(used: Usage, by: Literal["day", "week", "slot"] = "day") -> str:
    """The minutes as CSV, one row per day, week or heat-map cell, with a header row
    and ``\\r\\n`` line ends (RFC 4180). Minutes are chair minutes summed over the
    chairs.

    ``by="day"``: every day of the range, closed ones too:

    ============== ==========================================================
    column         meaning
    ============== ==========================================================
    date           the day, YYYY-MM-DD
    weekday        Mon ... Sun
    week           the week's Monday, YYYY-MM-DD
    open_minutes   open chair time
    booked_minutes the part of it sessions hold
    free_minutes   open less booked
    sessions       the sessions that hold a chair that day
    closed         why the clinic is closed; empty when it is open
    ============== ==========================================================

    ``by="week"``: ``week`` (its Monday), ``first`` and ``last`` (its days in the
    range), ``open_days``, ``open_minutes``, ``booked_minutes``, ``free_minutes``,
    ``sessions``.

    ``by="slot"``: the heat map: ``weekday`` (Mon ... Sun), ``start`` and ``end`` (local
    HH:MM), ``open_minutes``, ``booked_minutes``, ``free_minutes``.

    Columns may be added at the end later; these keep their names, order and
    meaning. A text cell a spreadsheet would run as a formula gets a single quote in
    front, as in :mod:`tms_schedule.export.csv`.

    Raises:
        BookError: ``by`` is not one of day, week, slot.
    """
    if by not in USAGE_CSV_COLUMNS:
        raise BookError(f"by: must be one of day, week, slot; got {by!r}")
    rows: list[tuple[str | int, ...]]
    if by == "day":
        rows = [
            (
                d.date.isoformat(),
                WEEKDAY_ABBR[d.date.weekday()],
                (d.date - dt.timedelta(days=d.date.weekday())).isoformat(),
                d.open,
                d.booked,
                d.free,
                d.sessions,
                d.closed or "",
            )
            for d in used.days
        ]
    elif by == "week":
        rows = [
            (
                w.monday.isoformat(),
                w.first.isoformat(),
                w.last.isoformat(),
                w.open_days,
                w.open,
                w.booked,
                w.free,
                w.sessions,
            )
            for w in used.weeks()
        ]
    else:
        rows = [(WEEKDAY_ABBR[c.weekday], *c.times, c.open, c.booked, c.free) for c in used.slots]
    return csv_text(USAGE_CSV_COLUMNS[by], rows)


# -- text -----------------------------------------------------------------------------------------


def usage_text(used: Usage) -> str:
    """The title and that it is for the clinic's staff only; totals, then by week, by day
    (open days, and days closed by a holiday or closure), and by weekday and hour (a small
    heat map of the share booked); every line fits 80 columns. Chair time is written
    hours:minutes."""
    chairs = len(used.chairs)
    lines = [
        f"Chair time booked - {short_day(used.first)} to {short_day(used.last)}",
        STAFF_ONLY,
        f"{chairs} chair{'s' if chairs != 1 else ''}; times in {used.timezone};"
        " chair time in hours:minutes",
        f"Booked {clock(used.booked)} of {clock(used.open)} open ({percent(used.booked, used.open)}),"
        f" {clock(used.open - used.booked)} free",
        "",
        f"{'Week of':<16} {'days':>4} {'open':>9} {'booked':>9} {'free':>9} {'full':>5}"
        f" {'sessions':>8}",
    ]
    for week in used.weeks():
        lines.append(
            f"{short_day(week.monday):<16} {week.open_days:>4} {clock(week.open):>9}"
            f" {clock(week.booked):>9} {clock(week.free):>9}"
            f" {percent(week.booked, week.open):>5} {week.sessions:>8}"
        )
    lines += [
        "",
        f"{'Day':<16} {'':>4} {'open':>9} {'booked':>9} {'free':>9} {'full':>5} {'sessions':>8}",
    ]
    for day in used.days:
        if day.closed is not None and (day.closed.startswith("closed on ") and not day.sessions):
            continue  # a weekday the clinic never opens
        if day.closed is not None:
            lines.append(f"{short_day(day.date):<16} {_closed_words(day.closed)}"[:80])
            continue
        lines.append(
            f"{short_day(day.date):<16} {'':>4} {clock(day.open):>9} {clock(day.booked):>9}"
            f" {clock(day.free):>9} {percent(day.booked, day.open):>5} {day.sessions:>8}"
        )
    lines += _text_heat_map(used)
    return "\n".join(lines) + "\n"


def _closed_words(reason: str) -> str:
    if reason.startswith("closed on "):
        return reason
    return "closed: " + reason.replace(": clinic closed", "")


def _text_heat_map(used: Usage) -> list[str]:
    """By weekday and hour (the slots summed by hour, so that it fits 80 columns)."""
    if not used.slots:
        return ["", "No open time in these dates."]
    hours: dict[tuple[int, int], list[int]] = {}
    for cell in used.slots:
        entry = hours.setdefault((cell.weekday, cell.start // 60), [0, 0])
        entry[0] += cell.open
        entry[1] += cell.booked
    columns = sorted({hour for _, hour in hours})
    lines = [
        "",
        "Full by weekday and hour (% of open chair time booked; . not open)",
        "     " + "".join(f"  {hour:02d}" for hour in columns),
    ]
    for weekday in used.weekdays():
        cells = []
        for hour in columns:
            open_, booked = hours.get((weekday, hour), [0, 0])
            cells.append(f"{booked * 100 // open_:>4}" if open_ else "   .")
        lines.append(f"{WEEKDAY_ABBR[weekday]:<5}" + "".join(cells))
    return lines
