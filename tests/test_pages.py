"""The pages' templates: one environment with autoescaping on, fragments that render on
their own (the front desk includes them in its pages), every template saying what it
expects, and a wheel that carries them.

The pages themselves are tested beside their models: the handout in test_export_html.py,
the day sheet in test_book_sheet.py, chair time and room for more courses in
test_book_usage.py.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import pytest

from book_cases import MONDAY, at, clinic_book
from cases import CLINIC, recorded
from tms_schedule import Plan
from tms_schedule.export.handout import handout
from tms_schedule.export.options import CalendarOptions
from tms_schedule.pages import environment, render
from tms_schedule.pages._format import STAFF_ONLY, css_string
from tms_schedule.pages.usage import heat_map
from tms_schedule.schedule import SkippedDay

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "src" / "tms_schedule" / "pages" / "templates"
EVIL = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>&amp;"


def names(folder: str = "") -> list[str]:
    """The templates under ``folder``, as the environment names them."""
    return sorted(
        path.relative_to(TEMPLATES).as_posix() for path in (TEMPLATES / folder).rglob("*.*")
    )


@functools.cache
def monday() -> Any:
    """The hand-built book's Monday (tests/book_cases.py): every kind of stretch."""
    return clinic_book().day_sheet(MONDAY)


@functools.cache
def week() -> Any:
    """The hand-built book's week (tests/book_cases.py)."""
    return clinic_book().usage(MONDAY, MONDAY + dt.timedelta(days=6))


def standard_handout() -> Any:
    schedule = Plan("standard-10hz", CLINIC, "2026-11-16", "09:00", "c-1").expand()
    return handout(recorded(schedule, attended=[0], missed=[1], cancelled=[9]))


#: A context for each fragment, as a page that includes it would give.
FRAGMENTS: dict[str, Callable[[], dict[str, Any]]] = {
    "fragments/appointment_list.html": lambda: {"days": standard_handout().days},
    "fragments/chair_day.html": lambda: {"chair_day": monday().chair("c1")},
    "fragments/day_table.html": lambda: {"sheet": monday()},
    "fragments/course_summary.html": lambda: {"summary": standard_handout().summary},
    "fragments/grid_legend.html": lambda: {"marks": {"session", "missed"}, "many": None},
    "fragments/heat_map.html": lambda: {"heat": heat_map(week())},
    "fragments/heat_table.html": lambda: {"heat": heat_map(week())},
    "fragments/month_grid.html": lambda: {"grid": standard_handout().grids[0]},
    "fragments/room_offers.html": lambda: {
        "room": clinic_book().room_for("itbs", MONDAY, "09:00", "12:00"),
        "chair_names": clinic_book().chair_names(),
    },
    "fragments/skipped_days.html": lambda: {"skipped": standard_handout().skipped},
    "fragments/usage_weeks.html": lambda: {"used": week()},
}


def test_one_environment_escapes_and_refuses_unknown_names() -> None:
    env = environment()
    assert env is environment()  # built once
    assert env.autoescape is True
    assert env.undefined is jinja2.StrictUndefined
    with pytest.raises(jinja2.UndefinedError, match="'skipped' is undefined"):
        render("fragments/skipped_days.html")


@pytest.mark.parametrize("name", names("fragments"))
def test_each_fragment_renders_alone(name: str) -> None:
    """Each fragment renders from its documented context alone, with no page around it:
    well-formed HTML (every element it opens it closes) and no template syntax left."""
    assert name in FRAGMENTS, f"{name}: add a context for it to FRAGMENTS"
    html = render(name, **FRAGMENTS[name]())
    assert html.strip() and "{{" not in html and "{%" not in html
    elements = "section|ul|table|thead|tbody|tr|td|th|p|li|span|address|figure|svg|g|text"
    opened = re.findall(rf"<({elements})\b", html)
    closed = re.findall(rf"</({elements})>", html)
    assert sorted(opened) == sorted(closed), name


def test_fragments_render_the_same_alone_and_in_their_page() -> None:
    """What the front desk includes is what the handout prints."""
    page = standard_handout()
    whole = render("handout.html", handout=page)
    for name in ("fragments/month_grid.html", "fragments/course_summary.html"):
        assert render(name, **FRAGMENTS[name]()) in whole, name
    sheet = monday().to_html()
    for name in ("fragments/chair_day.html", "fragments/day_table.html"):
        assert render(name, **FRAGMENTS[name]()) in sheet, name
    used = week().to_html()
    for name in (
        "fragments/heat_map.html",
        "fragments/heat_table.html",
        "fragments/usage_weeks.html",
    ):
        assert render(name, **FRAGMENTS[name]()) in used, name


