"""The desk's pages: the day, a course, a new course through offers, closures and their
call lists, the clinic at a glance, the waiting list, search, and the staff.

Every page is server-rendered and every action is a plain form that ``POST``s and then
shows the page again (htmx only makes it smoother: the day view checks for changes every
few seconds and replaces itself when there are some). An action on a session carries the
session's state as the page showed it; if another terminal changed that session meanwhile,
the action is refused with what changed, and nothing is written. A value the library
refuses comes back as a message naming the field, with nothing changed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable
from typing import Any

import attrs
from flask import Flask, Response, abort, flash, g, redirect, request, url_for
from werkzeug.wrappers import Response as Reply

from tms_schedule._dates import short_day, short_moment
from tms_schedule.book.book import Book, EventReport
from tms_schedule.book.sheet import DaySheet, SheetSession
from tms_schedule.course import CAUSES, POLICIES
from tms_schedule.course.lifecycle import Course
from tms_schedule.delivery.server import PREFIX
from tms_schedule.desk.auth import hash_password, password_problem
from tms_schedule.desk.forms import (
    FieldError,
    choice_field,
    date_field,
    int_field,
    text_field,
    time_field,
)
from tms_schedule.desk.port import ROLES, PatientDetails
from tms_schedule.desk.web import desk, render, require
from tms_schedule.errors import StoreError, TmsScheduleError
from tms_schedule.export.uid import key_id

__all__ = ["register"]

_COURSE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}")
_PHONE = re.compile(r"\+?[0-9 ()./-]{3,30}")


def register(app: Flask) -> None:
    """Add the pages to the desk's application."""
    rules: list[tuple[str, str, Callable[..., Any], list[str]]] = [
        ("/", "today", today, ["GET"]),
        ("/day/<day>", "day", day_page, ["GET"]),
        ("/day/<day>/print", "day_print", day_print, ["GET"]),
        ("/search", "search", search, ["GET"]),
        ("/courses/<course_id>", "course", course_page, ["GET"]),
        ("/courses/<course_id>/sessions/<int:number>/record", "record", record, ["POST"]),
        ("/courses/<course_id>/sessions/<int:number>/void", "void", void, ["POST"]),
        ("/courses/<course_id>/sessions/<int:number>/move", "move", move, ["POST"]),
        ("/courses/<course_id>/details", "details", details, ["POST"]),
        ("/courses/<course_id>/replan", "replan", replan, ["POST"]),
        ("/courses/<course_id>/calendar.ics", "calendar", calendar, ["GET"]),
        ("/courses/<course_id>/handout", "handout", handout, ["GET"]),
        ("/courses/<course_id>/feed.svg", "feed_qr", feed_qr, ["GET"]),
        ("/new", "new_course", new_course, ["GET"]),
        ("/offers", "offers", offers, ["POST"]),
        ("/offers/<key>/take", "take", take, ["POST"]),
        ("/closures", "closures", closures, ["GET"]),
        ("/closures/preview", "close_preview", close_preview, ["POST"]),
        ("/closures/close", "close", close, ["POST"]),
        ("/closures/<int:event>/calls", "calls", calls, ["GET"]),
        ("/closures/<int:event>/calls.csv", "calls_csv", calls_csv, ["GET"]),
        ("/closures/<int:event>/undo", "undo", undo, ["POST"]),
        ("/glance", "glance", glance, ["GET"]),
        ("/waiting", "waiting", waiting, ["GET", "POST"]),
        ("/waiting/<int:entry>/remove", "waiting_remove", waiting_remove, ["POST"]),
        ("/users", "users", users, ["GET", "POST"]),
        ("/users/<name>/remove", "user_remove", user_remove, ["POST"]),
        ("/users/<name>/password", "user_password", user_password, ["POST"]),
    ]
    for rule, endpoint, view, methods in rules:
        app.add_url_rule(rule, endpoint, view, methods=methods)


# -- shared -------------------------------------------------------------------------------------


def _now() -> dt.datetime:
    now: dt.datetime = g.now
    return now


def _book() -> Book:
    return desk().book.book()


def _local_today(book: Book) -> dt.date:
    return _now().astimezone(book.clinic.zone).date()


def _who() -> str:
    return str(g.user.name)


def _page(template: str, status: int = 200, **context: Any) -> Reply:
    return Response(render(template, **context), status, mimetype="text/html")


