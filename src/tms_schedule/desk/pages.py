"""The desk's pages: the day, a course, a new course through offers, closures and their
call lists, the clinic at a glance, the waiting list, search, and the staff.

Every page is server-rendered and every action is a plain form that ``POST``s and then
shows the page again (htmx only makes it smoother: the day view checks for changes every
few seconds and replaces itself when there are some). A form that acts on a session carries
the session's stamp as the page showed it (the book's version when the session last
changed); if another terminal changed it meanwhile, the store refuses the action with what
changed, by whom and when, and nothing is written. A value the library refuses comes back
as a message naming the field, with nothing changed.

Every page reads what it shows, not the book: a day's sessions, one course, the chair time
of the days an offer or a re-plan looks at.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable
from typing import Any

import attrs
from flask import Flask, Response, abort, flash, g, redirect, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response as Reply

from tms_schedule._dates import short_day, short_moment
from tms_schedule.book.book import Book, EventReport
from tms_schedule.book.offers import Offer
from tms_schedule.book.office import PatientDetails, SessionRow, WaitingEntry
from tms_schedule.course import CAUSES, POLICIES
from tms_schedule.course.changes import diff
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
from tms_schedule.desk.port import ROLES, DeskBook
from tms_schedule.desk.web import desk, render, require
from tms_schedule.errors import (
    BlockBreakError,
    BookingConflictError,
    ChangedMeanwhileError,
    NoOfferError,
    TmsScheduleError,
)
from tms_schedule.export.handout import handout
from tms_schedule.export.uid import key_id
from tms_schedule.pages.room import room_text
from tms_schedule.pages.usage import heat_map

__all__ = ["CALL_COLUMNS", "register"]

_COURSE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}")
_PHONE = re.compile(r"\+?[0-9 ()./-]{3,30}")
#: A grid cell lists up to this many sessions one by one (as the handout's macros do).
_LISTED_PER_DAY = 3
#: How far ahead a new course may be asked to start: further is a typo (a wrong year).
_AHEAD = dt.timedelta(days=183)
#: The columns of the call list's CSV download.
CALL_COLUMNS = ("label", "phone", "course_id", "session", "old", "new", "what")


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
        ("/courses/<course_id>/sessions/<int:number>/later", "move_later", move_later, ["POST"]),
        ("/courses/<course_id>/end", "end", end, ["POST"]),
        ("/courses/<course_id>/invitation.eml", "invitation", invitation, ["GET"]),
        ("/courses/<course_id>/details", "details", details, ["POST"]),
        ("/courses/<course_id>/replan", "replan", replan, ["POST"]),
        ("/courses/<course_id>/calendar.ics", "calendar", calendar, ["GET"]),
        ("/courses/<course_id>/handout", "handout", handout_page, ["GET"]),
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
        ("/waiting/<int:entry>/offered", "waiting_offered", waiting_offered, ["POST"]),
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


def _zone() -> Any:
    return desk().book.settings().calendar.zone


def _today() -> dt.date:
    return _now().astimezone(_zone()).date()


def _who() -> str:
    return str(g.user.name)


def _page(template: str, status: int = 200, **context: Any) -> Reply:
    return Response(render(template, **context), status, mimetype="text/html")


def _problem(error: Exception) -> str:
    """A refusal in words for the page (never a traceback)."""
    text = " ".join(str(error).split())
    end = "" if text.endswith((".", "?", "!")) else "."
    return f"{text}{end} Nothing was changed."


def _form() -> dict[str, str]:
    """The form as it was sent, to show it again (never the token)."""
    return {k: str(v) for k, v in request.form.items() if k not in ("csrf", "version")}


def _parse_day(text: str) -> dt.date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        abort(404)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        abort(404)


def _missing(what: str) -> Reply:
    return Response(
        render("message.html", title="Not found", message=f"There is no {what} in the book."),
        404,
        mimetype="text/html",
    )


def _course_or_404(course_id: str) -> Course:
    if not _COURSE_ID.fullmatch(course_id):
        abort(_missing(f"course {course_id!r}"))
    try:
        return desk().book.course(course_id)
    except TmsScheduleError:
        abort(_missing(f"course {course_id!r}"))


def _stamp() -> int:
    """The stamp the form carries: the session's, when the page showed it."""
    text = request.form.get("stamp", "")
    return int(text) if text.isdigit() and len(text) < 12 else -1


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
    return _day_response(_today(), error=message, status=status)


def _labels(course_ids: Iterable[str]) -> dict[str, str]:
    found = desk().book.details(course_ids)
    return {course_id: details.label for course_id, details in found.items()}


# -- the day ------------------------------------------------------------------------------------


def day_view(day: dt.date) -> dict[str, Any]:
    """What the day page shows: the day sheet (the printed sheet's template draws it), the
    patients' labels (``labels``; ``links``: each a link to the course's page, where the
    sheet shows course ids) and each session's stamp."""
    book = desk().book
    sheet = book.day_sheet(day)
    stamps = {(row.course_id, row.number): row.stamp for row in book.sessions(day)}
    ids = {course_id for course_id, _ in stamps}
    labels = _labels(ids)
    links = {
        course_id: Markup('<a href="{}">{}</a>').format(
            url_for("course", course_id=course_id), labels.get(course_id, course_id)
        )
        for course_id in ids
    }
    return {"sheet": sheet, "stamps": stamps, "labels": labels, "links": links}