@pytest.mark.parametrize("name", names())
def test_every_template_says_what_it_expects(name: str) -> None:
    """A template opens with a comment saying what it draws and the context it needs."""
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    assert text.startswith("{#"), name
    head, body = text.split("#}", 1)
    if "{{" in body and not name.startswith("macros/"):  # macros take parameters instead
        assert "Context" in head, name
    # Every name a fragment reads from its context is documented in that comment.
    if name.startswith("fragments/"):
        for variable in FRAGMENTS[name]():
            assert re.search(rf"^\s+{variable}\s+\(", head, re.MULTILINE), (name, variable)


def test_autoescaping_keeps_text_text() -> None:
    """Labels, reasons and names with markup, quotes and ampersands come out as text:
    nothing can open an element or leave an attribute."""
    skipped = [SkippedDay(dt.date(2026, 11, 26), EVIL)]
    html = render("fragments/skipped_days.html", skipped=skipped)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;&gt;&lt;img" in html
    assert "&amp;amp;" in html
    page = handout(
        Plan("itbs", CLINIC, "2026-11-16", "09:00", "c-1").expand(),
        CalendarOptions(clinic_name=EVIL, url="https://clinic.example/?a=1&b=2"),
        issued=at("2026-11-16", "07:45"),
    )
    html = render("handout.html", handout=page)
    assert "<script" not in html and "<img" not in html
    assert 'href="https://clinic.example/?a=1&amp;b=2"' in html
    # At the foot of each printed page the name is a CSS string: escaped for CSS.
    style = html.split("<style>")[1].split("</style>")[0]
    assert "<" not in style and r"\00003cscript\00003e" in style


def test_a_wheel_carries_the_templates(tmp_path: Path) -> None:
    """The wheel holds every template; the package imported from it alone renders a page."""
    built = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("tms_schedule-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        inside = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    for name in names():
        assert f"tms_schedule/pages/templates/{name}" in inside, name
    code = (
        "import tms_schedule, tms_schedule.pages as pages\n"
        "from tms_schedule import ClinicCalendar, Plan\n"
        "page = Plan('itbs', ClinicCalendar('UTC'), '2026-11-16', '09:00', 'c-1').expand().to_html()\n"
        "print(tms_schedule.__file__)\n"
        "print(page.count('<section class=\"month\"'))\n"
    )
    # The unpacked wheel comes first on the path: it, not the source tree, is imported.
    ran = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(tmp_path / "site")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    where, months = ran.stdout.split()
    assert Path(where).is_relative_to(tmp_path / "site")
    assert months == "2"


def test_staff_pages_say_so_and_the_handout_names_no_treatment() -> None:
    """The day sheet, chair time and room for more courses name protocols and codes: each
    says on it, and at the foot of each printed page, that it is for the clinic's staff.
    The handout, for the patient, says nothing of the kind and names no treatment."""
    book = clinic_book()
    staff = {
        "day sheet": monday().to_html(),
        "chair time": week().to_html(),
        "room": book.room_for("itbs", MONDAY, "09:00", "12:00").to_html(book.chair_names()),
    }
    for name, page in staff.items():
        assert f'<strong class="staff">{STAFF_ONLY}</strong>' in page, name
        style = page.split("<style>")[1].split("</style>")[0]
        assert css_string(" \N{MIDDLE DOT} For clinic staff only")[1:] in style, name
    handout_page = render("handout.html", handout=standard_handout()).lower()
    assert "staff" not in handout_page
    for word in ("tms", "stimulation", "rtms", "standard-10hz", "acute", "taper"):
        assert word not in handout_page, word


def test_a_page_shows_a_day_with_its_own_labels_and_a_cell_of_its_own() -> None:
    """The front desk's day view is the printed sheet's template: it shows its labels where
    the sheet shows course ids, and puts its own cell (its buttons) on each session's row."""
    chair_day = monday().chair("c3")  # the SNT day: a held day and ten sessions
    labelled = render("fragments/chair_day.html", chair_day=chair_day, labels={"snt-1": "A. B."})
    assert "snt-1" not in labelled and labelled.count('<td class="course">A. B.</td>') == 10
    assert "A. B. keeps the chair from first to last session" in labelled
    template = environment().from_string(
        '{% from "macros/day_sheet.html" import chair_rows %}'
        "{% call(session) chair_rows(chair_day, labels) %}"
        '<button name="attended" value="{{ session.number }}">Attended</button>'
        "{% endcall %}"
    )
    desk = template.render(chair_day=chair_day, labels={"snt-1": "<A. B.>"})
    rows = re.findall(r'<tr class="session [a-z]+">.*?</tr>', desk)
    assert len(rows) == 10
    assert all(row.endswith("</button></td></tr>") for row in rows)
    assert '<td class="act"><button name="attended" value="3">Attended</button></td>' in desk
    assert '<td class="course">&lt;A. B.&gt;</td>' in desk  # a label is text too
    # The chair's row spans the eight columns, a free or held stretch the seven after its time.
    assert '<th colspan="8"' in desk and 'colspan="6"' not in desk
    # Without a call block the rows are the printed sheet's, seven cells.
    assert 'colspan="8"' not in render("fragments/chair_day.html", chair_day=chair_day)