def _problem(error: Exception) -> str:
    """A refusal in words for the page (never a traceback)."""
    text = " ".join(str(error).split())
    return (
        f"{text}. Nothing was changed."
        if not text.endswith(".")
        else f"{text} Nothing was changed."
    )


def _parse_day(text: str) -> dt.date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        abort(404)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        abort(404)


def _course_or_404(book: Book, course_id: str) -> Course:
    if course_id not in set(book.course_ids()):
        abort(
            Response(
                render(
                    "message.html",
                    title="No such course",
                    message=f"There is no course {course_id!r} in the book.",
                ),
                404,
                mimetype="text/html",
            )
        )
    return book.course(course_id)


def session_state(course: Course, seats: dict[int, str], number: int) -> str:
    """The state of one session as a page shows it; a form carries it back, and an action
    on a session whose state differs now is refused (another terminal changed it)."""
    found = next((s for s in course.schedule.sessions if s.number == number), None)
    if found is None:
        return "none"
    records = sum(1 for r in course.records if r.session == number)
    return f"{found.status}/{found.start:%Y%m%dT%H%M}/{seats.get(number, '-')}/{records}"


def _describe_state(
    course: Course, seats: dict[int, str], number: int, names: dict[str, str]
) -> str:
    found = next((s for s in course.schedule.sessions if s.number == number), None)
    if found is None:
        return "it is no longer in the course"
    chair = names.get(seats.get(number, ""), "no chair")
    return f"it is now {found.status}, {short_moment(found.start)} on {chair}"


def _back() -> str:
    target = request.form.get("back", "")
    if re.fullmatch(r"/(day/\d{4}-\d{2}-\d{2}|courses/[A-Za-z0-9._-]{1,64})", target):
        return target
    return url_for("today")


def _again(message: str, status: int) -> Reply:
    """The page the form was on, with ``message`` and nothing changed."""
    target = _back()
    if target.startswith("/day/"):
        return _day_response(_parse_day(target[5:]), error=message, status=status)
    if target.startswith("/courses/"):
        return _course_response(target[9:], error=message, status=status)
    return _day_response(_local_today(_book()), error=message, status=status)


# -- the day ------------------------------------------------------------------------------------


@attrs.frozen
class DayRow:
    """One entry of a chair's day as the page shows it."""

    kind: str  # session, free, out, held
    start: dt.datetime
    end: dt.datetime
    session: SheetSession | None = None
    label: str = ""
    state: str = ""
    reason: str = ""
    minutes: int = 0


def day_view(book: Book, day: dt.date) -> dict[str, Any]:
    """What the day page shows: each chair's entries in time order, with labels."""
    sheet: DaySheet = book.day_sheet(day)
    ids = {s.course_id for s in sheet.sessions()}
    labels = desk().book.details(ids)
    states: dict[tuple[str, int], str] = {}
    for course_id in ids:
        course = book.course(course_id)
        seats = book.seats(course_id)
        for s in sheet.sessions():
            if s.course_id == course_id:
                states[(course_id, s.number)] = session_state(course, seats, s.number)

    def label(course_id: str) -> str:
        found = labels.get(course_id)
        return found.label if found else course_id

    chairs = []
    for entry in sheet.chairs:
        rows = []
        for stretch in entry.timeline():
            if stretch.kind == "session":
                assert stretch.session is not None
                s = stretch.session
                rows.append(
                    DayRow(
                        "session",
                        s.start,
                        s.end,
                        s,
                        label(s.course_id),
                        states[(s.course_id, s.number)],
                    )
                )
            elif stretch.kind == "free" and stretch.minutes >= 5:
                rows.append(DayRow("free", stretch.start, stretch.end, minutes=stretch.minutes))
            elif stretch.kind == "out":
                rows.append(DayRow("out", stretch.start, stretch.end, reason=stretch.reason or ""))
        chairs.append({"chair": entry.chair, "rows": rows, "service": entry.service})
    unseated = [
        DayRow("session", s.start, s.end, s, label(s.course_id), states[(s.course_id, s.number)])
        for s in sheet.unseated
    ]
    protocols = dict(sheet.protocols)
    return {
        "sheet": sheet,
        "chairs": chairs,
        "unseated": unseated,
        "protocols": protocols,
        "closed": sheet.closed_text(),
    }


def today() -> Reply:
    return _day_response(_local_today(_book()))


def day_page(day: str) -> Reply:
    return _day_response(_parse_day(day))