def today() -> Reply:
    return _day_response(_today())


def day_page(day: str) -> Reply:
    return _day_response(_parse_day(day))


def _day_response(day: dt.date, *, error: str | None = None, status: int = 200) -> Reply:
    version = desk().book.version()
    since = request.args.get("since")
    if request.method == "GET" and since is not None and since == str(version):
        return Response(status=204)  # a page's own check: nothing changed
    etag = f'"{version}-{day.isoformat()}-{g.user.name}"'
    if request.method == "GET" and request.headers.get("If-None-Match") == etag:
        return Response(status=304, headers={"ETag": etag})
    template = "day_fragment.html" if since is not None else "day.html"
    response = _page(
        template,
        status,
        day=day,
        today=_today(),
        previous=day - dt.timedelta(days=1),
        next=day + dt.timedelta(days=1),
        version=version,
        error=error,
        causes=CAUSES,
        title=short_day(day),
        **day_view(day),
    )
    if not error:
        response.headers["ETag"] = etag
    return response


def day_print(day: str) -> Reply:
    date = _parse_day(day)
    sheet = desk().book.day_sheet(date)
    name = desk().book.settings().calendar_options.clinic_name
    page = sheet.to_html(clinic_name=name, issued=_now().astimezone(_zone()))
    return Response(page, mimetype="text/html")


# -- recording ------------------------------------------------------------------------------------


def _session_change(course_id: str, number: int, action: str) -> Any:
    """A change of one session, refused if it changed since the page showed it."""
    return desk().book.change(
        courses=[course_id],
        expect={(course_id, number): _stamp()},
        now=_now(),
        actor=_who(),
        action=action,
    )


def record(course_id: str, number: int) -> Reply:
    require("record")
    _course_or_404(course_id)
    try:
        kind = choice_field(
            request.form, "kind", "What happened", ("attended", "missed", "cancelled")
        )
        cause = None
        if kind == "missed":
            cause = choice_field(request.form, "cause", "Why it was missed", CAUSES)
        note = text_field(request.form, "note", "Note", required=False, limit=500) or None
        said = f"{kind} ({cause})" if cause else kind
        with _session_change(course_id, number, "record") as change:
            course = change.book.course(course_id)
            if kind == "attended":
                course = course.attended(number, None, note, now=_now())
            elif kind == "missed":
                assert cause is not None
                course = course.missed(number, cause, note, now=_now())
            else:
                course = course.cancelled(number, note, now=_now())
            change.book = change.book.update(course)
            change.detail, change.session = f"session {number}: {said}", number
    except ChangedMeanwhileError as error:
        return _again(_problem(error), 409)
    except (FieldError, TmsScheduleError) as error:
        return _again(_problem(error), 422)
    flash(f"Session {number} of {course_id}: {said}.")
    if kind == "cancelled":
        _places_freed()
    return redirect(_back(), 303)


def void(course_id: str, number: int) -> Reply:
    require("record")
    _course_or_404(course_id)
    try:
        reason = text_field(request.form, "reason", "Why the record is wrong", limit=500)
        with _session_change(course_id, number, "void") as change:
            course = change.book.course(course_id).void_latest(number, reason, now=_now())
            change.book = change.book.update(course)
            change.detail, change.session = f"session {number}: record voided", number
    except ChangedMeanwhileError as error:
        return _again(_problem(error), 409)
    except (FieldError, TmsScheduleError) as error:
        return _again(_problem(error), 422)
    flash(f"Session {number} of {course_id}: the record is voided (the history keeps it).")
    return redirect(_back(), 303)


def move(course_id: str, number: int) -> Reply:
    require("book")
    _course_or_404(course_id)
    try:
        day = date_field(request.form, "date", "New date")
        at = time_field(request.form, "time", "New time")
        to = dt.datetime.combine(day, at, tzinfo=_zone())
        if to < _now():
            raise FieldError("date", "New date", f"{short_moment(to)} has passed already")
        if day > _today() + dt.timedelta(days=366):
            raise FieldError("date", "New date", f"{day} is more than a year ahead: a typo?")
        with desk().book.change(
            courses=[course_id],
            expect={(course_id, number): _stamp()},
            since=min(day, _today()),
            now=_now(),
            actor=_who(),
            action="move",
        ) as change:
            course = change.book.course(course_id).moved(number, to, None, now=_now())
            change.book = change.book.update(course)
            change.detail = f"session {number}: moved to {short_moment(to)}"
            change.session = number
    except ChangedMeanwhileError as error:
        return _again(_problem(error), 409)
    except (FieldError, TmsScheduleError) as error:
        return _again(_problem(error), 422)
    flash(f"Session {number} of {course_id} moved to {short_moment(to)}.")
    return redirect(_back(), 303)


#: How far either side of the time asked for a new regular time is looked for (minutes).
_LATER_WINDOW = 60


