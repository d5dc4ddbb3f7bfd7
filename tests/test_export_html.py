"""The printable handout: content, neutrality, escaping, and a real browser showing it.

The browser tests print with Debian's Chromium on A4 and on US Letter and read the PDF back
with poppler, and lay the page out in windows from a phone's 320 pixels to a desktop's,
looking for text wider than its box and words broken inside (see tests/browser.py). The
page counts below were checked by eye on screenshots of the pages.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from html.parser import HTMLParser
from pathlib import Path

import attrs
import markupsafe
import pytest
from hypothesis import HealthCheck, given, settings

from browser import check_layout, print_to_pdf
from cases import CLINIC, expand_or_skip, golden_start, recorded
from strategies import plans
from tms_schedule import (
    Accelerated,
    Closure,
    Plan,
    Protocol,
    Schedule,
    get_protocol,
    protocol_ids,
)
from tms_schedule._dates import month_title, months, short_day
from tms_schedule.cli import main
from tms_schedule.errors import InvalidCalendarOptionError
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


ISSUED = dt.date(2026, 11, 23)
DASH = "\N{EN DASH}"
# Ten days of five sessions a day, weekdays only: busy days that fill a month's grid.
DENSE = Protocol(
    id="dense",
    name="Dense",
    phases=(Accelerated(per_day=5, days=10, interval=30, consecutive=False),),
    session=10,
    first_session=30,
)


def expand(protocol_id: str, course_id: str | None = None) -> Schedule:
    start, at = golden_start(protocol_id)
    # The command line's default course id names the protocol: the page must not print it.
    course_id = course_id or f"{protocol_id}-{start.isoformat()}"
    return Plan(protocol_id, CLINIC, start, at, course_id).expand()


def dense() -> Schedule:
    return Plan(DENSE, CLINIC, "2026-11-02", "08:00", "c-1").expand()


def standard_recorded() -> Schedule:
    """The standard course with session 1 attended, 2 missed and 10 (Mon 30 Nov) cancelled."""
    return recorded(expand("standard-10hz"), attended=[0], missed=[1], cancelled=[9])


def listed(page: str) -> dict[str, str]:
    """The "Every appointment" list: each day's line, tags stripped."""
    section = page.split("<h2>Every appointment</h2>")[1].split("</ul>")[0]
    items = re.findall(r'<li><span class="date">([^<]+)</span> <span>(.*?)</span></li>', section)
    return {day: html.unescape(re.sub(r"<[^>]+>", "", line)) for day, line in items}


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
    days = {s.start.date() for s in schedule}
    # Grids when the appointment days fill them: eight or more for each month shown.
    assert ("<table>" in page) == (len(days) >= 8 * len(months(days)))
    if "<table>" in page:
        assert cells(page, "appt") == {day.isoformat() for day in days}
        assert cells(page, "skip") == {d.date.isoformat() for d in schedule.skipped} - {
            day.isoformat() for day in days
        }
    assert set(listed(page)) == {short_day(day) for day in days}
    # Each session by the number a record takes, once: "no. 12", "nos. 1-10", "nos. 3 and 37".
    numbers = []
    for line in listed(page).values():
        for found in re.findall(r"\(nos?\. ([^)]*)\)", line):
            for part in re.split(r", | and ", found):
                first, _, last = part.partition("\u2013")
                numbers += range(int(first), int(last or first) + 1)
    assert sorted(numbers) == sorted(s.number for s in schedule)
    for day in schedule.skipped:
        assert markupsafe.escape(day.reason) in page


def test_skipped_days_are_marked_and_explained() -> None:
    page = expand("standard-10hz").to_html()
    assert cells(page, "skip") == {"2026-11-26", "2026-12-25", "2027-01-18"}
    assert "<h2>Days skipped</h2>" in page
    assert (
        '<span class="date">Thu 26 Nov 2026</span> <span>Thanksgiving Day: clinic closed</span>'
        in page
    )
    assert '<span class="date">Fri 25 Dec 2026</span> <span>Christmas Day: clinic closed' in page
    assert "see \u201cDays skipped\u201d below" in page