def _day_response(day: dt.date, *, error: str | None = None, status: int = 200) -> Reply:
    context = desk()
    version = context.book.version()
    since = request.args.get("since")
    if request.method == "GET" and since is not None and since == str(version) and not error:
        return Response(status=204)  # a page's own check: nothing changed
    etag = f'"{version}-{day.isoformat()}-{g.user.name}"'
    if request.method == "GET" and not error and request.headers.get("If-None-Match") == etag:
        return Response(status=304, headers={"ETag": etag})
    book = context.book.book()
    view = day_view(book, day)
    template = "day_fragment.html" if since is not None else "day.html"
    response = _page(
        template,
        status,
        day=day,
        today=_local_today(book),
        previous=day - dt.timedelta(days=1),
        next=day + dt.timedelta(days=1),
        version=version,
        error=error,
        causes=CAUSES,
        title=f"{short_day(day)}",
        **view,
    )
    response.headers["ETag"] = etag
    return response


def day_print(day: str) -> Reply:
    date = _parse_day(day)
    book = _book()
    sheet = book.day_sheet(date)
    name = desk().book.settings().calendar_options.clinic_name
    page = sheet.to_html(clinic_name=name, issued=_now().astimezone(book.clinic.zone))
    return Response(page, mimetype="text/html")


# -- recording ------------------------------------------------------------------------------------


def _checked_state(change_book: Book, course_id: str, number: int) -> Course:
    course = change_book.course(course_id)
    seats = change_book.seats(course_id)
    shown = request.form.get("state", "")
    if session_state(course, seats, number) != shown:
        names = change_book.chair_names()
        raise _Stale(
            f"Session {number} of course {course_id} was changed on another terminal meanwhile:"
            f" {_describe_state(course, seats, number, names)}. Nothing was changed; look again."
        )
    return course


class _Stale(Exception):
    """Another terminal changed the session since the page was shown."""


def record(course_id: str, number: int) -> Reply:
    require("record")
    book = _book()
    _course_or_404(book, course_id)
    try:
        kind = choice_field(
            request.form, "kind", "What happened", ("attended", "missed", "cancelled")
        )
        cause = None
        if kind == "missed":
            cause = choice_field(request.form, "cause", "Why it was missed", CAUSES)
        note = text_field(request.form, "note", "Note", required=False, limit=500) or None
        with desk().book.change(who=_who(), now=_now()) as change:
            course = _checked_state(change.book, course_id, number)
            if kind == "attended":
                course = course.attended(number, None, note, now=_now())
            elif kind == "missed":
                assert cause is not None
                course = course.missed(number, cause, note, now=_now())
            else:
                course = course.cancelled(number, note, now=_now())
            change.book = change.book.update(course)
            said = f"{kind} ({cause})" if cause else kind
            change.did(f"session {number}: {said}", course_id)
    except _Stale as stale:
        return _again(str(stale), 409)
    except (FieldError, TmsScheduleError) as error:
        return _again(_problem(error), 422)
    flash(f"Session {number} of {course_id}: {said}.")
    return redirect(_back(), 303)


def void(course_id: str, number: int) -> Reply:
    require("record")
    book = _book()
    _course_or_404(book, course_id)
    try:
        reason = text_field(request.form, "reason", "Why the record is wrong", limit=500)
        with desk().book.change(who=_who(), now=_now()) as change:
            course = _checked_state(change.book, course_id, number)
            course = course.void_latest(number, reason, now=_now())
            change.book = change.book.update(course)
            change.did(f"session {number}: record voided ({reason})", course_id)
    except _Stale as stale:
        return _again(str(stale), 409)
    except (FieldError, TmsScheduleError) as error:
        return _again(_problem(error), 422)
    flash(f"Session {number} of {course_id}: the record is voided (the history keeps it).")
    return redirect(_back(), 303)


def move(course_id: str, number: int) -> Reply:
    require("book")
    book = _book()
    course = _course_or_404(book, course_id)
    try:
        day = date_field(request.form, "date", "New date")
        at = time_field(request.form, "time", "New time")
        to = dt.datetime.combine(day, at, tzinfo=course.plan.clinic.zone)
        if to < _now():
            raise FieldError("date", "New date", f"{short_moment(to)} has passed already")
        with desk().book.change(who=_who(), now=_now()) as change:
            course = _checked_state(change.book, course_id, number)
            course = course.moved(number, to, None, now=_now())
            change.book = change.book.update(course)
            change.did(f"session {number}: moved to {short_moment(to)}", course_id)
    except _Stale as stale:
        return _again(str(stale), 409)
    except (FieldError, TmsScheduleError) as error:
        return _again(_problem(error), 422)
    flash(f"Session {number} of {course_id} moved to {short_moment(to)}.")
    return redirect(_back(), 303)


