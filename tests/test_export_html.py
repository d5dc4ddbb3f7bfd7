"""The printable handout: content, neutrality, escaping, and a real browser printing it.

The browser tests print with Debian's Chromium on A4 and on US Letter and read the PDF back
with poppler (see tests/browser.py); the page counts below were checked by eye on
screenshots of the pages.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from html.parser import HTMLParser
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from browser import print_to_pdf
from cases import CLINIC, expand_or_skip, golden_start
from strategies import plans
from tms_schedule import (
    Closure,
    Plan,
    Schedule,
    get_protocol,
    protocol_ids,
)
from tms_schedule._dates import month_title, short_day
from tms_schedule.cli import main
from tms_schedule.export.html import schedule_to_html
from tms_schedule.export.options import CalendarOptions

CONTACT = {
    "clinic_name": "Example Clinic",
    "location": "1 Main St, Denver, CO",
    "phone": "+1 303 555 0100",
    "url": "https://clinic.example/appointments",
}
# Words that tell a reader what the visits are for; the default page has none of them.
TREATMENT_WORDS = ("tms", "stimulation", "depression", "taper", "acute", "magnetic", "rtms")
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "p", "address",
    "span", "a", "strong", "ul", "li", "section", "table", "thead", "tbody", "tr", "th",
    "td", "time", "br", "s",
}  # fmt: skip
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def expand(protocol_id: str, course_id: str | None = None) -> Schedule:
    start, at = golden_start(protocol_id)
    # The command line's default course id names the protocol: the page must not print it.
    course_id = course_id or f"{protocol_id}-{start.isoformat()}"
    return Plan(protocol_id, CLINIC, start, at, course_id).expand()


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def tags(page: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser.tags


def cells(page: str, kind: str) -> set[str]:
    """The dates of the grid cells of one kind ("appt" or "skip")."""
    return set(
        re.findall(rf'<td class="(?:weekend )?{kind}"><time class="num" datetime="([\d-]+)"', page)
    )


def test_every_session_date_is_in_the_grid_and_the_list() -> None:
    schedule = expand("standard-10hz")
    page = schedule_to_html(schedule, CalendarOptions(**CONTACT))
    dates = {s.start.date() for s in schedule}
    assert cells(page, "appt") == {d.isoformat() for d in dates}
    for day in dates:
        assert f'<span class="date">{short_day(day)}</span>' in page
    assert (
        "<strong>36 appointments</strong> from Monday 16 November 2026 to Tuesday 19 January 2027"
        in page
    )
    assert "09:00\N{EN DASH}10:30" in page  # the longer first appointment
    assert page.count('<section class="month"') == 3
    for month in ("November 2026", "December 2026", "January 2027"):
        assert f"<h2>{month}</h2>" in page


@PROPERTY
@given(plans())
def test_any_plan_marks_exactly_its_session_days(plan: Plan) -> None:
    schedule = expand_or_skip(plan)
    page = schedule.to_html()
    assert cells(page, "appt") == {s.start.date().isoformat() for s in schedule}
    assert cells(page, "skip") == {d.date.isoformat() for d in schedule.skipped} - {
        s.start.date().isoformat() for s in schedule
    }
    for day in schedule.skipped:
        assert html.escape(day.reason) in page


def test_skipped_days_are_marked_and_explained() -> None:
    page = expand("standard-10hz").to_html()
    assert cells(page, "skip") == {"2026-11-26", "2026-12-25", "2027-01-18"}
    assert "<h2>Days skipped</h2>" in page
    assert '<span class="date">Thu 26 Nov 2026</span> Thanksgiving Day: clinic closed' in page
    assert '<span class="date">Fri 25 Dec 2026</span> Christmas Day: clinic closed' in page
    assert "see \u201cDays skipped\u201d below" in page


def test_a_day_of_many_sessions_reads_as_a_count_and_a_span() -> None:
    page = expand("snt").to_html()
    assert page.count("10 appointments</span><br>08:00\N{EN DASH}17:10") == 4
    assert "10 appointments</span><br>08:00\N{EN DASH}17:30" in page  # the longer first
    assert "09:20" not in page  # no session listed one by one
    assert (
        "<strong>50 appointments</strong> from Monday 30 November 2026 to Friday 4 December" in page
    )


def test_cancelled_sessions_are_struck_through() -> None:
    schedule = expand("standard-10hz")
    sessions = list(schedule.sessions)
    sessions[9] = sessions[9].evolve(status="cancelled")  # Mon 30 Nov
    sessions[4] = sessions[4].evolve(status="missed")
    page = attrs.evolve(schedule, sessions=tuple(sessions)).to_html()
    assert "<strong>35 appointments</strong>" in page
    assert "1 cancelled appointment is struck through." in page
    assert (
        '<td><time class="num" datetime="2026-11-30">30</time>'
        '<s>09:00\N{EN DASH}09:40</s><br><span class="note">cancelled</span></td>'
    ) in page
    assert "2026-11-30" not in cells(page, "appt")
    assert '09:00\N{EN DASH}09:40<br><span class="note">missed</span>' in page

    snt = expand("snt")
    many = list(snt.sessions)
    many[12] = many[12].evolve(status="cancelled")
    page = attrs.evolve(snt, sessions=tuple(many)).to_html()
    assert (
        '9 appointments</span><br>08:00\N{EN DASH}17:10<br><span class="note">1 cancelled' in page
    )


@pytest.mark.parametrize("protocol_id", protocol_ids())
def test_the_default_page_names_no_treatment(protocol_id: str) -> None:
    schedule = expand(protocol_id)
    page = schedule.to_html().lower()
    protocol = get_protocol(protocol_id)
    for word in (*TREATMENT_WORDS, protocol_id, protocol.name.lower(), *schedule.phases()):
        assert word.lower() not in page, word
    assert schedule.course_id.lower() not in page
    assert "<h1>your appointments</h1>" in page


def test_the_clinic_may_name_the_visits_itself() -> None:
    page = expand("standard-10hz").to_html(
        title="TMS session", description="Bring your card.\nArrive 10 minutes early.", **CONTACT
    )
    assert "<h1>Your appointments \N{EM DASH} Example Clinic</h1>" in page
    assert '<p class="title">TMS session</p>' in page
    assert '<p class="notes">Bring your card.\nArrive 10 minutes early.</p>' in page
    assert "<span>1 Main St, Denver, CO</span><span>Phone: +1 303 555 0100</span>" in page
    assert (
        '<a href="https://clinic.example/appointments">https://clinic.example/appointments</a>'
        in page
    )


def test_hostile_text_is_escaped() -> None:
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>&amp;'
    clinic = attrs.evolve(
        CLINIC, closures=(Closure(dt.date(2026, 11, 18), dt.date(2026, 11, 18), evil),)
    )
    schedule = Plan("standard-10hz", clinic, "2026-11-16", "09:00", "c-1").expand()
    options = CalendarOptions(
        clinic_name=evil,
        title="</title><style>*{display:none}</style>",
        location=evil,
        phone="<b>555</b>",
        description="</p></body>" + evil,
        url="https://clinic.example/?a=1&b=2",
    )
    page = schedule_to_html(schedule, options)
    assert {tag for tag, _ in tags(page)} <= ALLOWED_TAGS
    assert [tag for tag, _ in tags(page)].count("style") == 1
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img" in page
    assert "&amp;amp;" in page
    assert 'href="https://clinic.example/?a=1&amp;b=2"' in page
    for tag, attributes in tags(page):
        for name, _ in attributes:
            assert not name.startswith("on"), (tag, name)


def test_the_page_is_self_contained_with_print_css_for_a4_and_letter() -> None:
    page = expand("standard-10hz").to_html(**CONTACT)
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">')
    assert {tag for tag, _ in tags(page)} <= ALLOWED_TAGS  # no script, img, link, iframe
    assert "content=\"default-src 'none'; style-src 'unsafe-inline'\"" in page
    for fetching in ("src=", "url(", "@import", "@font-face", "<link"):
        assert fetching not in page
    assert "@page { margin: 12mm; }" in page
    assert not re.search(r"(?<![-\w])size\s*:", page)  # neither A4 nor Letter forced
    assert ".month { break-inside: avoid;" in page
    assert "max-width: 186mm" in page  # A4's width less the margins; Letter is wider


def test_the_same_schedule_gives_the_same_page() -> None:
    schedule = expand("cluster-maintenance")
    first = schedule.to_html(**CONTACT)
    again = expand("cluster-maintenance").to_html(options=CalendarOptions(**CONTACT))
    assert first == again == schedule_to_html(schedule, CalendarOptions(**CONTACT))
    # The options argument and the keyword choices combine as Schedule.to_ics's do.
    assert schedule.to_html(CalendarOptions(clinic_name="A"), phone="1") == schedule_to_html(
        schedule, CalendarOptions(clinic_name="A", phone="1")
    )


def test_an_empty_schedule_says_so() -> None:
    page = Schedule("c-1", "p", "UTC", ()).to_html()
    assert '<p class="summary">No appointments.</p>' in page
    assert "<table>" not in page


def test_one_grid_per_month_with_monday_first_weeks() -> None:
    page = expand("maintenance").to_html()
    titles = re.findall(r"<h2>(\w+ \d{4})</h2>", page)
    first, last = expand("maintenance").first.date, expand("maintenance").last.date
    assert titles[0] == month_title(first.year, first.month)
    assert titles[-1] == month_title(last.year, last.month)
    assert len(titles) == len(set(titles)) == page.count("<table>")
    assert page.count(
        '<th scope="col" title="Monday">Mon</th><th scope="col" title="Tuesday">Tue</th>'
    ) == len(titles)
    # 1 November 2026 is a Sunday: six empty cells before it.
    assert (
        "<tr>" + '<td class="out"></td>' * 6 + '<td class="weekend">'
        '<time class="num" datetime="2026-11-01">1</time></td></tr>'
    ) in page


def test_the_command_line_writes_the_handout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = ["plan", "standard-10hz", "--start", "2026-11-16", "--tz", "America/Denver"]
    plan += ["--holidays", "US-CO", "--clinic-name", "Example Clinic", "--phone", "555 0100"]
    target = tmp_path / "handout.html"
    assert main([*plan, "-o", str(target)]) == 0  # the format follows the suffix
    assert capsys.readouterr().out == (
        f"Wrote 36 sessions (Mon 16 Nov 2026 to Tue 19 Jan 2027) to {target}\n"
    )
    page = target.read_text(encoding="utf-8")
    assert page == expand("standard-10hz").to_html(clinic_name="Example Clinic", phone="555 0100")
    assert main([*plan, "--format", "html"]) == 0
    assert capsys.readouterr().out == page
    # A clinic file's [calendar] table fills the page's contact details too.
    clinic = tmp_path / "clinic.toml"
    clinic.write_text(
        'timezone = "America/Denver"\n[calendar]\nclinic_name = "File Clinic"\n'
        'location = "2 Side St"\n',
        encoding="utf-8",
    )
    other = tmp_path / "other.HTML"
    argv = ["plan", "itbs", "--start", "2026-11-16", "--clinic", str(clinic), "-o", str(other)]
    assert main(argv) == 0
    page = other.read_text(encoding="utf-8")
    assert "<h1>Your appointments \N{EM DASH} File Clinic</h1>" in page
    assert "<span>2 Side St</span>" in page


# -- a real browser ----------------------------------------------------------------------------

# (protocol, paper): pages, and the page each month's grid is printed on, whole.
PRINTED = {
    ("standard-10hz", "A4"): (2, {"November 2026": 1, "December 2026": 1, "January 2027": 2}),
    ("standard-10hz", "letter"): (2, {"November 2026": 1, "December 2026": 1, "January 2027": 2}),
    ("snt", "A4"): (1, {"November 2026": 1, "December 2026": 1}),
    ("snt", "letter"): (1, {"November 2026": 1, "December 2026": 1}),
}


@pytest.mark.parametrize(("protocol_id", "paper"), list(PRINTED))
def test_chromium_prints_the_handout(protocol_id: str, paper: str) -> None:
    schedule = expand(protocol_id)
    printed = print_to_pdf(schedule.to_html(**CONTACT), paper)
    pages, month_pages = PRINTED[protocol_id, paper]
    assert printed.console == ()  # nothing blocked, no script error
    assert printed.page_size.endswith(f"({paper})")
    assert printed.pages == pages
    lines = [{line.strip() for line in text.splitlines()} for text in printed.texts]
    for month, number in month_pages.items():
        # Each grid's title is on one page: the grid is where expected, not split or repeated
        # (page 1 also has room for the start of January on A4, were a grid allowed to split).
        assert [month in page for page in lines].count(True) == 1, month
        assert month in lines[number - 1], month
    for session in schedule:
        assert short_day(session.start.date()) in printed.text
    for day in schedule.skipped:
        assert f"{short_day(day.date)} {day.reason}" in printed.text
    assert "Your appointments \N{EM DASH} Example Clinic" in printed.text
    assert "tms" not in printed.text.lower()