def test_an_accelerated_course_lists_every_time_of_its_days() -> None:
    page = expand("snt").to_html()
    assert "<table>" not in page  # five days over two months: a list, on one page
    days = listed(page)
    assert list(days) == [
        "Mon 30 Nov 2026", "Tue 1 Dec 2026", "Wed 2 Dec 2026", "Thu 3 Dec 2026", "Fri 4 Dec 2026"
    ]  # fmt: skip
    for k, day in enumerate(days):  # the first day too: mapping is done at a visit before the block
        assert days[day] == (
            f"10 appointments (nos. {10 * k + 1}{DASH}{10 * k + 10}) at 08:00, 09:00, 10:00,"
            " 11:00, 12:00, 13:00, 14:00, 15:00, 16:00 and 17:00 (until 17:10)"
        )
    assert '<ul class="days busy">' in page  # one day a row, the times beside the date
    assert (
        "<strong>50 appointments</strong> from Monday 30 November 2026 to Friday 4 December" in page
    )


def test_a_busy_day_in_a_grid_reads_as_a_count_and_a_span() -> None:
    schedule = recorded(dense(), missed=[6], cancelled=[7])  # Tue 3 Nov, of five
    assert len(schedule) == 50 and len({s.date for s in schedule}) == 10
    page = schedule.to_html()
    assert page.count("<table>") == 1  # ten days in November fill its grid
    assert (
        '<span class="wide"><span class="many">5 appointments</span><br>'
        f'<span class="t">08:00{DASH}11:10</span></span>'
        '<span class="narrow">5\N{MULTIPLICATION SIGN}<br><span class="t">08:00</span></span>'
    ) in page
    assert (
        f'<span class="many">3 appointments</span><br><span class="t">08:00{DASH}10:50</span>'
        '<br><span class="note">1 missed</span><br><span class="note">1 cancelled</span></span>'
        '<span class="narrow">3\N{MULTIPLICATION SIGN}<br><span class="t">08:00</span></span>'
    ) in page
    assert cells(page, "appt") == {s.date.isoformat() for s in schedule}
    # The list gives every time, and marks the missed and the cancelled one.
    assert listed(page)["Tue 3 Nov 2026"] == (
        f"5 appointments (nos. 6{DASH}10) at 08:00, 08:40 (missed), 09:20 (cancelled), 10:00"
        " and 10:40 (until 10:50)"
    )
    assert '<s><span class="t">09:20</span></s>' in page
    assert '<li class="narrow">5\N{MULTIPLICATION SIGN}: 5 appointments that day</li>' in page


def test_missed_days_have_their_own_mark_and_the_counts_are_given() -> None:
    page = standard_recorded().to_html()
    assert (
        "<strong>36 appointments</strong> from Monday 16 November 2026 to Tuesday 19 January"
        " 2027: 1 attended, 33 to come; 1 missed and 1 cancelled (2 not made up yet)." in page
    )
    assert cells(page, "missed") == {"2026-11-17"}
    assert cells(page, "cancelled") == {"2026-11-30"}
    assert "2026-11-17" not in cells(page, "appt") and "2026-11-30" not in cells(page, "appt")
    assert (
        '<td class="missed"><time class="num" datetime="2026-11-17">17</time>'
        f'<span class="wide"><span class="t">09:00{DASH}09:40</span><br>'
        '<span class="note">missed</span></span>'
    ) in page
    assert (
        '<td class="cancelled"><time class="num" datetime="2026-11-30">30</time>'
        f'<span class="wide"><s><span class="t">09:00{DASH}09:40</span></s><br>'
        '<span class="note">cancelled</span></span>'
        '<span class="narrow"><s><span class="t">09:00</span></s></span></td>'
    ) in page
    legend = page.split('<ul class="legend">')[1].split("</ul>")[0]
    assert '<span class="key missed"></span> missed' in legend
    assert "<s>09:00</s> cancelled" in legend
    assert "Days skipped" in legend  # the days passed over keep theirs
    assert listed(page)["Tue 17 Nov 2026"] == f"09:00{DASH}09:40 missed (no. 2)"
    assert listed(page)["Mon 30 Nov 2026"] == f"09:00{DASH}09:40 cancelled (no. 10)"
    # Distinct marks in the style: hatched for missed, dashed for skipped, plain for cancelled.
    assert ".missed {" in page and "repeating-linear-gradient" in page
    assert ".skip { border: 0.4mm dashed #000; }" in page