# -- a course --------------------------------------------------------------------------------------


def course_page(course_id: str) -> Reply:
    return _course_response(course_id)


def _months(schedule: Any, zone: Any) -> list[dict[str, Any]]:
    """Sessions on month grids: each month a list of weeks of 7 days (``None`` outside)."""
    sessions: dict[dt.date, list[Any]] = {}
    for s in schedule.sessions:
        sessions.setdefault(s.start.astimezone(zone).date(), []).append(s)
    if not sessions:
        return []
    first, last = min(sessions), max(sessions)
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        start = dt.date(year, month, 1)
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        weeks: list[list[dict[str, Any] | None]] = []
        week: list[dict[str, Any] | None] = [None] * start.weekday()
        day = start
        while day < following:
            week.append({"date": day, "sessions": sessions.get(day, [])})
            if len(week) == 7:
                weeks.append(week)
                week = []
            day += dt.timedelta(days=1)
        if week:
            weeks.append(week + [None] * (7 - len(week)))
        months.append({"title": f"{start:%B %Y}", "weeks": weeks})
        year, month = following.year, following.month
    return months


def _course_response(
    course_id: str,
    *,
    error: str | None = None,
    status: int = 200,
    preview: dict[str, Any] | None = None,
) -> Reply:
    context = desk()
    book = context.book.book()
    course = _course_or_404(book, course_id)
    seats = book.seats(course_id)
    names = book.chair_names()
    zone = book.clinic.zone
    found = context.book.details([course_id]).get(course_id)
    places: dict[int, int] = {}
    counting = [s for s in course.schedule.sessions if s.status in ("scheduled", "attended")]
    for place, s in enumerate(sorted(counting, key=lambda s: s.start), start=1):
        places[s.number] = place
    rows = [
        {
            "session": s,
            "place": places.get(s.number),
            "chair": names.get(seats.get(s.number, ""), ""),
            "state": session_state(course, seats, s.number),
            "day": s.start.astimezone(zone).date(),
        }
        for s in course.schedule.sessions
    ]
    report = None
    if course.authorization is not None:
        report = course.check_authorization()
    following = [
        (b.course_id, b.course.relation) for b in book.courses if b.course.follows == course_id
    ]
    feed = _feed_address(book, course_id)
    return _page(
        "course.html",
        status,
        course=course,
        course_id=course_id,
        details=found,
        rows=rows,
        progress=course.progress(),
        months=_months(course.schedule, zone),
        authorization=report,
        following=following,
        history=context.book.history(course_id),
        feed=feed,
        error=error,
        preview=preview,
        policies=POLICIES,
        causes=CAUSES,
        today=_local_today(book),
        zone=zone,
        title=found.label if found else course_id,
    )


def _feed_address(book: Book, course_id: str) -> str | None:
    context = desk()
    if context.feed_token is None:
        return None
    feed_id = course_id
    by_id = {b.course_id: b.course for b in book.courses}
    seen = set()
    while by_id[feed_id].follows in by_id and feed_id not in seen:
        seen.add(feed_id)
        feed_id = str(by_id[feed_id].follows)
    version = context.book.feed_versions().get(feed_id, (1, None, None))[0]
    base = context.feeds or f"{request.host_url.rstrip('/')}{PREFIX}"
    return f"{base}{context.feed_token(feed_id, version)}.ics"


def details(course_id: str) -> Reply:
    require("book")
    _course_or_404(_book(), course_id)
    try:
        found = _details_from_form()
        desk().book.set_details(course_id, found, who=_who(), now=_now())
    except (FieldError, StoreError) as error:
        return _course_response(course_id, error=_problem(error), status=422)
    flash("Patient details saved.")
    return redirect(url_for("course", course_id=course_id), 303)


def _details_from_form() -> PatientDetails:
    label = text_field(request.form, "label", "Patient label", limit=100)
    phone = text_field(request.form, "phone", "Phone", required=False, limit=30)
    if phone and not _PHONE.fullmatch(phone):
        raise FieldError("phone", "Phone", f"digits, spaces and + ( ) - . / only, got {phone!r}")
    email = text_field(request.form, "email", "E-mail", required=False, limit=254)
    if email and not _EMAIL.fullmatch(email):
        raise FieldError(
            "email", "E-mail", f"must be an address such as name@example.org, got {email!r}"
        )
    return PatientDetails(label, phone, email)