def move_later(course_id: str, number: int) -> Reply:
    """Every session from session ``number``'s day on to a new time of day (a patient's new
    work hours), through the book's offers for it (:meth:`Book.move_offers`, the command
    line's ``book move``): first the best times near the one asked for, each with a chair
    for every session, then the offer chosen, booked as it was shown (:meth:`Book.move`)."""
    require("book")
    course = _course_or_404(course_id)
    book = desk().book
    session = next((s for s in course.schedule.sessions if s.number == number), None)
    if session is None:
        abort(_missing(f"session {number} in course {course_id}"))
    day = session.start.astimezone(_zone()).date()
    try:
        key = request.form.get("key", "")
        if key:
            return _take_move(course_id, number, key)
        at = time_field(request.form, "time", "New time")
        if session.status != "scheduled" or session.start < _now():
            raise FieldError("time", "New time", f"session {number} is not one still to come")
        window = book.window(courses=[course_id], since=min(day, _today()))
        try:
            found = window.move_offers(
                course_id, day, at, now=_now(), window=_LATER_WINDOW, count=3
            )
        except NoOfferError as error:
            why = str(error).rpartition(": ")[2]  # the first day no chair holds
            raise FieldError(
                "time",
                "New time",
                f"no chair is free at {at:%H:%M}, nor within an hour of it, for every session"
                f" from {short_day(day)} on: {why}; try another time",
            ) from None
        book.save_offers(found, now=_now())
    except (FieldError, TmsScheduleError) as error:
        return _course_response(course_id, error=_problem(error), status=422)
    names = window.chair_names()
    later = {
        "number": number,
        "day": day,
        "asked": at,
        "stamp": _stamp(),
        "offers": [(offer, _chairs_of(offer, names)) for offer in found],
    }
    return _course_response(course_id, later=later)


def _chairs_of(offer: Offer, names: dict[str, str]) -> str:
    return ", ".join(names.get(chair, chair) for chair in offer.chairs())


def _take_move(course_id: str, number: int, key: str) -> Reply:
    """Book the new regular time offered under ``key``, refused (nothing changed) if the
    session the form came from, or a chair the offer holds, changed since."""
    if not re.fullmatch(r"[A-Za-z0-9]{1,32}", key):
        abort(_missing(f"offer {key!r}"))
    book = desk().book
    try:
        offer = book.offer(key)
        if offer.schedule.course_id != course_id:
            raise FieldError("key", "Offer", f"offer {key} is not a new time for {course_id}")
        with book.change(
            courses=[course_id],
            expect={(course_id, number): _stamp()},
            since=min(offer.start, _today()),
            now=_now(),
            actor=_who(),
            action="move",
        ) as change:
            change.book = change.book.move(course_id, offer, now=_now())
            said = f"regular time from {short_day(offer.start)}: {offer.at:%H:%M}"
            change.detail, change.session = said, number
            where = _chairs_of(offer, change.book.chair_names())
    except ChangedMeanwhileError as error:
        return _course_response(course_id, error=_problem(error), status=409)
    except (FieldError, TmsScheduleError) as error:
        status = 409 if isinstance(error, BookingConflictError) else 422
        return _course_response(course_id, error=_problem(error), status=status)
    flash(
        f"Every session of {course_id} from {short_day(offer.start)} on is now at"
        f" {offer.at:%H:%M} ({where})."
    )
    return redirect(url_for("course", course_id=course_id), 303)


def end(course_id: str) -> Reply:
    """End a course early, in one action: its sessions from the day given are cancelled
    and their chairs freed."""
    require("book")
    _course_or_404(course_id)
    try:
        reason = text_field(request.form, "reason", "Why the course ends", limit=200)
        start: dt.date | dt.datetime = _now()
        if request.form.get("from", "").strip():
            day = date_field(request.form, "from", "From")
            if day < _today():
                raise FieldError("from", "From", f"{day} has passed (today is {_today()})")
            start = day
        with desk().book.change(
            courses=[course_id], now=_now(), actor=_who(), action="end"
        ) as change:
            course = change.book.course(course_id).end(reason, now=_now(), start=start)
            change.book = change.book.update(course)
            change.detail = "course ended early"
    except (FieldError, TmsScheduleError) as error:
        return _course_response(course_id, error=_problem(error), status=422)
    flash(f"Course {course_id} ended: its sessions to come are cancelled.")
    _places_freed()
    return redirect(url_for("course", course_id=course_id), 303)


def invitation(course_id: str) -> Reply:
    """The invitation e-mail (iMIP) for the course's next session, ready to send from the
    clinic's mail program: to the patient's address, from the clinic's organizer."""
    from tms_schedule.delivery.imip import invite

    course = _course_or_404(course_id)
    options = desk().book.settings().calendar_options
    found = desk().book.details([course_id]).get(course_id)
    upcoming = [s for s in course.schedule.sessions if s.status == "scheduled" and s.start > _now()]
    if not options.organizer or found is None or not found.email or not upcoming:
        abort(
            _missing(
                "invitation to send (it needs the clinic's organizer address, the"
                " patient's e-mail and a session to come)"
            )
        )
    try:
        message = invite(
            course,
            upcoming[0].number,
            attendee=found.email,
            stamp=_now().astimezone(dt.UTC).replace(microsecond=0),
            options=options,
        )
    except TmsScheduleError as error:
        return _course_response(course_id, error=_problem(error), status=422)
    return Response(
        message.as_bytes(),
        mimetype="message/rfc822",
        headers={"Content-Disposition": 'attachment; filename="invitation.eml"'},
    )


# -- a course --------------------------------------------------------------------------------------