def test_the_counts_match_the_text_view_and_appear_only_once_recorded() -> None:
    schedule = standard_recorded()
    progress = schedule.progress()
    text_counts = schedule.to_text().splitlines()[1]
    assert text_counts.startswith(f"{progress.target} sessions: {progress.delivered} delivered")
    page = schedule.to_html()
    assert f"<strong>{progress.target} appointments</strong>" in page
    assert (
        f"{progress.delivered} attended, {progress.to_come} to come; {progress.missed} missed"
        in page
    )
    assert f"({progress.owed} not made up yet)." in page

    # Once made up (two sessions added after the last), "all made up", still 36.
    last = schedule.last
    extra = tuple(
        last.evolve(number=37 + k, start=last.start + dt.timedelta(days=k + 1), end=last.end)
        for k in range(2)
    )
    made_up = attrs.evolve(schedule, sessions=(*schedule.sessions, *extra))
    page = made_up.to_html()
    assert "<strong>36 appointments</strong>" in page
    assert "1 attended, 35 to come; 1 missed and 1 cancelled (all made up)." in page

    plain = expand("standard-10hz").to_html()
    assert "<strong>36 appointments</strong> from Monday 16 November 2026 to Tuesday 19" in plain
    assert "attended" not in plain and "to come" not in plain


def test_a_sparse_course_prints_as_a_list() -> None:
    for protocol_id in ("maintenance", "cluster-maintenance"):
        schedule = expand(protocol_id)
        page = schedule.to_html()
        assert "<table>" not in page and '<ul class="legend">' not in page, protocol_id
        assert list(listed(page)) == list(dict.fromkeys(short_day(s.date) for s in schedule))
    maintenance = expand("maintenance")
    page = maintenance.to_html()
    # The list comes first; the days passed over follow it.
    assert page.index("Every appointment") < page.index("Days skipped")
    days = listed(page)
    assert days["Mon 16 Nov 2026"] == f"09:00{DASH}10:00 (no. 1)"
    # After Martin Luther King Jr. Day:
    (after,) = [s.number for s in maintenance if s.date == dt.date(2027, 1, 19)]
    assert days["Tue 19 Jan 2027"] == f"09:00{DASH}09:40 (no. {after})"
    cluster = listed(expand("cluster-maintenance").to_html())
    assert cluster["Mon 16 Nov 2026"] == (
        f"09:00{DASH}10:00, 10:50{DASH}11:30, 12:20{DASH}13:00 (nos. 1{DASH}3)"
    )


def test_issued_date_and_revision_are_printed_when_given() -> None:
    schedule = expand("standard-10hz")
    page = schedule.to_html(issued=ISSUED, revision=2, **CONTACT)
    assert '<p class="issued">Issued 23 Nov 2026 \N{MIDDLE DOT} revision 2</p>' in page
    assert page == schedule_to_html(schedule, CalendarOptions(**CONTACT), issued=ISSUED, revision=2)
    assert '<p class="issued">Issued 23 Nov 2026</p>' in schedule.to_html(issued=ISSUED)
    assert '<p class="issued">Revision 0</p>' in schedule.to_html(revision=0)
    plain = schedule.to_html()
    assert "Issued" not in plain and "evision" not in plain
    # Every printed page's foot: the heading with the clinic's name, and the page number.
    foot = re.search(r"@page \{\n  @bottom-left.*?\n\}\n", page, re.DOTALL)
    assert foot
    assert '"Page " counter(page) " of " counter(pages)' in foot[0]
    assert '"Page " counter(page) " of " counter(pages)' in plain
    for bad in ({"issued": "2026-11-23"}, {"revision": -1}, {"revision": True}):
        with pytest.raises(InvalidCalendarOptionError, match=f"{next(iter(bad))}: must be"):
            schedule.to_html(**bad)  # type: ignore[arg-type]


def test_what_to_do_when_the_patient_cannot_come() -> None:
    schedule = expand("itbs")
    page = schedule.to_html()
    assert '<p class="cannot">If you cannot come, please call the clinic.</p>' in page
    page = schedule.to_html(phone="+1 303 555 0100")
    assert (
        '<p class="cannot">If you cannot come, please call the clinic on'
        ' <span class="t">+1 303 555 0100</span>.</p>'
    ) in page
    own = "Cannot come? Text 555 0100 or call at least a day ahead & we rebook you."
    page = schedule.to_html(cannot_come=own, phone="+1 303 555 0100")
    assert f'<p class="cannot">{markupsafe.escape(own)}</p>' in page
    assert "please call the clinic" not in page
    with pytest.raises(InvalidCalendarOptionError, match="cannot_come: must be a non-empty"):
        CalendarOptions(cannot_come="x" * 501)
    with pytest.raises(InvalidCalendarOptionError, match="cannot_come: must not contain"):
        CalendarOptions(cannot_come="call\x07")
    assert CalendarOptions(cannot_come="  Call us\r\nany time ").cannot_come == "Call us\nany time"