def replan(course_id: str) -> Reply:
    require("book")
    book = _book()
    _course_or_404(book, course_id)
    version = desk().book.version()
    try:
        policy = choice_field(request.form, "policy", "Catch-up policy", POLICIES)
        before = book.course(course_id)
        after = book.replan(course_id, _now(), policy).course(course_id)
        changes = [] if after is before else [str(c) for c in after.changes_since()]
        preview = {"policy": policy, "changes": changes, "version": version}
        if request.form.get("confirm") != "yes":
            return _course_response(course_id, preview=preview)
        if request.form.get("version") != str(version):
            return _course_response(
                course_id,
                preview=preview,
                error="The book changed since the preview: here is the preview again."
                " Nothing was changed.",
                status=409,
            )
        with desk().book.change(who=_who(), now=_now()) as change:
            change.book = change.book.replan(course_id, _now(), policy)
            change.did(f"re-planned ({policy}): {len(changes)} change(s)", course_id)
    except (FieldError, TmsScheduleError) as error:
        return _course_response(course_id, error=_problem(error), status=422)
    flash("Re-planned." if changes else "Nothing to change: every session keeps its time.")
    return redirect(url_for("course", course_id=course_id), 303)


def calendar(course_id: str) -> Reply:
    book = _book()
    course = _course_or_404(book, course_id)
    options = desk().book.settings().calendar_options
    stamp = _now().astimezone(dt.UTC).replace(microsecond=0)
    try:
        body = course.to_ics(stamp=stamp, options=options)
    except TmsScheduleError as error:
        return _course_response(course_id, error=_problem(error), status=422)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="appointments.ics"'},
    )


def handout(course_id: str) -> Reply:
    book = _book()
    course = _course_or_404(book, course_id)
    options = desk().book.settings().calendar_options
    issued = _now().astimezone(book.clinic.zone).date()
    page = course.schedule.to_html(options, issued=issued, revision=course.revision.number)
    return Response(page, mimetype="text/html")


def feed_qr(course_id: str) -> Reply:
    book = _book()
    _course_or_404(book, course_id)
    address = _feed_address(book, course_id)
    if address is None:
        abort(404)
    import segno

    picture = segno.make(address, error="m")
    buffer = io.BytesIO()
    picture.save(buffer, kind="svg", scale=4, border=2, title="Calendar feed", xmldecl=False)
    return Response(buffer.getvalue(), mimetype="image/svg+xml")


# -- a new course ------------------------------------------------------------------------------------


def _protocol_choices() -> list[Any]:
    return list(desk().book.settings().catalogue)


def new_course() -> Reply:
    require("book")
    return _new_response({})


def _new_response(
    form: dict[str, str], *, error: str | None = None, status: int = 200, found: Any = None
) -> Reply:
    book = _book()
    defaults = {
        "earliest": (_local_today(book) + dt.timedelta(days=1)).isoformat(),
        "at": "09:00",
        "window": "60",
        "chair": "",
        "follows": "",
    }
    return _page(
        "new.html",
        status,
        form={**defaults, **form},
        protocols=_protocol_choices(),
        chairs=book.chairs,
        error=error,
        offers=found,
        names=book.chair_names(),
        title="A new course",
        months=_offer_months,
    )


def _offer_months(offer: Any, zone: Any) -> list[dict[str, Any]]:
    return _months(offer.schedule, zone)


