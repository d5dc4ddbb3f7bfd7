"""The front desk's application through its HTTP interface: who may do what, what is refused
with nothing written, what the pages say, and that patient details stay on the desk.

The browser tests (a whole front-desk day, two browsers, axe-core) are in
``test_desk_browser.py``; these run without a browser.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from desk_cases import HOST, MONDAY, PASSWORD, Clock, make_app, make_book, sign_in, token
from tms_schedule.course.codec import course_to_json
from tms_schedule.delivery.feed import FeedKey
from tms_schedule.delivery.fhir import course_to_fhir, fhir_to_json
from tms_schedule.delivery.server import FeedApp
from tms_schedule.delivery.sources import BookSource
from tms_schedule.desk.auth import RIGHTS
from tms_schedule.desk.port import DeskBook
from tms_schedule.pages._format import STAFF_ONLY

BASE = f"http://{HOST}"
LABEL = "Zelda Quux"
PHONE = "555 0199"


@pytest.fixture
def desk(tmp_path: Path) -> Any:
    book = DeskBook(make_book(tmp_path))
    clock = Clock()
    key = FeedKey(b"0123456789abcdef0123456789abcdef")
    app = make_app(book, clock, feed_token=key.token)
    yield app, book, clock
    book.close()


def client(app: Any, name: str | None = "ana") -> Any:
    c = app.test_client()
    if name is not None:
        response = sign_in(c, name)
        assert response.status_code == 303, response.get_data(as_text=True)
    return c


def get(c: Any, path: str, **options: Any) -> Any:
    return c.get(path, base_url=BASE, **options)


def post(c: Any, path: str, data: dict[str, str], *, csrf: bool = True) -> Any:
    if csrf:
        data = {**data, "csrf": token(get(c, "/").get_data(as_text=True))}
    return c.post(path, data=data, base_url=BASE)


def book_course(c: Any, course_id: str = "c-1", at: str = "09:00", **form: str) -> None:
    page = post(
        c,
        "/offers",
        {"protocol": "standard-10hz", "earliest": "2026-11-30", "at": at, "window": "60", **form},
    )
    assert page.status_code == 200, page.get_data(as_text=True)
    key = re.search(r"/offers/([A-Za-z0-9]+)/take", page.get_data(as_text=True))
    assert key, "no offer"
    taken = post(
        c, f"/offers/{key[1]}/take", {"course_id": course_id, "label": LABEL, "phone": PHONE}
    )
    assert taken.status_code == 303, taken.get_data(as_text=True)


def snapshot(book: DeskBook, *, offers: bool = True) -> tuple[Any, ...]:
    """Everything the book file holds, to show that nothing was written (without the
    offers kept for taking, when ``offers`` is false: a search writes them)."""
    with sqlite3.connect(book.location) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        tables = [t for t in tables if offers or t != "offers"]
        return tuple(
            (t, tuple(db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall())) for t in tables
        )


# -- signing in, and what every request goes through ---------------------------------------------


def _example(rule: Any) -> str:
    values = {"day": "2026-11-30", "course_id": "c-1", "number": 1, "key": "abcd1234"}
    values |= {"event": 1, "entry": 1, "name": "ana"}
    return str(rule.build({a: values[a] for a in rule.arguments})[1])


def test_every_route_refuses_an_anonymous_request(desk: Any) -> None:
    app, book, _ = desk
    book_course(client(app))
    before = snapshot(book)
    anonymous = app.test_client()
    walked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("sign_in", "static"):
            continue
        path = _example(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = anonymous.open(path, method=method, base_url=BASE, data={})
            walked += 1
            body = response.get_data(as_text=True)
            if method == "GET":
                assert response.status_code == 303, (path, response.status_code)
                assert response.headers["Location"].startswith("/sign-in?next=")
            else:  # no token: refused before anything else
                assert response.status_code in (400, 401), (path, response.status_code)
            assert LABEL not in body and "c-1" not in body.replace("/courses/c-1", "")
    assert walked >= 30
    # With a token of its own (the sign-in page gives one), a form reaches the check of who
    # is signed in, and is refused there: each POST route, with a polling page's ``since``.
    csrf = token(get(anonymous, "/sign-in").get_data(as_text=True))
    posted = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("sign_in", "static") or "POST" not in rule.methods:
            continue
        for query in ("", "?since=1"):
            response = anonymous.post(_example(rule) + query, data={"csrf": csrf}, base_url=BASE)
            posted += 1
            assert response.status_code == 401, (rule.rule, response.status_code)
            assert "Sign in first. Nothing was changed." in response.get_data(as_text=True)
    assert posted >= 2 * 18
    assert snapshot(book) == before


def test_the_sign_in_page_and_static_files_are_all_an_anonymous_request_gets(desk: Any) -> None:
    app, _, _ = desk
    anonymous = app.test_client()
    page = get(anonymous, "/sign-in")
    assert page.status_code == 200
    assert "Sign in to the front desk" in page.get_data(as_text=True)
    assert get(anonymous, "/static/htmx.min.js").status_code == 200
    # An anonymous POST with a token from the sign-in page is still refused elsewhere.
    csrf = token(page.get_data(as_text=True))
    response = anonymous.post("/waiting", data={"csrf": csrf, "label": "x"}, base_url=BASE)
    assert response.status_code == 401


def test_every_page_says_it_is_for_staff_and_the_patients_handout_does_not(desk: Any) -> None:
    """Each desk page shows patients' labels, phones and treatments: it says on it, on screen
    and in print, that it is for staff. The handout the desk prints for a patient does not
    (it is the patient's, and names no treatment)."""
    app, _, _ = desk
    c = client(app, "root")
    book_course(c)
    preview = post(c, "/closures/preview", {"first": "2026-12-02", "reason": "Snow"})
    assert STAFF_ONLY in preview.get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', preview.get_data(as_text=True))
    assert version
    closed = post(
        c, "/closures/close", {"first": "2026-12-02", "reason": "Snow", "version": version[1]}
    )
    assert closed.status_code == 303, closed.get_data(as_text=True)
    staff_pages = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        response = get(c, _example(rule))
        body = response.get_data(as_text=True)
        if response.status_code != 200 or "<html" not in body:
            continue  # a fragment, a download, a redirect or a picture
        if rule.endpoint == "handout":
            assert STAFF_ONLY not in body and "10hz" not in body.lower()
            continue
        assert STAFF_ONLY in body, rule.rule
        staff_pages += 1
    assert staff_pages >= 12
    assert STAFF_ONLY in get(app.test_client(), "/sign-in").get_data(as_text=True)


def test_desk_processes_on_one_book_accept_each_other_s_sign_ins(book_location: str) -> None:
    """The cookie key is the book's: a person signed in on one desk process is signed in
    on another over the same book (SQLite or PostgreSQL), and after a restart; a desk
    signing with a key of its own is not."""
    make_book(None, location=book_location)
    clock = Clock()
    first, second, alone = DeskBook(book_location), DeskBook(book_location), None
    try:
        one, two = make_app(first, clock), make_app(second, clock)
        signed = one.test_client()
        assert sign_in(signed, "ana").status_code == 303
        cookie = signed.get_cookie("tms_desk", domain=HOST.split(":")[0])
        assert cookie is not None
        other = two.test_client()
        other.set_cookie("tms_desk", cookie.value, domain=cookie.domain)
        page = get(other, "/")
        assert page.status_code == 200 and "ana (front-desk)" in page.get_data(as_text=True)
        first.close()
        first = DeskBook(book_location)  # the desk restarted
        again = make_app(first, clock).test_client()
        again.set_cookie("tms_desk", cookie.value, domain=cookie.domain)
        assert get(again, "/").status_code == 200
        alone = DeskBook(book_location)
        stranger = make_app(alone, clock, secret=b"another key, 32 bytes or longer!").test_client()
        stranger.set_cookie("tms_desk", cookie.value, domain=cookie.domain)
        assert get(stranger, "/").status_code == 303  # to the sign-in page
    finally:
        for book in (first, second, alone):
            if book is not None:
                book.close()


def test_a_foreign_host_header_is_refused_with_nothing_written(desk: Any) -> None:
    app, book, _ = desk
    c = client(app)
    before = snapshot(book)
    csrf = token(get(c, "/").get_data(as_text=True))
    for host in ("evil.example", "evil.example:5000", "localhost:5000", "127.0.0.1:5001"):
        response = c.post(
            "/waiting",
            data={"csrf": csrf, "label": "Ann", "protocol": "itbs", "earliest": "2026-12-01"},
            base_url=f"http://{host}",
        )
        assert response.status_code == 400
        assert "not one the desk was started for" in response.get_data(as_text=True)
        assert get(c, "/", headers={"Host": host}).status_code == 400
    assert snapshot(book) == before


def test_a_form_without_its_token_is_refused_with_nothing_written(desk: Any) -> None:
    app, book, _ = desk
    c = client(app)
    book_course(c)
    before = snapshot(book)
    day = get(c, "/day/2026-11-30").get_data(as_text=True)
    state = re.search(r'name="stamp" value="([^"]+)"', day)
    assert state
    for csrf in (None, "", "forged"):
        data = {"kind": "attended", "stamp": state[1], "back": "/day/2026-11-30"}
        if csrf is not None:
            data["csrf"] = csrf
        response = c.post("/courses/c-1/sessions/1/record", data=data, base_url=BASE)
        assert response.status_code == 400
        assert "Nothing was changed" in response.get_data(as_text=True)
    # Signing out is a form too: a link from elsewhere cannot sign anyone out.
    assert c.post("/sign-out", data={}, base_url=BASE).status_code == 400
    assert get(c, "/").status_code == 200
    assert snapshot(book) == before


@pytest.mark.parametrize(
    ("name", "path", "form"),
    [
        ("tom", "/offers", {"protocol": "itbs", "earliest": "2026-12-01", "at": "09:00"}),
        ("tom", "/closures/preview", {"first": "2026-12-01", "reason": "Snow"}),
        ("tom", "/courses/c-1/details", {"label": "Someone else"}),
        ("tom", "/waiting", {"label": "Ann", "protocol": "itbs", "earliest": "2026-12-01"}),
        ("cleo", "/closures/close", {"first": "2026-12-01", "reason": "Snow", "version": "0"}),
        ("ana", "/users", {"name": "eve", "role": "admin", "password": "a long password"}),
        ("ana", "/users/root/password", {"password": "a long password"}),
        ("cleo", "/users/root/remove", {}),
    ],
)
def test_a_role_without_the_right_is_refused_with_nothing_written(
    desk: Any, name: str, path: str, form: dict[str, str]
) -> None:
    app, book, _ = desk
    book_course(client(app))
    before = snapshot(book)
    response = post(client(app, name), path, form)
    assert response.status_code == 403, response.get_data(as_text=True)
    assert "may not do this. Nothing was changed." in response.get_data(as_text=True)
    assert snapshot(book) == before


def test_the_rights_of_each_role() -> None:
    assert RIGHTS["users"] == {"admin"}
    assert "technician" in RIGHTS["record"] and "technician" not in RIGHTS["book"]
    assert RIGHTS["close"] == {"front-desk", "admin"}


def test_a_technician_records_and_sees_no_booking_forms(desk: Any) -> None:
    app, _, clock = desk
    book_course(client(app))
    clock.now = dt.datetime(2026, 11, 30, 9, 5, tzinfo=MONDAY.tzinfo)
    tom = client(app, "tom")
    page = get(tom, "/").get_data(as_text=True)
    assert "New course" not in page and "Staff" not in page
    state = re.search(r'name="stamp" value="([^"]+)"', page)
    assert state
    response = post(
        tom,
        "/courses/c-1/sessions/1/record",
        {"kind": "attended", "stamp": state[1], "back": "/day/2026-11-30"},
    )
    assert response.status_code == 303
    history = get(tom, "/courses/c-1").get_data(as_text=True)
    assert "tom: session 1: attended" in history


def test_a_change_made_meanwhile_on_another_terminal_is_refused_with_what_changed(
    desk: Any,
) -> None:
    app, book, clock = desk
    book_course(client(app))
    clock.now = dt.datetime(2026, 11, 30, 9, 30, tzinfo=MONDAY.tzinfo)
    first, second = client(app, "ana"), client(app, "tom")
    shown = get(first, "/").get_data(as_text=True)
    state = re.search(r'name="stamp" value="([^"]+)"', shown)
    assert state
    recorded = post(
        second,
        "/courses/c-1/sessions/1/record",
        {"kind": "attended", "stamp": state[1], "back": "/"},
    )
    assert recorded.status_code == 303
    before = snapshot(book)
    late = post(
        first,
        "/courses/c-1/sessions/1/record",
        {"kind": "missed", "cause": "patient", "stamp": state[1], "back": "/day/2026-11-30"},
    )
    assert late.status_code == 409
    text = " ".join(late.get_data(as_text=True).split())
    assert "course c-1 session 1 changed meanwhile: record (session 1: attended) by tom" in text
    assert "Nothing was changed" in text
    assert snapshot(book) == before


def test_passwords_are_never_stored_or_logged_in_clear(
    desk: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app, book, _ = desk
    caplog.set_level(logging.DEBUG)
    root = client(app, "root")
    secret = "a brand new password 42"
    assert (
        post(root, "/users", {"name": "eve", "role": "technician", "password": secret}).status_code
        == 303
    )
    bad = app.test_client()
    sign_in(bad, "eve", "not the password at all")
    assert sign_in(app.test_client(), "eve", secret).status_code == 303
    raw = Path(book.location).read_bytes()
    wal = Path(f"{book.location}-wal")
    raw += wal.read_bytes() if wal.exists() else b""
    for text in (secret, PASSWORD, "not the password at all"):
        assert text.encode() not in raw
        assert text not in caplog.text
    assert book.user("eve").password_hash.startswith("$argon2id$")  # type: ignore[union-attr]
    assert "failed sign-in for 'eve'" in caplog.text


def test_failed_sign_ins_are_slowed_and_logged(desk: Any, caplog: pytest.LogCaptureFixture) -> None:
    app, _, _ = desk
    caplog.set_level(logging.WARNING)
    c = app.test_client()
    statuses = [sign_in(c, "ana", f"wrong password {n}").status_code for n in range(5)]
    assert statuses == [401, 401, 401, 401, 429]  # three failures free, then a wait
    slowed = sign_in(c, "ana")  # even the right password waits its turn
    assert slowed.status_code == 429
    assert int(slowed.headers["Retry-After"]) >= 1
    assert "Too many failed sign-ins" in slowed.get_data(as_text=True)
    assert caplog.text.count("failed sign-in for 'ana'") == 4
    assert "wrong password" not in caplog.text


def test_a_session_unused_for_longer_than_the_idle_time_is_signed_out(desk: Any) -> None:
    app, _, clock = desk
    c = client(app)
    clock.advance(minutes=14)
    assert get(c, "/").status_code == 200
    clock.advance(minutes=14)
    assert get(c, "/").status_code == 200  # each request counts as use
    # A page's own polling is not use.
    version = re.search(r'data-version="(\d+)"', get(c, "/").get_data(as_text=True))
    assert version
    for _ in range(3):
        clock.advance(minutes=4)
        assert get(c, f"/day/2026-11-30?since={version[1]}").status_code == 204
    clock.advance(minutes=4)  # 16 minutes since the last use
    assert get(c, f"/day/2026-11-30?since={version[1]}").status_code == 401
    response = get(c, "/")
    assert response.status_code == 303 and "/sign-in" in response.headers["Location"]


def test_a_removed_user_or_a_new_password_signs_the_session_out(desk: Any) -> None:
    app, book, _ = desk
    tom, root = client(app, "tom"), client(app, "root")
    assert get(tom, "/").status_code == 200
    assert post(root, "/users/tom/password", {"password": "another long one"}).status_code == 303
    assert get(tom, "/").status_code == 303
    tom = app.test_client()
    assert sign_in(tom, "tom", "another long one").status_code == 303
    assert post(root, "/users/tom/remove", {}).status_code == 303
    assert book.user("tom") is None
    assert get(tom, "/").status_code == 303


def test_every_answer_carries_a_strict_content_security_policy(desk: Any) -> None:
    app, _, _ = desk
    c = app.test_client()
    cookie = sign_in(c, "ana").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP on this computer; --https sets it
    book_course(c)
    for path in ("/", "/courses/c-1", "/day/2026-11-30/print", "/courses/c-1/handout", "/sign-in"):
        response = get(c, path)
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self';" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "<script>" not in response.get_data(as_text=True)


# -- the pages ---------------------------------------------------------------------------------------


def test_the_day_page_polls_cheaply_and_shows_a_change(desk: Any) -> None:
    app, _, clock = desk
    clock.now = dt.datetime(2026, 11, 30, 9, 30, tzinfo=MONDAY.tzinfo)
    c = client(app)
    book_course(c)
    page = get(c, "/day/2026-11-30")
    version = re.search(r'data-version="(\d+)"', page.get_data(as_text=True))
    assert version
    assert get(c, f"/day/2026-11-30?since={version[1]}").status_code == 204
    assert (
        get(c, "/day/2026-11-30", headers={"If-None-Match": page.headers["ETag"]}).status_code
        == 304
    )
    other = client(app, "tom")
    state = re.search(r'name="stamp" value="([^"]+)"', get(other, "/").get_data(as_text=True))
    assert state
    post(other, "/courses/c-1/sessions/1/record", {"kind": "attended", "stamp": state[1]})
    fragment = get(c, f"/day/2026-11-30?since={version[1]}")
    assert fragment.status_code == 200
    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith('<section id="chairs"')
    assert '<tr class="session attended">' in text


def test_the_day_shows_labels_places_and_what_is_due(desk: Any) -> None:
    app, _, _ = desk
    c = client(app)
    book_course(c)
    text = " ".join(get(c, "/").get_data(as_text=True).split())
    assert "Monday 30 November 2026" in text and LABEL in text
    assert '<td class="place">session 1 of 36</td>' in text
    assert 'Mapping and motor threshold; <span class="nw">PHQ-9</span> baseline</td>' in text
    assert "free, 55 min" in text
    printed = get(c, "/day/2026-11-30/print").get_data(as_text=True)
    assert "c-1" in printed


def test_the_day_is_the_printed_day_sheet_with_labels_and_buttons(desk: Any) -> None:
    """One template: the desk's day is the printed sheet's table, row for row, with the
    patient's label (a link to the course) for the course id and a cell of buttons."""
    app, _, clock = desk
    c = client(app)
    book_course(c, "c-1", at="09:00")
    book_course(c, "c-2", at="11:00")
    clock.now = dt.datetime(2026, 11, 30, 12, 0, tzinfo=MONDAY.tzinfo)
    c = client(app)
    page = get(c, "/")
    stamp = re.search(r'name="stamp" value="(\d+)"', page.get_data(as_text=True))
    assert stamp
    missed = {"kind": "missed", "cause": "patient", "stamp": stamp[1], "back": "/"}
    assert post(c, "/courses/c-1/sessions/1/record", missed).status_code == 303
    shown = get(c, "/day/2026-11-30").get_data(as_text=True)
    printed = get(c, "/day/2026-11-30/print").get_data(as_text=True)

    def rows(html: str) -> list[str]:
        return re.findall(r"<tr class=.*?</tr>", html.split("<tbody>", 1)[1], re.DOTALL)

    desk_rows = rows(shown)
    assert len(desk_rows) == len(rows(printed)) >= 6
    as_printed = []
    for row in desk_rows:
        row = re.sub(r'<td class="act">.*?</td></tr>$', "</tr>", row, flags=re.DOTALL)
        row = re.sub(r'<a href="/courses/(c-\d)">' + LABEL + "</a>", r"\1", row)
        as_printed.append(re.sub(r'colspan="(\d)"', lambda m: f'colspan="{int(m[1]) - 1}"', row))
    assert as_printed == rows(printed)
    assert '<th scope="col">Check-in</th>' in shown
    assert shown.count('<td class="act">') == 2  # the missed one, without a chair, too
    assert "Without a chair" in shown and "Void<span" in shown


@pytest.mark.parametrize(
    ("form", "says"),
    [
        ({"earliest": "2027-13-01"}, "Earliest start: must be a date written YYYY-MM-DD"),
        ({"earliest": "2027-11-30"}, "Earliest start: 2027-11-30 is more than six months ahead"),
        ({"earliest": "2025-11-30"}, "Earliest start: 2025-11-30 has passed"),
        ({"at": "25:00"}, "Preferred time: must be a time written HH:MM (24-hour)"),
        ({"window": "a lot"}, "Give or take (minutes): must be a whole number from 0 to 240"),
        ({"protocol": "nope"}, "Protocol: must be one of"),
        ({"acute": "500"}, "Acute sessions: must be a whole number from 1 to 60"),
        ({"follows": "c-99"}, "Follows course: no course 'c-99' in the book"),
    ],
)
def test_bad_input_on_a_form_is_a_message_naming_the_field(
    desk: Any, form: dict[str, str], says: str
) -> None:
    app, book, _ = desk
    c = client(app)
    before = snapshot(book)
    base = {"protocol": "standard-10hz", "earliest": "2026-11-30", "at": "09:00", "window": "60"}
    response = post(c, "/offers", {**base, **form})
    assert response.status_code == 422
    text = " ".join(response.get_data(as_text=True).split()).replace("&#39;", "'")
    assert says in text and "Nothing was changed" in text
    assert "Traceback" not in text
    assert snapshot(book) == before


def test_the_library_s_own_refusal_names_the_field_and_changes_nothing(desk: Any) -> None:
    app, book, _ = desk
    c = client(app)
    book_course(c)
    before = snapshot(book)
    # At 08:00 the 09:00 session has not started: the library refuses to record it.
    state = re.search(r'name="stamp" value="([^"]+)"', get(c, "/").get_data(as_text=True))
    assert state
    response = post(
        c, "/courses/c-1/sessions/1/record", {"kind": "attended", "stamp": state[1], "back": "/"}
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "session" in text and "Nothing was changed" in text
    assert snapshot(book) == before


def test_a_closure_previews_then_saves_and_its_call_list_downloads(desk: Any) -> None:
    app, book, _ = desk
    c = client(app)
    book_course(c)
    preview = post(c, "/closures/preview", {"first": "2026-12-02", "reason": "Snow day"})
    assert preview.status_code == 200
    text = preview.get_data(as_text=True)
    assert "Preview: Snow day: 2026-12-02, every chair" in text and LABEL in text and PHONE in text
    assert book.events() == ()  # nothing saved by a preview
    version = re.search(r'name="version" value="(\d+)"', text)
    assert version
    saved = post(
        c,
        "/closures/close",
        {"first": "2026-12-02", "last": "", "reason": "Snow day", "version": version[1]},
    )
    assert saved.status_code == 303 and saved.headers["Location"] == "/closures/1/calls"
    calls = get(c, "/closures/1/calls").get_data(as_text=True)
    assert LABEL in calls and PHONE in calls
    csv_text = get(c, "/closures/1/calls.csv").get_data(as_text=True)
    assert csv_text.splitlines()[0] == "label,phone,course_id,session,old,new,what"
    assert f"{LABEL},{PHONE},c-1,3," in csv_text
    twice = post(c, "/closures/preview", {"first": "2026-12-02", "reason": "Snow again"})
    assert twice.status_code == 422
    assert "this closure is entered already (event 1" in twice.get_data(as_text=True)
    assert post(c, "/closures/1/undo", {}).status_code == 303
    assert book.events()[0].undone


def test_a_closure_saved_from_a_stale_preview_is_shown_again(desk: Any) -> None:
    app, book, _ = desk
    c = client(app)
    book_course(c)
    stale = post(
        c, "/closures/close", {"first": "2026-12-02", "reason": "Snow day", "version": "1"}
    )
    assert stale.status_code == 409
    assert "The book changed since the preview" in stale.get_data(as_text=True)
    assert book.events() == ()


def test_patient_details_never_reach_calendar_files_feeds_fhir_or_exports(desk: Any) -> None:
    app, book, _ = desk
    c = client(app)
    book_course(c, "c-1")
    ics = get(c, "/courses/c-1/calendar.ics").get_data()
    course = book.course("c-1")
    uid_key = book.settings().calendar_options.uid_key
    exported = [
        ics,
        course.schedule.to_csv().encode(),
        course.schedule.to_json().encode(),
        course_to_json(course).encode(),
        fhir_to_json(course_to_fhir(course, patient="Patient/1", uid_key=uid_key)).encode(),
        get(c, "/courses/c-1/handout").get_data(),
    ]
    key = FeedKey(b"0123456789abcdef0123456789abcdef")
    source = BookSource(book.location)
    try:
        feed_app = FeedApp(source, key, clock=lambda: dt.datetime(2026, 11, 30, tzinfo=dt.UTC))
        chunks: list[bytes] = []
        body = feed_app(
            {"REQUEST_METHOD": "GET", "PATH_INFO": f"/feeds/{key.token('c-1', 1)}.ics"},
            lambda status, headers: chunks.append(status.encode()),
        )
        feed = b"".join(body)
        assert chunks == [b"200 OK"] and b"BEGIN:VCALENDAR" in feed
        exported.append(feed)
    finally:
        source.close()
    for data in exported:
        assert LABEL.encode() not in data and PHONE.encode() not in data
    # The desk's own pages do show them, and the feed's address and QR code.
    page = get(c, "/courses/c-1").get_data(as_text=True)
    assert LABEL in page and PHONE in page
    feed_link = re.search(r'href="(http://[^"]+/feeds/[^"]+\.ics)"', page)
    assert feed_link and key.token("c-1", 1) in feed_link[1]
    svg = get(c, "/courses/c-1/feed.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.get_data()


def test_search_finds_a_patient_by_label_or_course_id(desk: Any) -> None:
    app, _, _ = desk
    c = client(app)
    book_course(c, "c-1")
    book_course(c, "c-2", at="11:00")
    assert get(c, "/search?q=zelda").status_code == 200  # two courses with the label
    found = get(c, "/search?q=c-2")
    assert found.status_code == 303 and found.headers["Location"] == "/courses/c-2"
    nothing = get(c, "/search?q=nobody").get_data(as_text=True)
    assert "No patient or course matches" in nothing


def test_a_course_page_re_plans_after_a_preview_and_keeps_its_history(desk: Any) -> None:
    app, book, clock = desk
    c = client(app)
    book_course(c)
    clock.advance(hours=2)
    c = client(app)
    page = get(c, "/courses/c-1").get_data(as_text=True)
    state = re.search(r'name="stamp" value="([^"]+)"', page)
    assert state
    missed = post(
        c,
        "/courses/c-1/sessions/1/record",
        {"kind": "missed", "cause": "patient", "stamp": state[1], "back": "/courses/c-1"},
    )
    assert missed.status_code == 303 and missed.headers["Location"] == "/courses/c-1"
    preview = post(c, "/courses/c-1/replan", {"policy": "extend"})
    text = preview.get_data(as_text=True)
    assert "would make these changes" in text and "Session 37 added" in text
    assert len(book.course("c-1").revisions) == 1
    version = re.search(r'name="version" value="(\d+)"', text)
    assert version
    saved = post(
        c, "/courses/c-1/replan", {"policy": "extend", "confirm": "yes", "version": version[1]}
    )
    assert saved.status_code == 303
    assert len(book.course("c-1").revisions) == 2
    history = " ".join(get(c, "/courses/c-1").get_data(as_text=True).split())
    assert "ana: session 1: missed (patient)" in history
    assert "ana: re-planned (extend)" in history


def test_the_waiting_list_and_the_clinic_at_a_glance(desk: Any) -> None:
    app, _, _ = desk
    c = client(app)
    added = post(
        c,
        "/waiting",
        {
            "label": "Waiting Wendy",
            "phone": "555 0100",
            "protocol": "itbs",
            "earliest": "2026-12-01",
            "at": "10:00",
        },
    )
    assert added.status_code == 303
    page = " ".join(get(c, "/waiting").get_data(as_text=True).split())
    assert "Waiting Wendy" in page and "from Tue 1 Dec 2026 at 10:00, give or take 60" in page
    glance = get(c, "/glance").get_data(as_text=True)
    assert "1 patient(s) waiting" in glance and "open chair hours booked" in glance
    assert "Share of open chair time booked, by weekday and time of day" in glance
    room = get(c, "/glance?protocol=itbs&on=2026-12-01&from=09:00&to=10:00")
    assert room.status_code == 200 and '<pre class="room">' in room.get_data(as_text=True)
    typo = get(c, "/glance?protocol=itbs&on=2026-12-01&from=11:00&to=10:00")
    assert typo.status_code == 422 and "To: must be at or after 11:00" in typo.get_data(
        as_text=True
    )
    entry = re.search(r"/waiting/(\d+)/remove", page)
    assert entry
    assert post(c, f"/waiting/{entry[1]}/remove", {}).status_code == 303
    assert "Nobody is waiting" in get(c, "/waiting").get_data(as_text=True)


def test_a_waiting_patient_is_offered_a_place_when_one_frees_up_and_booked_from_the_list(
    desk: Any,
) -> None:
    app, book, _ = desk
    c = client(app)
    for number, chair in enumerate(("c1", "c2", "c3"), start=1):
        book_course(c, f"c-{number}", at="09:00", chair=chair, window="0")
    wanted = {"protocol": "standard-10hz", "earliest": "2026-12-07", "at": "09:00"}
    form = {"label": "Waiting Wendy", "phone": "555 0100", "window": "0", **wanted}
    assert post(c, "/waiting", form).status_code == 303
    page = " ".join(get(c, "/waiting").get_data(as_text=True).split())
    assert "no place within 0 minutes of that time yet" in page and "Book a place" not in page

    # Course c-2 ends from 7 December: its chair at 09:00 is free, and the desk says whose.
    ended = post(c, "/courses/c-2/end", {"reason": "Moved away", "from": "2026-12-07"})
    assert ended.status_code == 303
    told = " ".join(get(c, "/courses/c-2").get_data(as_text=True).split())
    assert "A place is free for: Waiting Wendy (Mon 7 Dec 2026 at 09:00)" in told
    page = " ".join(get(c, "/waiting").get_data(as_text=True).split())
    assert "Mon 7 Dec 2026 at 09:00</strong>, 36 sessions on Chair 2" in page
    entry = re.search(r"/waiting/(\d+)/offered", page)
    assert entry
    assert post(c, f"/waiting/{entry[1]}/offered", {}).status_code == 303
    assert '<span class="tag">offered</span>' in get(c, "/waiting").get_data(as_text=True)

    # "Book a place": the offers for that place, the patient's details filled in.
    search = dict(
        re.findall(
            r'name="(\w+)" value="([^"]*)"', page.split("Book a place")[0].rsplit("<form", 1)[1]
        )
    )
    assert search["waiting"] == entry[1] and search["label"] == "Waiting Wendy"
    offers = post(c, "/offers", {k: v for k, v in search.items() if k != "csrf"})
    text = offers.get_data(as_text=True)
    key = re.search(r"/offers/([A-Za-z0-9]+)/take", text)
    assert key and 'value="Waiting Wendy"' in text and 'name="waiting" value="' in text
    carried = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', text))
    taken = post(
        c,
        f"/offers/{key[1]}/take",
        {
            **{k: v for k, v in carried.items() if k != "csrf"},
            "course_id": "c-4",
            "label": "Waiting Wendy",
            "phone": "555 0100",
        },
    )
    assert taken.status_code == 303, taken.get_data(as_text=True)
    assert book.course("c-4").schedule.first.start.hour == 9
    assert "Nobody is waiting" in get(c, "/waiting").get_data(as_text=True)
    history = [e.detail for e in book.history("c-4")]
    assert any("booked" in (d or "") for d in history)
    # Off the list in the booking's own transaction, named in its one audit entry.
    assert book.waiting() == ()  # (those waiting or offered a place)
    (entry,) = book._store.waiting("booked")
    assert any(f"(waiting-list entry {entry.number})" in (d or "") for d in history)


def test_a_maintenance_course_follows_its_acute_course_and_never_overlaps_it(desk: Any) -> None:
    app, book, _ = desk
    c = client(app)
    book_course(c, "c-1", protocol="itbs")
    last = book.course("c-1").schedule.last.start.date()
    inside = {"protocol": "maintenance", "at": "09:00", "window": "60", "follows": "c-1"}
    refused = post(c, "/offers", {**inside, "earliest": "2026-12-07"})
    said = " ".join(refused.get_data(as_text=True).split())
    assert refused.status_code == 422 and "earliest: course c-1 runs until" in said
    after = {**inside, "earliest": (last + dt.timedelta(days=1)).isoformat()}
    page = post(c, "/offers", after).get_data(as_text=True)
    key = re.search(r"/offers/([A-Za-z0-9]+)/take", page)
    assert key and 'name="follows" value="c-1"' in page
    taken = post(c, f"/offers/{key[1]}/take", {**after, "course_id": "c-2", "label": LABEL})
    assert taken.status_code == 303, taken.get_data(as_text=True)
    assert book.course("c-2").follows == "c-1"
    assert book.course("c-2").schedule.first.start.date() > last
    assert "c-2" in get(c, "/courses/c-1").get_data(as_text=True)  # the courses that follow


def test_a_coil_asked_for_books_every_session_on_a_chair_that_has_it(desk: Any) -> None:
    app, book, _ = desk
    c = client(app)
    form = {"protocol": "itbs", "earliest": "2026-11-30", "at": "10:00", "window": "30"}
    page = get(c, "/new").get_data(as_text=True)
    assert '<option value="h7">h7 (Chair 3, Deep TMS room)</option>' in page
    wrong = post(c, "/offers", {**form, "coil": "h9"})
    assert wrong.status_code == 422
    assert "Coil: must be one of figure-8, h1, h7, got &#39;h9&#39;" in wrong.get_data(as_text=True)
    page = post(c, "/offers", {**form, "coil": "h7"}).get_data(as_text=True)
    key = re.search(r"/offers/([A-Za-z0-9]+)/take", page)
    assert key and 'name="coil" value="h7"' in page
    taken = post(
        c, f"/offers/{key[1]}/take", {**form, "coil": "h7", "course_id": "c-1", "label": LABEL}
    )
    assert taken.status_code == 303, taken.get_data(as_text=True)
    course = book.course("c-1")
    assert "h7" in course.plan.protocol.requires
    rows = book.sessions(dt.date(2026, 11, 30), dt.date(2027, 3, 1), course_id="c-1")
    assert rows and {r.chair for r in rows} == {"c3"}  # the one with figure-8 and h7
    apart = post(c, "/offers", {**form, "protocol": "deep-tms-h1", "coil": "figure-8"})
    assert apart.status_code == 422
    assert "Coil: no chair has figure-8 with what deep-tms-h1 needs (h1)" in apart.get_data(
        as_text=True
    )


def test_a_booking_for_someone_not_waiting_is_refused_with_nothing_written(desk: Any) -> None:
    app, book, _ = desk
    c = client(app)
    form = {"protocol": "itbs", "earliest": "2026-11-30", "at": "10:00", "window": "30"}
    page = post(c, "/offers", form).get_data(as_text=True)
    key = re.search(r"/offers/([A-Za-z0-9]+)/take", page)
    assert key
    before = snapshot(book)
    refused = post(
        c, f"/offers/{key[1]}/take", {**form, "course_id": "c-1", "label": "X", "waiting": "7"}
    )
    assert refused.status_code == 422
    assert "Waiting list entry: no patient 7 is waiting" in refused.get_data(as_text=True)
    assert snapshot(book) == before


def test_a_booking_whose_patient_details_cannot_be_kept_is_not_booked(desk: Any) -> None:
    app, book, _ = desk
    c = client(app)
    form = {"protocol": "itbs", "earliest": "2026-11-30", "at": "10:00", "window": "30"}
    page = post(c, "/offers", form).get_data(as_text=True)
    key = re.search(r"/offers/([A-Za-z0-9]+)/take", page)
    assert key
    taking = {**form, "course_id": "c-1", "label": LABEL, "phone": PHONE}
    # The patient's details fail to be written after the course's rows (a full disk, say).
    with sqlite3.connect(book.location) as db:
        db.execute(
            "CREATE TRIGGER no_room BEFORE INSERT ON patients"
            " BEGIN SELECT RAISE(ABORT, 'no room left'); END"
        )
    before = snapshot(book, offers=False)
    refused = post(c, f"/offers/{key[1]}/take", taking)
    assert refused.status_code == 422
    assert "no room left" in refused.get_data(as_text=True)
    assert snapshot(book, offers=False) == before  # no course without its patient
    with sqlite3.connect(book.location) as db:
        db.execute("DROP TRIGGER no_room")
    taken = post(c, f"/offers/{key[1]}/take", taking)
    assert taken.status_code == 303, taken.get_data(as_text=True)
    details = book.details(["c-1"])["c-1"]
    assert (details.label, details.phone) == (LABEL, PHONE)
    (entry,) = book.history("c-1")  # the booking and its patient: one change
    assert entry.action == "take" and LABEL not in (entry.detail or "")


def test_two_terminals_booking_the_last_free_slot_one_gets_it(desk: Any) -> None:
    app, book, _ = desk
    first, second = client(app, "ana"), client(app, "cleo")
    form = {"protocol": "standard-10hz", "earliest": "2026-11-30", "at": "09:00", "window": "0"}
    form["chair"] = "c1"
    pages = [post(c, "/offers", form).get_data(as_text=True) for c in (first, second)]
    keys = [re.search(r"/offers/([A-Za-z0-9]+)/take", p)[1] for p in pages]  # type: ignore[index]
    assert keys[0] == keys[1]  # the same offer, shown on both terminals
    won = post(first, f"/offers/{keys[0]}/take", {**form, "course_id": "c-1", "label": "First"})
    assert won.status_code == 303
    before = snapshot(book, offers=False)
    lost = post(second, f"/offers/{keys[1]}/take", {**form, "course_id": "c-2", "label": "2nd"})
    assert lost.status_code == 409
    said = " ".join(lost.get_data(as_text=True).split())
    assert "Not booked: that time was taken meanwhile." in said
    assert "the book changed since it was made" in said
    # What the book offers now, for the second terminal to pick from.
    assert "The offers below are what the book has now." in said
    assert re.search(r"/offers/([A-Za-z0-9]+)/take", said)[1] != keys[0]  # type: ignore[index]
    assert snapshot(book, offers=False) == before
    assert [d.course_id for d in book.find("c-")] == ["c-1"]


def test_htmx_is_vendored_pinned_with_its_licence_and_served_by_the_desk(desk: Any) -> None:
    import hashlib

    static = Path(__file__).parent.parent / "src" / "tms_schedule" / "desk" / "static"
    script = (static / "htmx.min.js").read_bytes()
    pinned = (static / "README").read_text(encoding="utf-8")
    assert "htmx 2.0.11" in pinned and hashlib.sha256(script).hexdigest() in pinned
    assert (static / "htmx.LICENSE").read_text(encoding="utf-8").startswith("Zero-Clause BSD")
    app, _, _ = desk
    page = get(client(app), "/").get_data(as_text=True)
    assert '<script src="/static/htmx.min.js" defer></script>' in page
    assert "//" not in page.split("<script", 1)[1].split(">", 1)[0]  # no other site


def test_a_course_ends_early_in_one_action_and_frees_its_chairs(desk: Any) -> None:
    app, book, _ = desk
    c = client(app)
    book_course(c)
    refused = post(c, "/courses/c-1/end", {"reason": "Moved away", "from": "2026-11-01"})
    assert refused.status_code == 422 and "From: 2026-11-01 has passed" in refused.get_data(
        as_text=True
    )
    ended = post(c, "/courses/c-1/end", {"reason": "Moved away", "from": "2026-12-07"})
    assert ended.status_code == 303
    course = book.course("c-1")
    assert course.ended is not None and course.ended.reason == "Moved away"
    statuses = {s.status for s in course.schedule.sessions if s.date >= dt.date(2026, 12, 7)}
    assert statuses == {"cancelled"}
    assert {s.status for s in course.schedule.sessions if s.date < dt.date(2026, 12, 7)} == {
        "scheduled"
    }
    assert not any(r.course_id == "c-1" for r in book.sessions(dt.date(2026, 12, 7)) if r.chair)
    page = " ".join(get(c, "/courses/c-1").get_data(as_text=True).split())
    assert "Ended</strong> from Mon 07 Dec 2026 00:00: Moved away" in page
    assert "ana: course ended early" in page
    again = post(c, "/courses/c-1/end", {"reason": "Twice"})
    assert again.status_code == 422 and "ended already" in again.get_data(as_text=True)


def test_every_later_session_moves_to_a_new_time_through_offered_times(desk: Any) -> None:
    app, book, _ = desk
    c = client(app)
    book_course(c)
    before = book.course("c-1")
    sixth = next(s for s in before.schedule.sessions if s.number == 6)
    assert sixth.start.isoformat() == "2026-12-07T09:00:00-07:00"
    offered = post(c, "/courses/c-1/sessions/6/later", {"time": "17:00", "stamp": "0"})
    text = " ".join(offered.get_data(as_text=True).split())
    assert offered.status_code == 200 and "At 17:00 on Chair 1" in text
    assert "A new time from Mon 7 Dec 2026 on" in text and "31 sessions, as asked" in text
    keys = re.findall(r'name="key" value="([A-Za-z0-9]+)"', text)
    assert keys  # an empty clinic: one offer, as asked
    # The same offers as the command line's `book move` (one path): the book's own.
    window = book.window(courses=["c-1"], since=dt.date(2026, 11, 30))
    assert keys == [
        o.key
        for o in window.move_offers("c-1", "2026-12-07", "17:00", now=MONDAY, window=60, count=3)
    ]
    stamps = {
        r.number: r.stamp for r in book.sessions(dt.date(2026, 12, 7)) if r.course_id == "c-1"
    }
    stale = post(c, "/courses/c-1/sessions/6/later", {"key": keys[0], "stamp": "0"})
    assert stale.status_code == 409 and "changed meanwhile" in stale.get_data(as_text=True)
    assert book.course("c-1") == before
    moved = post(c, "/courses/c-1/sessions/6/later", {"key": keys[0], "stamp": str(stamps[6])})
    assert moved.status_code == 303, moved.get_data(as_text=True)
    after = book.course("c-1").schedule.sessions
    assert {s.start.strftime("%H:%M") for s in after if s.number < 6} == {"09:00"}
    assert {s.start.strftime("%H:%M") for s in after if s.number >= 6} == {"17:00"}
    assert {r.note for r in book.course("c-1").records} == {"regular time from 2026-12-07: 17:00"}
    history = " ".join(get(c, "/courses/c-1").get_data(as_text=True).split())
    assert "ana: regular time from Mon 7 Dec 2026: 17:00" in history
    # Taken once: the same offer again is refused, nothing moves twice.
    again = post(c, "/courses/c-1/sessions/6/later", {"key": keys[0], "stamp": str(stamps[6])})
    assert again.status_code == 409
    # A new course's offer is not a new time for this one.
    offers = post(
        c, "/offers", {"protocol": "itbs", "earliest": "2026-12-01", "at": "12:00", "window": "60"}
    )
    new = re.search(r"/offers/([A-Za-z0-9]+)/take", offers.get_data(as_text=True))
    assert new
    other = post(c, "/courses/c-1/sessions/7/later", {"key": new[1], "stamp": "0"})
    assert other.status_code == 422
    assert f"Offer: offer {new[1]} is not a new time for c-1" in other.get_data(as_text=True)
    nothing = post(c, "/courses/c-1/sessions/6/later", {"time": "23:00"})
    assert nothing.status_code == 422
    assert "New time: no chair is free at 23:00, nor within an hour of it" in nothing.get_data(
        as_text=True
    )


def test_the_invitation_e_mail_for_the_next_session(desk: Any) -> None:
    app, _, _ = desk
    c = client(app)
    book_course(c)
    assert get(c, "/courses/c-1/invitation.eml").status_code == 404  # no e-mail yet
    saved = post(
        c, "/courses/c-1/details", {"label": LABEL, "phone": PHONE, "email": "zq@example.org"}
    )
    assert saved.status_code == 303
    assert "Invitation e-mail for the next session" in get(c, "/courses/c-1").get_data(as_text=True)
    message = get(c, "/courses/c-1/invitation.eml")
    assert message.mimetype == "message/rfc822"
    raw = message.get_data(as_text=True)
    assert "To: zq@example.org" in raw and "From: " in raw and "desk@clinic.example" in raw
    assert 'method="REQUEST"' in raw and LABEL not in raw and PHONE not in raw


def test_a_refused_booking_shows_the_same_offers_again_with_what_was_typed(desk: Any) -> None:
    app, _, _ = desk
    c = client(app)
    form = {"protocol": "itbs", "earliest": "2026-11-30", "at": "10:00", "window": "30"}
    page = post(c, "/offers", form).get_data(as_text=True)
    key = re.search(r"/offers/([A-Za-z0-9]+)/take", page)
    assert key
    refused = post(
        c,
        f"/offers/{key[1]}/take",
        {**form, "course_id": "c-1", "label": "Tab\there", "phone": "555 0100"},
    )
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Patient label: must be one line of text without control characters (no tab" in text
    assert f"/offers/{key[1]}/take" in text  # the offers, shown again
    assert 'name="course_id" value="c-1"' in text and 'value="555 0100"' in text


def test_a_closure_inside_an_snt_block_asks_the_clinician_then_saves_their_choice(
    desk: Any,
) -> None:
    """A snow day on the third day of an SNT block: the preview saves nothing and asks how
    the block goes on; with the clinician's choice it previews, and the closure is saved
    with it (the choice kept as a warning in the course's history)."""
    app, book, _ = desk
    c = client(app)
    book_course(c, "s-1", protocol="snt", at="08:00")
    days = sorted({s.date for s in book.course("s-1").schedule.active_sessions()})
    assert days[0] == dt.date(2026, 11, 30) and len(days) == 5
    asked = post(c, "/closures/preview", {"first": "2026-12-02", "reason": "Snow day"})
    assert asked.status_code == 422
    text = asked.get_data(as_text=True)
    assert "would break" in text and "Nothing was changed" in text
    assert 'name="block" value="continue"' in text and 'name="block" value="restart"' in text
    typo = post(
        c, "/closures/preview", {"first": "2026-12-02", "reason": "Snow day", "block": "later"}
    )
    assert typo.status_code == 422
    assert "Accelerated block: must be one of continue, restart" in typo.get_data(as_text=True)
    chosen = {"first": "2026-12-02", "reason": "Snow day", "block": "restart"}
    preview = post(c, "/closures/preview", chosen)
    assert preview.status_code == 200, preview.get_data(as_text=True)
    text = preview.get_data(as_text=True)
    assert '<input type="hidden" name="block" value="restart">' in text
    assert book.events() == ()
    version = re.search(r'name="version" value="(\d+)"', text)
    assert version
    saved = post(c, "/closures/close", {**chosen, "last": "", "version": version[1]})
    assert saved.status_code == 303
    course = book.course("s-1")
    days = sorted({s.date for s in course.schedule.active_sessions()})
    assert days == [dt.date(2026, 12, 7) + dt.timedelta(days=n) for n in range(5)]
    assert any("restarted on consecutive days" in w for w in course.revision.warnings)