def course_page(course_id: str) -> Reply:
    return _course_response(course_id)


def _grids(schedule: Any) -> dict[str, Any]:
    """The month grids of a schedule as the handout draws them (its fragments), with what
    their legend needs; none for a course too sparse for grids (its list says it all)."""
    drawn = handout(schedule)
    return {
        "grids": drawn.grids,
        "marks": drawn.marks,
        "many": drawn.most if drawn.most > _LISTED_PER_DAY else None,
        "skipped": drawn.skipped,
    }


def _course_response(
    course_id: str,
    *,
    error: str | None = None,
    status: int = 200,
    preview: dict[str, Any] | None = None,
    later: dict[str, Any] | None = None,
) -> Reply:
    book = desk().book
    course = _course_or_404(course_id)
    zone = _zone()
    sessions = course.schedule.sessions
    first = min(s.start for s in sessions).astimezone(zone).date()
    last = max(s.start for s in sessions).astimezone(zone).date()
    rows_of: dict[int, SessionRow] = {
        row.number: row for row in book.sessions(first, last, course_id=course_id)
    }
    names = book.state().chair_names()
    found = book.details([course_id]).get(course_id)
    rows = []
    for s in sessions:
        stored = rows_of.get(s.number)
        rows.append(
            {
                "session": s,
                "place": stored.place if stored else None,
                "chair": names.get(stored.chair or "", "") if stored else "",
                "stamp": stored.stamp if stored else 0,
                "day": s.start.astimezone(zone).date(),
            }
        )
    report = course.check_authorization() if course.authorization is not None else None
    return _page(
        "course.html",
        status,
        course=course,
        course_id=course_id,
        details=found,
        rows=rows,
        progress=course.progress(),
        months=_grids(course.schedule),
        authorization=report,
        following=book.following(course_id),
        history=book.history(course_id),
        feed=_feed_address(course_id, course),
        error=error,
        preview=preview,
        later=later,
        policies=POLICIES,
        causes=CAUSES,
        today=_today(),
        invitation=bool(
            book.settings().calendar_options.organizer and found is not None and found.email
        ),
        zone=zone,
        local=lambda at: short_moment(dt.datetime.fromisoformat(at).astimezone(zone)),
        title=found.label if found else course_id,
    )


def _feed_address(course_id: str, course: Course) -> str | None:
    """The patient's feed: their first course's, with the courses that follow it."""
    context = desk()
    if context.feed_token is None:
        return None
    feed_id = course_id
    seen = {course_id}
    follows = course.follows
    while follows is not None and follows not in seen:
        seen.add(follows)
        feed_id = follows
        try:
            follows = context.book.course(follows).follows
        except TmsScheduleError:
            break
    version = context.book.feed_versions().get(feed_id, (1, None, None))[0]
    base = context.feeds or f"{request.host_url.rstrip('/')}{PREFIX}"
    return f"{base}{context.feed_token(feed_id, version)}.ics"


def details(course_id: str) -> Reply:
    require("book")
    _course_or_404(course_id)
    try:
        found = _details_from_form(course_id)
        desk().book.set_details(found, now=_now(), actor=_who())
    except (FieldError, TmsScheduleError) as error:
        return _course_response(course_id, error=_problem(error), status=422)
    flash("Patient details saved.")
    return redirect(url_for("course", course_id=course_id), 303)


def _details_from_form(course_id: str) -> PatientDetails:
    label = text_field(request.form, "label", "Patient label", limit=100)
    phone = text_field(request.form, "phone", "Phone", required=False, limit=30)
    if phone and not _PHONE.fullmatch(phone):
        raise FieldError("phone", "Phone", f"digits, spaces and + ( ) - . / only, got {phone!r}")
    email = text_field(request.form, "email", "E-mail", required=False, limit=254)
    if email and not _EMAIL.fullmatch(email):
        raise FieldError(
            "email", "E-mail", f"must be an address such as name@example.org, got {email!r}"
        )
    return PatientDetails(course_id, label, phone or None, email or None)


def replan(course_id: str) -> Reply:
    require("book")
    _course_or_404(course_id)
    book = desk().book
    version = book.version()
    since = min(_today(), book.first_day(course_id))
    try:
        policy = choice_field(request.form, "policy", "Catch-up policy", POLICIES)
        window = book.window(courses=[course_id], since=since)
        before = window.course(course_id)
        after = window.replan(course_id, _now(), policy).course(course_id)
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
        with book.change(
            courses=[course_id], since=since, now=_now(), actor=_who(), action="replan"
        ) as change:
            change.book = change.book.replan(course_id, _now(), policy)
            change.detail = f"re-planned ({policy})"
    except (FieldError, TmsScheduleError) as error:
        return _course_response(course_id, error=_problem(error), status=422)
    flash("Re-planned." if changes else "Nothing to change: every session keeps its time.")
    return redirect(url_for("course", course_id=course_id), 303)


def calendar(course_id: str) -> Reply:
    course = _course_or_404(course_id)
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


def handout_page(course_id: str) -> Reply:
    course = _course_or_404(course_id)
    options = desk().book.settings().calendar_options
    page = course.schedule.to_html(options, issued=_today(), revision=course.revision.number)
    return Response(page, mimetype="text/html")