def offers() -> Reply:
    require("book")
    form = {k: str(v) for k, v in request.form.items() if k != "csrf"}
    book = _book()
    try:
        catalogue = desk().book.settings().catalogue
        protocol_id = choice_field(request.form, "protocol", "Protocol", catalogue.ids())
        protocol = catalogue.get(protocol_id)
        tuning: dict[str, Any] = {}
        if request.form.get("acute", "").strip():
            tuning["acute_sessions"] = int_field(request.form, "acute", "Acute sessions", 1, 60)
        if request.form.get("no_taper"):
            tuning["taper"] = False
        if tuning:
            protocol = protocol.tune(**tuning)
        earliest = date_field(request.form, "earliest", "Earliest start")
        today_ = _local_today(book)
        if earliest < today_:
            raise FieldError(
                "earliest", "Earliest start", f"{earliest} has passed (today is {today_})"
            )
        if earliest > today_ + dt.timedelta(days=366):
            raise FieldError(
                "earliest", "Earliest start", f"{earliest} is more than a year ahead: a typo?"
            )
        at = time_field(request.form, "at", "Preferred time")
        window = int_field(request.form, "window", "Give or take (minutes)", 0, 240)
        chair = request.form.get("chair") or None
        if chair is not None:
            choice_field(request.form, "chair", "Chair", [c.id for c in book.chairs])
        follows = request.form.get("follows", "").strip() or None
        if follows is not None and follows not in set(book.course_ids()):
            raise FieldError("follows", "Follows course", f"no course {follows!r} in the book")
        found = book.offers(
            protocol, earliest, at, window=window, chair=chair, count=3, follows=follows
        )
        desk().book.save_offers(found)
    except (FieldError, TmsScheduleError) as error:
        return _new_response(form, error=_problem(error), status=422)
    return _new_response(form, found=found)


def take(key: str) -> Reply:
    require("book")
    if not re.fullmatch(r"[A-Za-z0-9]{1,32}", key):
        abort(404)
    try:
        course_id = text_field(request.form, "course_id", "Course id", limit=64)
        if not _COURSE_ID.fullmatch(course_id):
            raise FieldError(
                "course_id",
                "Course id",
                "letters, digits, '.', '_' and '-' only, starting with a letter or digit",
            )
        found = _details_from_form()
        follows = request.form.get("follows", "").strip() or None
        uid_key = key_id(desk().book.settings().calendar_options.uid_key)
        with desk().book.change(who=_who(), now=_now()) as change:
            offer = desk().book.offer(key, change.book)
            change.book = change.book.take(offer, course_id, uid_key_id=uid_key, follows=follows)
            change.did(f"booked: {offer.describe(change.book.chair_names())}", course_id)
        desk().book.set_details(course_id, found, who=_who(), now=_now())
    except (FieldError, TmsScheduleError) as error:
        form = {k: str(v) for k, v in request.form.items() if k != "csrf"}
        return _new_response(
            form, error=_problem(error), status=409 if "changed" in str(error) else 422
        )
    flash(f"Booked course {course_id}.")
    return redirect(url_for("course", course_id=course_id), 303)


# -- closures and call lists ------------------------------------------------------------------------


def closures() -> Reply:
    return _closures_response({})


def _closures_response(
    form: dict[str, str],
    *,
    error: str | None = None,
    status: int = 200,
    preview: dict[str, Any] | None = None,
) -> Reply:
    book = _book()
    defaults = {
        "first": _local_today(book).isoformat(),
        "last": "",
        "reason": "",
        "chair": "",
        "hours": "",
    }
    return _page(
        "closures.html",
        status,
        form={**defaults, **form},
        events=list(reversed(book.events)),
        chairs=book.chairs,
        error=error,
        preview=preview,
        title="Closures",
    )


def _closure_from_form(book: Book) -> tuple[dt.date, dt.date, str, str | None, str | None]:
    first = date_field(request.form, "first", "First day")
    last = date_field(request.form, "last", "Last day") if request.form.get("last") else first
    if last < first:
        raise FieldError("last", "Last day", f"must be on or after the first day ({first})")
    if (last - first).days > 92:
        raise FieldError("last", "Last day", "at most 92 days after the first day")
    reason = text_field(request.form, "reason", "Reason", limit=200)
    chair = request.form.get("chair") or None
    if chair is not None:
        choice_field(request.form, "chair", "Chair", [c.id for c in book.chairs])
    hours = request.form.get("hours", "").strip() or None
    if hours is not None and not re.fullmatch(r"\d{1,2}:\d{2}-\d{1,2}:\d{2}", hours):
        raise FieldError("hours", "Hours", f"must be written 12:00-14:00, got {hours[:40]!r}")
    for event in book.events:
        if (
            not event.undone
            and (event.first, event.last, event.chair) == (first, last, chair)
            and (str(event.hours) if event.hours else None) == hours
        ):
            raise FieldError(
                "first",
                "First day",
                f"this closure is entered already (event {event.number}: {event.describe()})",
            )
    return first, last, reason, chair, hours


def _apply_close(book: Book, form: tuple[Any, ...]) -> tuple[Book, EventReport]:
    first, last, reason, chair, hours = form
    return book.close(first, last, reason=reason, now=_now(), chair=chair, hours=hours)