@pytest.mark.parametrize("protocol_id", protocol_ids())
def test_the_default_page_names_no_treatment(protocol_id: str) -> None:
    # With something recorded, so that the counts are on the page too.
    schedule = recorded(expand(protocol_id), attended=[0], missed=[1], cancelled=[2])
    page = schedule.to_html(issued=ISSUED, revision=1).lower()
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
        cannot_come="</p>" + evil,
    )
    page = schedule_to_html(schedule, options, issued=ISSUED, revision=3)
    # The clinic's name is printed at the foot of each page from the style element: escaped
    # there so that it ends neither the string, the rule nor the element.
    style = page.split("<style>")[1].split("</style>")[0]
    assert "<" not in style
    foot = re.search(r'@bottom-left \{ content: ("[^"]*");', style)
    assert foot and re.fullmatch(r'"[A-Za-z0-9\\]*"', foot[1])
    assert r"\00003cscript\00003e" in foot[1]
    assert {tag for tag, _ in tags(page)} <= ALLOWED_TAGS
    assert [tag for tag, _ in tags(page)].count("style") == 1
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img" in page
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
    schedule = expand("deep-tms-h1")  # 44 days over five months
    page = schedule.to_html()
    titles = re.findall(r"<h2>(\w+ \d{4})</h2>", page)
    first, last = schedule.first.date, schedule.last.date
    assert len(titles) == 5
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
    plan += ["--stamp", "2026-11-21T03:00:00Z"]  # the evening of the 20th in Denver
    target = tmp_path / "handout.html"
    assert main([*plan, "-o", str(target)]) == 0  # the format follows the suffix
    assert capsys.readouterr().out == (
        f"Wrote 36 sessions (Mon 16 Nov 2026 to Tue 19 Jan 2027) to {target}\n"
    )
    page = target.read_text(encoding="utf-8")
    assert page == expand("standard-10hz").to_html(
        issued=dt.date(2026, 11, 20), clinic_name="Example Clinic", phone="555 0100"
    )
    assert "Issued 20 Nov 2026" in page
    assert main([*plan, "--format", "html"]) == 0
    assert capsys.readouterr().out == page
    # A clinic file's [calendar] table fills the page's contact details too.
    clinic = tmp_path / "clinic.toml"
    clinic.write_text(
        'timezone = "America/Denver"\n[calendar]\nclinic_name = "File Clinic"\n'
        'location = "2 Side St"\ncannot_come = "Call the desk a day ahead."\n',
        encoding="utf-8",
    )
    other = tmp_path / "other.HTML"
    argv = ["plan", "itbs", "--start", "2026-11-16", "--clinic", str(clinic), "-o", str(other)]
    assert main(argv) == 0
    page = other.read_text(encoding="utf-8")
    assert "<h1>Your appointments \N{EM DASH} File Clinic</h1>" in page
    assert "<span>2 Side St</span>" in page
    assert '<p class="cannot">Call the desk a day ahead.</p>' in page
    # A line that is too long is refused with the file's name and the key.
    clinic.write_text(
        f'timezone = "UTC"\n[calendar]\ncannot_come = "{"x" * 501}"\n', encoding="utf-8"
    )
    assert main(argv) == 2
    assert "cannot_come: must be a non-empty text of at most 500" in capsys.readouterr().err


# -- a real browser ----------------------------------------------------------------------------

COURSES = {
    "standard-10hz": standard_recorded,  # attended, missed and cancelled sessions
    "snt": lambda: expand("snt"),
    "maintenance": lambda: expand("maintenance"),
    "deep-tms-h1": lambda: expand("deep-tms-h1"),
    "dense": dense,
}
# (course, paper): pages, and the page each month's grid is printed on, whole.
PRINTED = {
    ("standard-10hz", "A4"): (2, {"November 2026": 1, "December 2026": 1, "January 2027": 2}),
    ("standard-10hz", "letter"): (2, {"November 2026": 1, "December 2026": 1, "January 2027": 2}),
    ("snt", "A4"): (1, {}),  # a list
    ("snt", "letter"): (1, {}),
    ("maintenance", "A4"): (1, {}),  # a list
    ("maintenance", "letter"): (1, {}),
    ("deep-tms-h1", "A4"): (
        3,
        {
            "November 2026": 1,
            "December 2026": 1,
            "January 2027": 2,
            "February 2027": 2,
            "March 2027": 2,
        },
    ),
}
FOOT = "Issued 23 Nov 2026 \N{MIDDLE DOT} revision 2"