def feed_qr(course_id: str) -> Reply:
    course = _course_or_404(course_id)
    address = _feed_address(course_id, course)
    if address is None:
        abort(_missing("feed (the desk serves none: start it with --secret-file)"))
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
    defaults = {
        "earliest": (_today() + dt.timedelta(days=1)).isoformat(),
        "at": "09:00",
        "window": "60",
        "chair": "",
        "follows": "",
    }
    state = desk().book.state()
    return _page(
        "new.html",
        status,
        form={**defaults, **form},
        protocols=_protocol_choices(),
        chairs=state.chairs,
        coils=[
            (tag, [c.name for c in state.chairs if tag in c.runs]) for tag in _coils(state.chairs)
        ],
        error=error,
        offers=found,
        names=state.chair_names(),
        title="A new course",
        search=_SEARCH,
        months=lambda offer: _grids(offer.schedule),
    )


def offers() -> Reply:
    require("book")
    try:
        found = _find_offers()
    except (FieldError, TmsScheduleError) as error:
        return _new_response(_form(), error=_problem(error), status=422)
    return _new_response(_form(), found=found)


#: The fields of the search for offers, which each offer's form carries along (so a refused
#: booking shows the same offers again with what was wrong).
_SEARCH = (
    "protocol",
    "acute",
    "no_taper",
    "earliest",
    "at",
    "window",
    "chair",
    "coil",
    "follows",
    "waiting",
)


def _find_offers() -> tuple[Any, ...]:
    """The offers the form asks for (kept in the book, to be taken by their key)."""
    book = desk().book
    catalogue = book.settings().catalogue
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
    today_ = _today()
    if earliest < today_:
        raise FieldError("earliest", "Earliest start", f"{earliest} has passed (today is {today_})")
    if earliest > today_ + _AHEAD:
        raise FieldError(
            "earliest",
            "Earliest start",
            f"{earliest} is more than six months ahead (today is {today_}): a typo in the year?",
        )
    at = time_field(request.form, "at", "Preferred time")
    window = int_field(request.form, "window", "Give or take (minutes)", 0, 240)
    chairs = book.state().chairs
    chair = request.form.get("chair") or None
    if chair is not None:
        choice_field(request.form, "chair", "Chair", [c.id for c in chairs])
    if request.form.get("coil"):
        # A coil asked for: every session on a chair that has it, as if the protocol
        # required it (so a later re-plan keeps to those chairs too).
        coil = choice_field(request.form, "coil", "Coil", _coils(chairs))
        needs = protocol.requires | {coil}
        if not any(needs <= chair.runs for chair in chairs):
            raise FieldError(
                "coil",
                "Coil",
                f"no chair has {coil} with what {protocol.id} needs"
                f" ({', '.join(sorted(protocol.requires))})",
            )
        protocol = attrs.evolve(protocol, requires=needs)
    follows = request.form.get("follows", "").strip() or None
    if follows is not None:
        try:
            book.course(follows)
        except TmsScheduleError:
            raise FieldError(
                "follows", "Follows course", f"no course {follows!r} in the book"
            ) from None
    shown = book.window(courses=_patient(book, follows), since=earliest)
    found = shown.offers(
        protocol, earliest, at, window=window, chair=chair, count=3, follows=follows, now=_now()
    )
    book.save_offers(found, now=_now())
    return found


def _coils(chairs: Iterable[Any]) -> list[str]:
    """The equipment tags of the clinic's chairs (coils: ``figure-8``, ``h1``, ...)."""
    return sorted({tag for chair in chairs for tag in chair.runs})


def take(key: str) -> Reply:
    require("book")
    if not re.fullmatch(r"[A-Za-z0-9]{1,32}", key):
        abort(_missing(f"offer {key!r}"))
    book = desk().book
    try:
        course_id = text_field(request.form, "course_id", "Course id", limit=64)
        if not _COURSE_ID.fullmatch(course_id):
            raise FieldError(
                "course_id",
                "Course id",
                "letters, digits, '.', '_' and '-' only, starting with a letter or digit",
            )
        found = _details_from_form(course_id)
        follows = request.form.get("follows", "").strip() or None
        waiting = _waiting_entry(book)
        uid_key = key_id(book.settings().calendar_options.uid_key)
        offer = book.offer(key)
        with book.change(
            courses=_patient(book, follows),
            since=offer.start,
            now=_now(),
            actor=_who(),
            action="take",
        ) as change:
            change.book = change.book.take(
                offer, course_id, uid_key_id=uid_key, follows=follows, now=_now()
            )
            change.detail = f"booked {offer.describe(change.book.chair_names())}"
            change.patients = [found]  # in the booking's transaction: never one without
            if waiting is not None:  # off the list in the same transaction
                change.waiting = {waiting.number: "booked"}
                change.detail += f" (waiting-list entry {waiting.number})"
    except (FieldError, TmsScheduleError) as error:
        taken = "changed since" in str(error)
        # The offers again beside what was wrong: the same ones, or after a time was taken
        # meanwhile (another terminal booked it), what the book offers now.
        again = None
        with contextlib.suppress(FieldError, TmsScheduleError):
            again = _find_offers()
        problem = _problem(error)
        if taken:
            problem = f"Not booked: that time was taken meanwhile. {problem}"
            if again:
                problem += " The offers below are what the book has now."
        return _new_response(_form(), error=problem, status=409 if taken else 422, found=again)
    flash(f"Booked course {course_id}.")
    if waiting is not None:
        flash(f"{waiting.label} is off the waiting list (booked as {course_id}).")
    return redirect(url_for("course", course_id=course_id), 303)