def _call_rows(book: Book, report: EventReport) -> list[dict[str, str]]:
    """Who to call: each changed session, its old and new time (course ids only: labels and
    phones are looked up when the list is shown)."""
    rows = []
    names = book.chair_names()
    for entry in report.courses:
        for change in entry.changes:
            rows.append(
                {
                    "course_id": entry.course_id,
                    "session": str(change.session),
                    "old": short_moment(change.old) if change.old else "",
                    "new": short_moment(change.new) if change.new else "",
                    "what": str(change),
                }
            )
        for number, start, old, new in entry.chairs:
            rows.append(
                {
                    "course_id": entry.course_id,
                    "session": str(number),
                    "old": short_moment(start),
                    "new": short_moment(start),
                    "what": f"same time, now on {names.get(new, new)} (was {names.get(old, old)})",
                }
            )
    return rows


def close_preview() -> Reply:
    require("close")
    return _close_preview(None, 200)


def _close_preview(note: str | None, status: int) -> Reply:
    form = {k: str(v) for k, v in request.form.items() if k not in ("csrf", "version")}
    version = desk().book.version()
    book = _book()
    try:
        fields = _closure_from_form(book)
        after, report = _apply_close(book, fields)
    except (FieldError, TmsScheduleError) as error:
        return _closures_response(form, error=_problem(error), status=422)
    rows = _with_people(_call_rows(after, report))
    preview = {"rows": rows, "describe": report.event.describe(), "version": version}
    return _closures_response(form, preview=preview, error=note, status=status)


def close() -> Reply:
    require("close")
    form = {k: str(v) for k, v in request.form.items() if k not in ("csrf", "version")}
    if request.form.get("version") != str(desk().book.version()):
        return _close_preview(
            "The book changed since the preview: here it is again. Nothing was changed.", 409
        )
    try:
        with desk().book.change(who=_who(), now=_now()) as change:
            fields = _closure_from_form(change.before)
            change.book, report = _apply_close(change.before, fields)
            rows = _call_rows(change.book, report)
            change.did(f"closure entered: {report.event.describe()} (event {report.event.number})")
            for entry in report.courses:
                change.did(f"re-booked by event {report.event.number}", entry.course_id)
        desk().book.save_calls(report.event.number, rows)
    except (FieldError, TmsScheduleError) as error:
        return _closures_response(form, error=_problem(error), status=422)
    flash(f"Event {report.event.number} entered: {len(report.courses)} course(s) changed.")
    return redirect(url_for("calls", event=report.event.number), 303)


def _with_people(rows: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    listed = list(rows)
    found = desk().book.details(r["course_id"] for r in listed)
    out = []
    for row in listed:
        person = found.get(row["course_id"])
        out.append(
            {
                **row,
                "label": person.label if person else row["course_id"],
                "phone": person.phone if person else "",
            }
        )
    return out


def _event_or_404(book: Book, event: int) -> Any:
    found = next((e for e in book.events if e.number == event), None)
    if found is None:
        abort(404)
    return found


def calls(event: int) -> Reply:
    book = _book()
    found = _event_or_404(book, event)
    rows = _with_people(desk().book.calls(event) or [])
    return _page("calls.html", event=found, rows=rows, title=f"Call list: {found.reason}")


#: The columns of the call list's CSV download.
CALL_COLUMNS = ("label", "phone", "course_id", "session", "old", "new", "what")


def calls_csv(event: int) -> Reply:
    book = _book()
    _event_or_404(book, event)
    rows = _with_people(desk().book.calls(event) or [])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CALL_COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in CALL_COLUMNS])
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="call-list-{event}.csv"'},
    )