@pytest.mark.parametrize(("course", "paper"), list(PRINTED))
def test_chromium_prints_the_handout(course: str, paper: str) -> None:
    schedule = COURSES[course]()
    printed = print_to_pdf(schedule.to_html(issued=ISSUED, revision=2, **CONTACT), paper)
    pages, month_pages = PRINTED[course, paper]
    assert printed.console == ()  # nothing blocked, no script error
    assert printed.page_size.endswith(f"({paper})")
    assert printed.pages == pages
    lines = [{line.strip() for line in text.splitlines()} for text in printed.texts]
    for month, number in month_pages.items():
        # Each grid's title is on one page: the grid is where expected, not split or repeated
        # (page 1 also has room for the start of January on A4, were a grid allowed to split).
        assert [month in page for page in lines].count(True) == 1, month
        assert month in lines[number - 1], month
    if not month_pages:  # a list: no grid at all
        assert not any(re.fullmatch(r"[A-Z][a-z]+ \d{4}", line) for page in lines for line in page)
    for session in schedule:
        assert short_day(session.start.date()) in printed.text
    for day in schedule.skipped:
        assert f"{short_day(day.date)} {day.reason}" in printed.text
    assert "Your appointments \N{EM DASH} Example Clinic" in printed.text
    assert "If you cannot come, please call the clinic on +1 303 555 0100." in printed.text
    assert "tms" not in printed.text.lower()
    # Every page carries the clinic's name, the issue date and revision, and its number.
    for number, text in enumerate(printed.texts, start=1):
        flat = " ".join(text.split())
        assert flat.count("Your appointments \N{EM DASH} Example Clinic") == (
            2 if number == 1 else 1
        )
        assert f"{FOOT} \N{MIDDLE DOT} Page {number} of {pages}" in flat, number


def test_chromium_prints_every_time_of_an_accelerated_day() -> None:
    printed = print_to_pdf(expand("snt").to_html(**CONTACT), "A4")
    assert printed.pages == 1
    text = printed.text
    # pdftotext reads the dates' column before the times' column.
    days = (
        "Mon 30 Nov 2026",
        "Tue 1 Dec 2026",
        "Wed 2 Dec 2026",
        "Thu 3 Dec 2026",
        "Fri 4 Dec 2026",
    )
    assert " ".join(days) in text
    times = "08:00, 09:00, 10:00, 11:00, 12:00, 13:00, 14:00, 15:00, 16:00 and 17:00 (until 17:10)"
    flat = " ".join(text.split())
    for k in range(5):
        assert f"10 appointments (nos. {10 * k + 1}{DASH}{10 * k + 10}) at {times}" in flat
    # Without an issue date the foot has the page number alone.
    assert "Page 1 of 1" in text and "Issued" not in text


# Phones (320 and 390 pixels), a small tablet, either side of the switch to the full
# layout at 720 pixels, and a desktop window.
WIDTHS = (320, 390, 600, 719, 720, 1024)


SCREENS = [
    (course, width)
    for course in COURSES
    # Every width for the courses with grids; phones for the others.
    for width in (WIDTHS if course in ("standard-10hz", "dense") else WIDTHS[:2])
]


@pytest.mark.parametrize(("course", "width"), SCREENS)
def test_the_handout_reads_on_any_screen(course: str, width: int) -> None:
    """No box is narrower than its text and no word is broken inside, at any width."""
    page = COURSES[course]().to_html(issued=ISSUED, revision=2, **CONTACT)
    report = check_layout(page, width)
    assert report.width == width
    assert report.words > 100  # the check saw the page
    assert report.problems == ()


def test_the_layout_check_finds_what_a_phone_would_show() -> None:
    """The check above can fail: cells too narrow for their times, a word wider than the
    screen."""
    page = expand("standard-10hz").to_html(**CONTACT)
    squeezed = page.replace(
        "</style>",
        ".narrow { display: none !important; }\n.wide { display: inline !important; }\n</style>",
        1,
    )
    problems = check_layout(squeezed, 390).problems
    assert any("a word broken across lines" in p or "content" in p for p in problems)
    long_word = expand("itbs").to_html(description="x" * 120)
    assert any("word broken" in p for p in check_layout(long_word, 390).problems)