def _waiting_entry(book: DeskBook) -> WaitingEntry | None:
    """The waiting list's entry a booking is for (the form's ``waiting``), if any."""
    if not request.form.get("waiting", "").strip():
        return None
    number = int_field(request.form, "waiting", "Waiting list entry", 1, 10**9)
    for entry in book.waiting():
        if entry.number == number:
            return entry
    raise FieldError("waiting", "Waiting list entry", f"no patient {number} is waiting")


def _patient(book: DeskBook, course_id: str | None) -> list[str]:
    """The course a new one follows and every course linked to it by ``follows`` (one
    patient's), for a change that checks they never overlap."""
    if course_id is None:
        return []
    found: set[str] = set()
    todo = [course_id]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.add(current)
        before = book.course(current).follows
        todo.extend([before] if before is not None else [])
        todo.extend(book.following(current))
    return sorted(found)


# -- closures and call lists ------------------------------------------------------------------------


def closures() -> Reply:
    return _closures_response({})


def _closures_response(
    form: dict[str, str],
    *,
    error: str | None = None,
    status: int = 200,
    preview: dict[str, Any] | None = None,
    block: bool = False,
) -> Reply:
    """The closures page; with ``block``, the form asks how an SNT block the closure
    falls in goes on (it shows too once a choice is in the form)."""
    book = desk().book
    defaults = {
        "first": _today().isoformat(),
        "last": "",
        "reason": "",
        "chair": "",
        "hours": "",
        "block": "",
    }
    return _page(
        "closures.html",
        status,
        form={**defaults, **form},
        events=list(reversed(book.events())),
        chairs=book.state().chairs,
        error=error,
        preview=preview,
        ask_block=block or bool(form.get("block")),
        title="Closures",
    )


@attrs.frozen
class _Closure:
    first: dt.date
    last: dt.date
    reason: str
    chair: str | None
    hours: str | None
    block: str | None  # the clinician's choice where the closure falls inside an SNT block


def _closure_from_form() -> _Closure:
    book = desk().book
    first = date_field(request.form, "first", "First day")
    last = date_field(request.form, "last", "Last day") if request.form.get("last") else first
    if last < first:
        raise FieldError("last", "Last day", f"must be on or after the first day ({first})")
    if (last - first).days > 92:
        raise FieldError("last", "Last day", "at most 92 days after the first day")
    if last < _today():
        raise FieldError("first", "First day", f"{last} has passed (today is {_today()})")
    reason = text_field(request.form, "reason", "Reason", limit=200)
    chair = request.form.get("chair") or None
    if chair is not None:
        choice_field(request.form, "chair", "Chair", [c.id for c in book.state().chairs])
    hours = request.form.get("hours", "").strip() or None
    if hours is not None and not re.fullmatch(r"\d{1,2}:\d{2}-\d{1,2}:\d{2}", hours):
        raise FieldError("hours", "Hours", f"must be written 12:00-14:00, got {hours[:40]!r}")
    for event in book.events():
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
    block = None
    if request.form.get("block"):
        block = choice_field(request.form, "block", "Accelerated block", BlockBreakError.choices)
    return _Closure(first, last, reason, chair, hours, block)


def _closing(closure: _Closure) -> dict[str, Any]:
    """The store's change for a closure: the courses with sessions those days, every event."""
    return {
        "days": (closure.first, closure.last),
        "events": True,
        "since": min(closure.first, _today()),
        "now": _now(),
        "actor": _who(),
        "action": "closure",
    }


def _enter(book: Book, closure: _Closure) -> tuple[Book, EventReport]:
    return book.enter_closure(
        closure.first,
        closure.last,
        reason=closure.reason,
        now=_now(),
        chair=closure.chair,
        hours=closure.hours,
        block=closure.block,
    )


def _call_rows(book: Book, report: EventReport) -> list[dict[str, str]]:
    """Who to call: each session the event moves (course ids: labels and phones are looked
    up when the list is shown, so a corrected phone number shows), and those that only
    change chair."""
    names = book.chair_names()
    rows = [
        _change_row(entry.course_id, change)
        for entry in report.courses
        for change in _by_event(entry.course, entry.changes)
    ]
    for entry in report.courses:
        for number, start, old, new in entry.chairs:
            what = f"same time, now on {names.get(new, new)} (was {names.get(old, old)})"
            rows.append(
                _row(entry.course_id, number, short_moment(start), short_moment(start), what)
            )
    return rows


def _row(course_id: str, number: int, old: str, new: str, what: str) -> dict[str, str]:
    return {"course_id": course_id, "session": str(number), "old": old, "new": new, "what": what}


def _change_row(course_id: str, change: Any) -> dict[str, str]:
    return _row(
        course_id,
        change.session,
        short_moment(change.old) if change.old else "",
        short_moment(change.new) if change.new else "",
        str(change),
    )


def close_preview() -> Reply:
    require("close")
    return _close_preview(None, 200)