def _cell(text: str) -> str:
    """A spreadsheet runs a cell that starts with = + - @ as a formula: quoted."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def undo(event: int) -> Reply:
    require("close")
    try:
        with desk().book.change(who=_who(), now=_now()) as change:
            _event_or_404(change.before, event)
            change.book, report = change.before.undo(event, now=_now())
            change.did(f"event {event} undone: {report.event.describe()}")
            for entry in report.courses:
                change.did(f"re-booked by the undo of event {event}", entry.course_id)
    except TmsScheduleError as error:
        return _closures_response({}, error=_problem(error), status=422)
    flash(f"Event {event} undone: {len(report.courses)} course(s) changed back.")
    return redirect(url_for("closures"), 303)


# -- the clinic at a glance, the waiting list -----------------------------------------------------------


def glance() -> Reply:
    book = _book()
    first = _local_today(book)
    last = first + dt.timedelta(days=27)
    usage = book.usage(first, last)
    return _page(
        "glance.html",
        usage=usage,
        first=first,
        last=last,
        title="The clinic at a glance",
        waiting=desk().book.waiting(),
    )


def waiting() -> Reply:
    context = desk()
    book = _book()
    form: dict[str, str] = {}
    error = None
    status = 200
    if request.method == "POST":
        require("book")
        form = {k: str(v) for k, v in request.form.items() if k != "csrf"}
        try:
            label = text_field(request.form, "label", "Patient label", limit=100)
            phone = text_field(request.form, "phone", "Phone", required=False, limit=30)
            protocol = choice_field(
                request.form, "protocol", "Protocol", context.book.settings().catalogue.ids()
            )
            earliest = date_field(request.form, "earliest", "From")
            at = time_field(request.form, "at", "Time wanted")
            note = text_field(request.form, "note", "Note", required=False, limit=300)
            context.book.add_waiting(
                label, phone, protocol, earliest, at, note, who=_who(), now=_now()
            )
        except (FieldError, StoreError) as error_:
            error = _problem(error_)
            status = 422
        else:
            flash(f"{label} is on the waiting list.")
            return redirect(url_for("waiting"), 303)
    entries = context.book.waiting()
    room = []
    for entry in entries:
        try:
            found = book.offers(
                entry.protocol,
                max(entry.earliest, _local_today(book)),
                entry.at,
                window=30,
                count=1,
            )
            room.append(found[0].describe(book.chair_names()))
        except TmsScheduleError:
            room.append("")
    defaults = {"earliest": _local_today(book).isoformat(), "at": "09:00"}
    return _page(
        "waiting.html",
        status,
        entries=list(zip(entries, room, strict=True)),
        form={**defaults, **form},
        protocols=_protocol_choices(),
        error=error,
        title="Waiting list",
    )


def waiting_remove(entry: int) -> Reply:
    require("book")
    try:
        desk().book.remove_waiting(entry, who=_who(), now=_now())
    except StoreError as error:
        flash(_problem(error))
    return redirect(url_for("waiting"), 303)


# -- search ------------------------------------------------------------------------------------------


def search() -> Reply:
    text = request.args.get("q", "")[:100]
    found = desk().book.find(text) if text.strip() else []
    if len(found) == 1 and request.args.get("go", "1") == "1":
        return redirect(url_for("course", course_id=found[0][0]), 303)
    book = _book()
    rows = [{"course_id": cid, "details": det, "course": book.course(cid)} for cid, det in found]
    return _page("search.html", q=text, rows=rows, title="Search")


# -- the staff ---------------------------------------------------------------------------------------


def users() -> Reply:
    require("users")
    error = None
    status = 200
    if request.method == "POST":
        try:
            name = text_field(request.form, "name", "Name", limit=60)
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,59}", name):
                raise FieldError("name", "Name", "letters, digits and . _ @ - only")
            role = choice_field(request.form, "role", "Role", ROLES)
            password = request.form.get("password", "")
            why = password_problem(password)
            if why:
                raise FieldError("password", "Password", why)
            desk().book.add_user(name, role, hash_password(password), now=_now())
        except (FieldError, StoreError) as error_:
            error = _problem(error_)
            status = 422
        else:
            flash(f"User {name} added ({role}).")
            return redirect(url_for("users"), 303)
    return _page(
        "users.html", status, people=desk().book.users(), roles=ROLES, error=error, title="Staff"
    )


def user_remove(name: str) -> Reply:
    require("users")
    if name == g.user.name:
        flash("You cannot remove yourself; ask another admin.")
        return redirect(url_for("users"), 303)
    try:
        desk().book.remove_user(name)
    except StoreError as error:
        flash(_problem(error))
    else:
        flash(f"User {name} removed.")
    return redirect(url_for("users"), 303)


def user_password(name: str) -> Reply:
    require("users")
    password = request.form.get("password", "")
    why = password_problem(password)
    if why:
        flash(f"Password: {why}. Nothing was changed.")
        return redirect(url_for("users"), 303)
    try:
        desk().book.set_password(name, hash_password(password))
    except StoreError as error:
        flash(_problem(error))
    else:
        flash(f"Password of {name} changed: their other sessions are signed out.")
    return redirect(url_for("users"), 303)
