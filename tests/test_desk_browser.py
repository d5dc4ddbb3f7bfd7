"""The front desk as staff use it, in Chromium: a whole day at a phone's width and at a
desktop's, check-in by keyboard alone, axe-core on every page, and two terminals at once.

Screenshots are written for a person to look at (``TMS_SCHEDULE_SCREENSHOTS=1`` writes
the documentation's own, in ``docs/desk/``).
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desk_browser import Running, axe_violations, launch, serve, shot, sign_in
from desk_cases import MONDAY, ZONE, Clock
from independent_parsers import icaljs_read

pytest.importorskip("waitress", reason="the desk's tests serve it with waitress")

#: Ten courses of four protocols: (label, protocol, time asked for).
COURSES = (
    ("Alma Reyes", "standard-10hz", "09:00"),
    ("Bruno Keller", "itbs", "09:00"),
    ("Chiara Fontana", "standard-10hz", "09:00"),
    ("Dev Patel", "deep-tms-h1", "09:00"),
    ("Elin Berg", "itbs", "11:00"),
    ("Farid Haddad", "1hz-right", "11:00"),
    ("Greta Novak", "standard-10hz", "11:00"),
    ("Hugo Laurent", "itbs", "13:00"),
    ("Ines Duarte", "deep-tms-h1", "13:00"),
    ("Jonas Weber", "1hz-right", "13:00"),
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Running]:
    yield from serve(tmp_path, Clock(MONDAY))


@pytest.fixture
def quick(tmp_path: Path) -> Iterator[Running]:
    """A desk whose pages look for changes every second."""
    yield from serve(tmp_path, Clock(MONDAY), poll=1)


def book(page: Any, base: str, number: int, label: str, protocol: str, at: str) -> None:
    """Book a course through the offers, as the front desk does: the first offer."""
    page.goto(f"{base}/new")
    page.get_by_label("Protocol", exact=True).select_option(protocol)
    page.get_by_label("Earliest start").fill("2026-11-30")
    page.get_by_label("Preferred time").fill(at)
    page.get_by_role("button", name="Find offers").click()
    offer = page.locator(".offer").first
    offer.get_by_label("Course id").fill(f"c-{number}")
    offer.get_by_label("Patient label").fill(label)
    offer.get_by_label("Phone").fill(f"555 01{number:02d}")
    offer.get_by_role("button", name="Book offer 1").click()
    page.wait_for_url(f"{base}/courses/c-{number}")
    assert page.get_by_role("heading", level=1).inner_text() == label
    # Each starts today, as asked (the day's check-in below counts on it).
    assert page.get_by_text("from Mon 30 Nov 2026 at").count() == 1


def check_in(page: Any, label: str, *, at: str | None = None) -> None:
    name = re.compile(rf"^Attended — {re.escape(label)} at {at or ''}")
    page.get_by_role("button", name=name).click()
    page.get_by_text(re.compile(r"session \d+ of c-\d+: attended", re.IGNORECASE)).wait_for()


def miss(page: Any, label: str, cause: str) -> None:
    page.locator("summary", has_text=f"Missed — {label}").click()
    details = page.locator("details[open]")
    details.get_by_label("Why").select_option(cause)
    details.get_by_role("button", name="Record missed").click()
    page.get_by_text(re.compile(rf"missed \({cause}\)\.")).wait_for()


@pytest.mark.parametrize("width", [390, 1280])
def test_a_whole_front_desk_day(browser: Any, desk: Running, width: int) -> None:
    base = desk.base
    page = desk.page(browser, width)
    wide = width > 500
    name = "desktop" if wide else "phone"
    for number, (label, protocol, at) in enumerate(COURSES, start=1):
        book(page, base, number, label, protocol, at)
        if number == 1:
            shot(page, f"course-{name}", desk.folder)
    page.goto(f"{base}/")
    for label, _, _ in COURSES:
        assert page.get_by_text(label, exact=True).count() == 1
    assert page.locator("td.due", has_text="Mapping and motor threshold").count() == 10

    # The end of the day: check everyone in, two misses, then a record found wrong.
    desk.clock.now = dt.datetime(2026, 11, 30, 17, 0, tzinfo=ZONE)
    page.goto(f"{base}/")
    shot(page, f"today-{name}", desk.folder)
    for label, _, _ in COURSES:
        if label in ("Bruno Keller", "Farid Haddad"):
            continue
        check_in(page, label)
    miss(page, "Bruno Keller", "patient")
    miss(page, "Farid Haddad", "clinic")
    page.locator("summary", has_text="Void the record — Alma Reyes").click()
    opened = page.locator("details[open]")
    opened.get_by_label("Why it is wrong").fill("Entered for the wrong patient")
    opened.get_by_role("button", name="Void record").click()
    page.get_by_text("the record is voided").wait_for()
    assert page.locator(".session.attended").count() == 7
    assert page.locator(".session.missed").count() == 2
    shot(page, f"checked-in-{name}", desk.folder)

    # Alma's new work hours: from next Monday on, every session at 15:00, where a chair is
    # free for all of them.
    page.goto(f"{base}/courses/c-1")
    row = page.locator("tr", has_text="Mon 07 Dec 2026 09:00")
    row.locator("summary", has_text="Move").click()
    row.get_by_label("Or this and every later session to").fill("15:00")
    row.get_by_role("button", name="Find times").click()
    page.get_by_role("button", name=re.compile(r"^At 15:00 on Chair")).click()
    page.get_by_text("Every session of c-1 from Mon 7 Dec 2026 on is now at 15:00").wait_for()
    assert page.locator("tr", has_text="Mon 07 Dec 2026 15:00").count() == 1
    assert page.locator("tr", has_text="Fri 04 Dec 2026 09:00").count() == 1
    assert page.locator("tr", has_text="Tue 08 Dec 2026 15:00").count() == 1

    # Jonas stops: his course ends early, in one action.
    page.goto(f"{base}/courses/c-10")
    page.locator("summary", has_text="The patient stops").click()
    page.get_by_label("Why the course ends").fill("Moved to another city")
    page.get_by_role("button", name="End the course").click()
    page.get_by_text("Course c-10 ended").wait_for()
    assert page.locator("tr.scheduled").count() == 0

    # Bruno's miss is made up at the end of his course, after a preview.
    page.goto(f"{base}/courses/c-2")
    page.get_by_role("button", name="Preview the re-plan").click()
    page.get_by_text("would make these changes").wait_for()
    page.get_by_role("button", name="Save the re-plan").click()
    page.get_by_text("Re-planned.").wait_for()

    # Snow on Wednesday: preview, close, and the call list.
    page.goto(f"{base}/closures")
    page.get_by_label("First day").fill("2026-12-02")
    page.get_by_label("Reason").fill("Snow day")
    page.get_by_role("button", name="Preview the closure").click()
    page.get_by_text("Preview: Snow day: 2026-12-02, every chair").wait_for()
    assert page.locator(".calls tbody tr").count() == 9  # not Jonas, whose course ended
    shot(page, f"closure-preview-{name}", desk.folder)
    page.get_by_role("button", name="Close and re-plan").click()
    page.wait_for_url(f"{base}/closures/1/calls")
    assert page.locator(".calls tbody tr").count() == 9  # not Jonas, whose course ended
    # Only what the snow day changed: not Alma's new hours, nor Bruno's miss.
    assert page.get_by_text("new regular time").count() == 0
    assert page.get_by_text("missed").count() == 0
    assert page.get_by_text("555 0103").count() >= 1
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    rows = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert rows[0] == "label,phone,course_id,session,old,new,what"
    assert any(r.startswith("Chiara Fontana,555 0103,c-3,") for r in rows)
    page.emulate_media(media="print")
    shot(page, f"call-list-print-{name}", desk.folder)
    assert not page.locator("header.top").is_visible()
    page.emulate_media(media="screen")
    # The same day closed twice is said, not entered twice.
    page.goto(f"{base}/closures")
    page.get_by_label("First day").fill("2026-12-02")
    page.get_by_label("Reason").fill("Snow again")
    page.get_by_role("button", name="Preview the closure").click()
    page.get_by_text("this closure is entered already (event 1").wait_for()

    # The patient's feed, as their phone reads it, holds the moved session.
    page.goto(f"{base}/courses/c-1")
    feed = page.get_by_role("link", name="The patient's calendar feed").get_attribute("href")
    assert feed and feed.startswith(f"{base}/feeds/")
    assert page.locator("img[alt^='QR code']").evaluate("i => i.naturalWidth") > 0
    with urllib.request.urlopen(feed, timeout=10) as response:
        ics = response.read()
    parsed = icaljs_read(ics)
    starts = {e["start_utc"] for e in parsed["events"]}
    assert "2026-12-07T22:00:00Z" in starts  # 15:00 in Denver
    assert b"Alma" not in ics and b"555 01" not in ics
    assert desk.problems == [], desk.problems


def test_check_in_by_keyboard_alone(browser: Any, desk: Running) -> None:
    page = desk.page(browser, 1280)
    for number, (label, protocol, at) in enumerate(COURSES[:2], start=1):
        book(page, desk.base, number, label, protocol, at)
    desk.clock.now = dt.datetime(2026, 11, 30, 9, 30, tzinfo=ZONE)
    page.goto(f"{desk.base}/")

    def tab_to(text: str) -> None:
        for _ in range(80):
            page.keyboard.press("Tab")
            focused = page.evaluate("document.activeElement.textContent.trim()")
            if focused.startswith(text):
                return
        raise AssertionError(f"Tab never reached {text!r}; last: {focused!r}")

    tab_to("Attended — Alma Reyes")
    page.keyboard.press("Enter")
    page.get_by_text("Session 1 of c-1: attended.").wait_for()
    tab_to("Missed — Bruno Keller")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")  # the first cause: patient
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.get_by_text("Session 1 of c-2: missed (patient).").wait_for()
    assert page.locator(".session.attended").count() == 1
    assert page.locator(".session.missed").count() == 1
    assert desk.problems == [], desk.problems


def test_axe_finds_nothing_serious_on_any_page(browser: Any, desk: Running) -> None:
    page = desk.page(browser, 1280)
    book(page, desk.base, 1, *COURSES[0])
    book(page, desk.base, 2, *COURSES[1])
    page.goto(f"{desk.base}/waiting")
    page.get_by_label("Patient label").fill("Waiting Wendy")
    page.get_by_label("Time wanted").fill("15:00")
    page.get_by_role("button", name="Add to the waiting list").click()
    page.get_by_text("Waiting Wendy is on the waiting list.").wait_for()
    pages = [
        "/",
        "/day/2026-12-01",
        "/day/2026-11-30/print",
        "/courses/c-1",
        "/courses/c-1/handout",
        "/new",
        "/closures",
        "/glance",
        "/glance?protocol=itbs&on=2026-12-01&from=09:00&to=12:00",
        "/waiting",
        "/search?q=nobody",
        "/search?q=c-",
        "/users",
    ]
    checked = desk.page(browser, 1280, user=None, bypass_csp=True)  # axe is injected
    sign_in(checked, desk.base, "root")
    found = {}
    for path in pages:
        checked.goto(f"{desk.base}{path}")
        found[path] = axe_violations(checked)
    checked.goto(f"{desk.base}/new")
    checked.get_by_role("button", name="Find offers").click()
    checked.locator(".offer").first.wait_for()
    found["offers"] = axe_violations(checked)
    checked.get_by_label("Earliest start").fill("2020-01-01")
    checked.get_by_role("button", name="Find offers").click()
    checked.get_by_role("alert").wait_for()
    found["a form refused"] = axe_violations(checked)
    desk.clock.now = dt.datetime(2026, 11, 30, 10, 0, tzinfo=ZONE)
    checked.goto(f"{desk.base}/")
    miss(checked, "Alma Reyes", "patient")
    found["a day with a miss"] = axe_violations(checked)
    checked.goto(f"{desk.base}/courses/c-1")
    checked.get_by_role("button", name="Preview the re-plan").click()
    checked.get_by_role("button", name="Save the re-plan").wait_for()
    found["re-plan preview"] = axe_violations(checked)
    row = checked.locator("tr", has_text="Mon 07 Dec 2026 09:00")
    row.locator("summary", has_text="Move").click()
    row.get_by_label("Or this and every later session to").fill("15:00")
    row.get_by_role("button", name="Find times").click()
    checked.get_by_role("button", name=re.compile(r"^At 15:00 on Chair")).first.wait_for()
    found["new regular time offers"] = axe_violations(checked)
    checked.goto(f"{desk.base}/closures")
    checked.get_by_label("First day").fill("2026-12-02")
    checked.get_by_label("Reason").fill("Snow day")
    checked.get_by_role("button", name="Preview the closure").click()
    checked.get_by_text("Preview:").wait_for()
    found["closure preview"] = axe_violations(checked)
    checked.get_by_role("button", name="Close and re-plan").click()
    checked.wait_for_url(f"{desk.base}/closures/1/calls")
    found["call list"] = axe_violations(checked)
    anonymous = desk.page(browser, 390, user=None, bypass_csp=True)
    anonymous.goto(f"{desk.base}/sign-in")
    found["sign-in"] = axe_violations(anonymous)
    problems = {
        path: [(v["id"], v["impact"], v["help"]) for v in found[path]]
        for path in found
        if found[path]
    }
    assert problems == {}


def test_two_terminals_see_each_other_and_race_for_the_last_slot(
    browser: Any, quick: Running
) -> None:
    base = quick.base
    ana = quick.page(browser, 1280, "ana")
    book(ana, base, 1, *COURSES[0])
    quick.clock.now = dt.datetime(2026, 11, 30, 9, 30, tzinfo=ZONE)
    tom = quick.page(browser, 390, "tom")
    ana.goto(f"{base}/")
    tom.goto(f"{base}/")
    check_in(tom, "Alma Reyes")
    # Ana's page looks for changes every second: the check-in shows within a few.
    ana.locator(".session.attended").wait_for(timeout=4000)
    assert "attended" in ana.locator(".session", has_text="Alma Reyes").inner_text()

    # Both offer the same last free time on Chair 1; one books it, the other is told.
    cleo = quick.page(browser, 1280, "cleo")
    offered = []
    for page in (ana, cleo):
        page.goto(f"{base}/new")
        page.get_by_label("Protocol", exact=True).select_option("itbs")
        page.get_by_label("Earliest start").fill("2026-12-01")
        page.get_by_label("Preferred time").fill("13:00")
        page.get_by_label("Give or take (minutes)").fill("0")
        page.get_by_label("Chair", exact=True).select_option("c1")
        page.get_by_role("button", name="Find offers").click()
        offered.append(page.locator(".offer h3").first.inner_text())
    assert offered[0] == offered[1]
    for page, number in ((ana, 2), (cleo, 3)):
        offer = page.locator(".offer").first
        offer.get_by_label("Course id").fill(f"c-{number}")
        offer.get_by_label("Patient label").fill(f"Racer {number}")
        offer.get_by_role("button", name="Book offer 1").click()
    ana.wait_for_url(f"{base}/courses/c-2")
    cleo.get_by_role("alert").wait_for()
    assert "the book changed since it was made" in cleo.get_by_role("alert").inner_text()
    assert [d.course_id for d in quick.book.find("c-")] == ["c-2", "c-1"]
    assert quick.problems == [], quick.problems