def _close_preview(note: str | None, status: int) -> Reply:
    version = desk().book.version()
    try:
        closure = _closure_from_form()
        with desk().book.trial(**_closing(closure)) as change:
            after, report = _enter(change.before, closure)
    except BlockBreakError as error:  # the clinician chooses, then previews again
        return _closures_response(_form(), error=_problem(error), status=422, block=True)
    except (FieldError, TmsScheduleError) as error:
        return _closures_response(_form(), error=_problem(error), status=422)
    rows = _with_people(_call_rows(after, report))
    preview = {
        "rows": rows,
        "groups": _by_patient(rows),
        "describe": report.event.describe(),
        "version": version,
    }
    return _closures_response(_form(), preview=preview, error=note, status=status)


def close() -> Reply:
    require("close")
    if request.form.get("version") != str(desk().book.version()):
        return _close_preview(
            "The book changed since the preview: here it is again. Nothing was changed.", 409
        )
    try:
        closure = _closure_from_form()
        with desk().book.change(**_closing(closure)) as change:
            change.book, report = _enter(change.before, closure)
            change.detail = f"event {report.event.number}: {report.event.describe()}"
    except (FieldError, TmsScheduleError) as error:
        return _closures_response(_form(), error=_problem(error), status=422)
    flash(f"Event {report.event.number} entered: {len(report.courses)} course(s) changed.")
    return redirect(url_for("calls", event=report.event.number), 303)


def _with_people(rows: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    listed = list(rows)
    found = desk().book.details(r["course_id"] for r in listed)
    out = []
    for row in listed:
        person = found.get(row["course_id"])
        label = person.label if person else row["course_id"]
        phone = (person.phone or "") if person else ""
        out.append({**row, "label": label, "phone": phone})
    return out


def _by_patient(rows: list[dict[str, str]]) -> list[tuple[str, list[dict[str, str]]]]:
    """The rows of each course together, in the order the courses first come."""
    groups: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault(row["course_id"], []).append(row)
    return list(groups.items())


def _event_or_404(event: int) -> Any:
    found = next((e for e in desk().book.events() if e.number == event), None)
    if found is None:
        abort(_missing(f"closure number {event}"))
    return found


def _event_calls(event: Any) -> list[dict[str, str]]:
    """The call list of an event: what its re-plan changed in each course (the revision
    it made against the one before), whatever happened since."""
    rows = []
    for course_id, number in event.revisions:
        try:
            course = desk().book.course(course_id)
        except TmsScheduleError:
            continue  # the course is gone from the book
        changes = diff(
            course.revision_schedule(number - 1),
            course.revision_schedule(number),
            course.records,
            dict(course.revisions[number].reasons),
        )
        rows += [_change_row(course_id, change) for change in _by_event(course, changes)]
    return _with_people(rows)


def _by_event(course: Course, changes: Iterable[Any]) -> list[Any]:
    """The changes a closure's re-plan made: sessions it moved, added or took out, not
    what the course's own records did meanwhile (a miss, a move by hand: the patient
    knows of those already)."""
    voided = {r.voids for r in course.records if r.kind == "void"}
    by_hand = {
        r.session: r.note or "by hand"
        for i, r in enumerate(course.records)
        if r.kind == "moved" and i not in voided
    }
    return [
        change
        for change in changes
        if change.kind in ("moved", "added", "removed")
        and not (change.kind == "moved" and change.detail == by_hand.get(change.session))
    ]


def calls(event: int) -> Reply:
    found = _event_or_404(event)
    rows = _event_calls(found)
    return _page(
        "calls.html",
        event=found,
        rows=rows,
        groups=_by_patient(rows),
        title=f"Call list: {found.reason}",
    )


def calls_csv(event: int) -> Reply:
    found = _event_or_404(event)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CALL_COLUMNS)
    for row in _event_calls(found):
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
    found = _event_or_404(event)
    book = desk().book
    try:
        with book.change(
            courses=[course_id for course_id, _ in found.revisions],
            events=True,
            since=_today(),
            now=_now(),
            actor=_who(),
            action="undo",
        ) as change:
            change.book, report = change.book.undo(event, now=_now())
            change.detail = f"event {event} undone"
    except TmsScheduleError as error:
        return _closures_response({}, error=_problem(error), status=422)
    flash(f"Event {event} undone: {len(report.courses)} course(s) changed back.")
    return redirect(url_for("closures"), 303)


# -- the clinic at a glance, the waiting list -----------------------------------------------------------


def glance() -> Reply:
    """Chair time over the next four weeks (the heat map and the weeks, from the printed
    report's fragments), room for more courses when asked, and the waiting list's size."""
    book = desk().book
    first = _today()
    last = first + dt.timedelta(days=27)
    usage = book.usage(first, last)
    form = {k: str(v) for k, v in request.args.items()}
    room = None
    error = None
    status = 200
    if "protocol" in request.args:
        try:
            protocol = choice_field(
                request.args, "protocol", "Protocol", book.settings().catalogue.ids()
            )
            on = date_field(request.args, "on", "Start date")
            if on < first or on > first + dt.timedelta(days=366):
                raise FieldError("on", "Start date", f"must be from {first} to a year ahead")
            opens = time_field(request.args, "from", "From")
            closes = time_field(request.args, "to", "To")
            if closes < opens:
                raise FieldError("to", "To", f"must be at or after {opens:%H:%M}")
            window = book.window(since=on)
            counted = window.room_for(protocol, on, opens, closes, limit=20)
            room = room_text(counted, window.chair_names())
        except (FieldError, TmsScheduleError) as error_:
            error = _problem(error_).replace(" Nothing was changed.", "")
            status = 422
    return _page(
        "glance.html",
        status,
        usage=usage,
        heat=heat_map(usage),
        first=first,
        last=last,
        form={"on": first.isoformat(), "from": "09:00", "to": "12:00", **form},
        protocols=_protocol_choices(),
        room=room,
        error=error,
        title="The clinic at a glance",
        waiting=book.waiting(),
    )


#: How many entries of the waiting list the desk looks for a place for at once (each is a
#: search for offers): the longest waiting first.
_PLACES_LOOKED_FOR = 10


def _place_for(book: DeskBook, entry: WaitingEntry) -> Offer | None:
    """The first place the book offers the patient: from their first day (or today), at
    their time give or take their window; None when there is none."""
    start = max(dt.date.fromisoformat(entry.earliest), _today())
    catalogue = book.settings().catalogue
    if entry.protocol not in catalogue.ids():
        return None
    try:
        window = book.window(since=start)
        found = window.offers(
            catalogue.get(entry.protocol),
            start,
            entry.at or "09:00",
            window=entry.window,
            count=1,
            now=_now(),
        )
    except TmsScheduleError:
        return None
    return found[0]


def _places_freed() -> None:
    """After chair time frees up (a course ended, a session cancelled): name the patients
    on the waiting list who have a place now, for the desk to call."""
    book = desk().book
    placed = []
    for entry in book.waiting()[:_PLACES_LOOKED_FOR]:
        offer = _place_for(book, entry)
        if offer is not None:
            placed.append(f"{entry.label} ({short_day(offer.start)} at {offer.at:%H:%M})")
    if placed:
        flash(f"A place is free for: {'; '.join(placed)}. Book it from the waiting list.")


def waiting() -> Reply:
    book = desk().book
    form: dict[str, str] = {}
    error = None
    status = 200
    if request.method == "POST":
        require("book")
        form = _form()
        try:
            label = text_field(request.form, "label", "Patient label", limit=100)
            phone = text_field(request.form, "phone", "Phone", required=False, limit=30)
            if phone and not _PHONE.fullmatch(phone):
                raise FieldError(
                    "phone", "Phone", f"digits, spaces and + ( ) - . / only, got {phone!r}"
                )
            protocol = choice_field(
                request.form, "protocol", "Protocol", book.settings().catalogue.ids()
            )
            earliest = date_field(request.form, "earliest", "From")
            at = time_field(request.form, "at", "Time wanted")
            window = 60
            if request.form.get("window", "").strip():
                window = int_field(request.form, "window", "Give or take (minutes)", 0, 240)
            note = text_field(request.form, "note", "Note", required=False, limit=300)
            entry = WaitingEntry(
                0, label, phone or None, protocol, earliest, at, window, note, _now()
            )
            book.add_waiting(entry, now=_now(), actor=_who())
        except (FieldError, TmsScheduleError) as error_:
            error = _problem(error_)
            status = 422
        else:
            flash(f"{label} is on the waiting list.")
            return redirect(url_for("waiting"), 303)
    entries = book.waiting()
    places = [
        _place_for(book, entry) if n < _PLACES_LOOKED_FOR else None
        for n, entry in enumerate(entries)
    ]
    names = book.state().chair_names()
    defaults = {"earliest": _today().isoformat(), "at": "09:00", "window": "60"}
    return _page(
        "waiting.html",
        status,
        entries=[
            (entry, dt.date.fromisoformat(entry.earliest), place, n < _PLACES_LOOKED_FOR)
            for n, (entry, place) in enumerate(zip(entries, places, strict=True))
        ],
        names=names,
        form={**defaults, **form},
        protocols=_protocol_choices(),
        error=error,
        title="Waiting list",
    )


def waiting_remove(entry: int) -> Reply:
    require("book")
    try:
        desk().book.set_waiting(entry, "removed", now=_now(), actor=_who())
    except TmsScheduleError as error:
        flash(_problem(error))
    return redirect(url_for("waiting"), 303)


def waiting_offered(entry: int) -> Reply:
    """The desk has called the patient and offered the place: the list says so."""
    require("book")
    try:
        desk().book.set_waiting(entry, "offered", now=_now(), actor=_who())
    except TmsScheduleError as error:
        flash(_problem(error))
    return redirect(url_for("waiting"), 303)


# -- search ------------------------------------------------------------------------------------------


def search() -> Reply:
    text = request.args.get("q", "")[:100]
    found = desk().book.find(text)
    if len(found) == 1:
        return redirect(url_for("course", course_id=found[0].course_id), 303)
    return _page("search.html", q=text, rows=found, title="Search")


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
            desk().book.add_user(name, role, hash_password(password), now=_now(), actor=_who())
        except (FieldError, TmsScheduleError) as error_:
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
        desk().book.remove_user(name, now=_now(), actor=_who())
    except TmsScheduleError as error:
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
        desk().book.set_password(name, hash_password(password), now=_now(), actor=_who())
    except TmsScheduleError as error:
        flash(_problem(error))
    else:
        flash(f"Password of {name} changed: their other sessions are signed out.")
    return redirect(url_for("users"), 303)
