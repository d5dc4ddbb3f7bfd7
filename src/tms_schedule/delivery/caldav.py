"""CalDAV: a course as one calendar object per session, pushed to a calendar collection.

Clinics whose staff (or patients) use a CalDAV server (Nextcloud, Radicale, Fastmail, iCloud,
SOGo, ...) can have the course there as ordinary events that every CalDAV client syncs:

* :func:`session_objects` writes each session as its own calendar object resource (RFC 4791
  §4.1: one UID per resource, no METHOD, so no ORGANIZER either), named ``<UID>.ics``, with
  the UID, SEQUENCE, STATUS, title and reminders of the course's calendar file
  (:func:`~tms_schedule.export.ics.schedule_to_ics`), so the event in a CalDAV calendar,
  in an imported file and in a feed are one and the same appointment;
* :func:`push` brings a collection up to date with the course, through the ``caldav`` client
  library (the ``caldav`` extra: ``pip install '.[caldav]'`` in a checkout): it reads the
  course's objects already there in one ``calendar-multiget`` REPORT, creates the missing
  ones (``If-None-Match: *``), updates those that differ (``If-Match`` with the ETag it read,
  so a change made on the server meanwhile is not overwritten: the push stops and says
  so), and leaves the rest alone. Pushing twice changes nothing; after a re-plan only the
  sessions that changed are written, each with its higher SEQUENCE.

Cancelled and missed sessions follow the same choice as feeds: ``cancelled="keep"`` (the
default) writes them as ``STATUS:CANCELLED`` ("Cancelled: Appointment"), ``"drop"`` deletes
their objects (``If-Match`` too). Nothing else in the collection is touched: only the UIDs
of the course's own sessions are looked at, so the collection may be a patient's or a
clinic's calendar holding other events.

Whether an object "differs" is decided on its content, not its bytes: servers store
calendar data in their own form (Radicale sorts the properties, for one), so both sides
are read with icalendar and compared line by line, DTSTAMP left out (it says when the copy
was made, not what it says).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

import attrs

from tms_schedule.delivery.feed import CANCELLED_CHOICES
from tms_schedule.errors import CalDavPushError
from tms_schedule.export.ics import schedule_to_ics
from tms_schedule.export.options import CalendarOptions
from tms_schedule.export.uid import session_uid
from tms_schedule.schedule import Schedule

if TYPE_CHECKING:
    from tms_schedule.course import Course

__all__ = ["CalendarObject", "PushResult", "push", "session_objects"]


@attrs.frozen
class CalendarObject:
    """One session as a CalDAV calendar object resource.

    Attributes:
        name: the resource's name in the collection, ``<UID>.ics``.
        uid: the event's UID (the same as in the course's calendar file).
        course_id: the course the session belongs to.
        number: the session's number in its course.
        status: the session's status (``scheduled``, ``attended``, ``missed``, ``cancelled``).
        sequence: the event's SEQUENCE.
        data: the iCalendar bytes: one VEVENT and its VTIMEZONE.
    """

    name: str
    uid: str
    course_id: str
    number: int
    status: str
    sequence: int
    data: bytes = attrs.field(repr=False)

    @property
    def active(self) -> bool:
        """Whether the session still takes place (scheduled or attended)."""
        return self.status in ("scheduled", "attended")


def _schedules(courses: Any) -> list[Schedule]:
    if isinstance(courses, Schedule) or hasattr(courses, "schedule"):
        courses = [courses]
    if not isinstance(courses, Iterable):
        raise CalDavPushError(
            f"courses: must be a Course, a Schedule or a list of them, got {courses!r}"
        )
    schedules = []
    for course in courses:
        schedule = course if isinstance(course, Schedule) else getattr(course, "schedule", None)
        if not isinstance(schedule, Schedule):
            raise CalDavPushError(f"courses: each must be a Course or a Schedule, got {course!r}")
        schedules.append(schedule)
    if not schedules:
        raise CalDavPushError("courses: give at least one course")
    return schedules


def session_objects(
    courses: Course | Schedule | Iterable[Course | Schedule],
    options: CalendarOptions | None = None,
    *,
    stamp: dt.datetime,
) -> list[CalendarObject]:
    """Every session of the courses as its own calendar object, in course order.

    Args:
        courses: a course (or schedule), or a patient's courses.
        options: the clinic's calendar choices, as for its calendar files (the ``uid_key``
            above all); an organizer is left out (a calendar collection holds no iTIP
            METHOD, RFC 4791 §4.1).
        stamp: the time the objects are made (DTSTAMP).

    >>> import datetime as dt
    >>> from tms_schedule import ClinicCalendar, Plan
    >>> schedule = Plan("itbs", ClinicCalendar("Europe/Berlin"), "2026-11-16", "09:00", "c-1").expand()
    >>> objects = session_objects(schedule, stamp=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    >>> len(objects), objects[0].name == objects[0].uid + ".ics", objects[0].data.count(b"BEGIN:VEVENT")
    (30, True, 1)
    """
    options = options or CalendarOptions()
    if not isinstance(options, CalendarOptions):
        raise CalDavPushError(f"options: must be CalendarOptions, got {options!r}")
    options = attrs.evolve(options, organizer=None, refresh=None)
    for course in courses if isinstance(courses, list | tuple) else [courses]:
        if hasattr(course, "check_uid_key"):
            course.check_uid_key(options.uid_key)  # another key would change every UID
    objects = []
    for schedule in _schedules(courses):
        for session in schedule.sessions:
            uid = session_uid(schedule.course_id, session.number, options.uid_key)
            data = schedule_to_ics(schedule, options, stamp=stamp, only=session.number)
            objects.append(
                CalendarObject(
                    f"{uid}.ics",
                    uid,
                    schedule.course_id,
                    session.number,
                    session.status,
                    session.sequence + (session.renumbered if options.session_numbers else 0),
                    data,
                )
            )
    return objects


@attrs.frozen
class PushResult:
    """What a push did, by resource name (``<UID>.ics``).

    Attributes:
        created: objects that were not in the collection.
        updated: objects whose content differed (a moved, re-planned or cancelled session).
        unchanged: objects already as the course says.
        removed: objects of cancelled sessions deleted (``cancelled="drop"``).
    """

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether the push wrote or deleted anything."""
        return bool(self.created or self.updated or self.removed)

    def __str__(self) -> str:
        """``36 sessions: 2 created, 1 updated, 33 unchanged``."""
        total = len(self.created) + len(self.updated) + len(self.unchanged) + len(self.removed)
        parts = [
            f"{len(self.created)} created",
            f"{len(self.updated)} updated",
            f"{len(self.unchanged)} unchanged",
        ]
        if self.removed:
            parts.append(f"{len(self.removed)} removed")
        return f"{total} session{'' if total == 1 else 's'}: " + ", ".join(parts)


def push(
    courses: Course | Schedule | Iterable[Course | Schedule],
    calendar: Any,
    *,
    stamp: dt.datetime,
    options: CalendarOptions | None = None,
    cancelled: Literal["keep", "drop"] = "keep",
    username: str | None = None,
    password: str | None = None,
    timeout: float = 30,
) -> PushResult:
    """Bring a CalDAV collection up to date with the courses (see the module).

    Args:
        courses: a course (or schedule), or a patient's courses.
        calendar: the collection's URL (``https://dav.clinic.example/desk/appointments/``),
            or a ``caldav.Calendar`` the caller has set up.
        stamp: the time of the push (DTSTAMP of what is written).
        options: the clinic's calendar choices, as for its calendar files.
        cancelled: ``"keep"`` writes cancelled and missed sessions as cancelled events;
            ``"drop"`` deletes them from the collection.
        username, password: the server's credentials (with a URL).
        timeout: seconds to wait for each answer of the server.

    Raises:
        CalDavPushError: the ``caldav`` extra is missing; the server cannot be reached,
            refuses the credentials or a request; an object changed on the server since
            it was read (push again).
    """
    if cancelled not in CANCELLED_CHOICES:
        raise CalDavPushError(f"cancelled: must be 'keep' or 'drop', got {cancelled!r}")
    objects = session_objects(courses, options, stamp=stamp)
    try:
        import caldav
        from caldav.lib import error as dav_error
    except ImportError:
        raise CalDavPushError(
            "caldav: pushing to a CalDAV server needs the caldav library: install"
            " tms_schedule with the 'caldav' extra (pip install '.[caldav]' in a checkout)"
        ) from None
    collection = _collection(caldav, calendar, username, password, timeout)
    where = str(getattr(collection, "url", calendar))
    try:
        return _push(caldav, dav_error, collection, objects, cancelled)
    except CalDavPushError:
        raise
    except dav_error.AuthorizationError:
        raise CalDavPushError(
            f"calendar: {where} refused the credentials (check the user name and password)"
        ) from None
    except dav_error.DAVError as problem:
        raise CalDavPushError(f"calendar: {where} refused a request ({_said(problem)})") from None
    except OSError as problem:  # the HTTP library's connection errors are OSErrors too
        raise CalDavPushError(f"calendar: cannot reach {where} ({_why(problem)})") from None
    except _UNREADABLE as problem:
        # What the library raises on an answer it cannot read: XML that is malformed,
        # nested too deeply or an entity bomb (lxml refuses them), or not what CalDAV
        # answers at all (the library then trips over what is missing).
        raise CalDavPushError(
            f"calendar: {where} sent an answer that is not CalDAV ({_said(problem)})"
        ) from None


#: What a server that is not CalDAV (a network's sign-in page) answers an upload with.
_WEB_PAGES = ("text/html", "application/xhtml+xml")
# SyntaxError covers lxml's XMLSyntaxError; ValueError a calendar object that is not one.
_UNREADABLE = (
    SyntaxError,
    ValueError,
    AttributeError,
    TypeError,
    KeyError,
    IndexError,
    RecursionError,
)


def _said(problem: BaseException) -> str:
    text = " ".join(str(problem).split())
    return text[:200] if text else type(problem).__name__


def _why(problem: OSError) -> str:
    """Why a server could not be reached, in a few words (the library's text is long)."""
    text = str(problem).lower()
    for words, reason in (
        (("refused",), "connection refused"),
        (("timed out", "timeout"), "no answer in time"),
        (("name or service", "resolve", "getaddrinfo", "nodename"), "unknown host name"),
        (("certificate", "ssl", "tls"), "the TLS connection failed"),
    ):
        if any(word in text for word in words):
            return reason
    return problem.strerror or type(problem).__name__


def _collection(
    caldav: Any, calendar: Any, username: str | None, password: str | None, timeout: float
) -> Any:
    if isinstance(calendar, caldav.Calendar):
        return calendar
    if not isinstance(calendar, str) or not calendar.startswith(("https://", "http://")):
        raise CalDavPushError(
            "calendar: must be the collection's http:// or https:// address (or a"
            f" caldav.Calendar), got {calendar!r}"
        )
    url = calendar if calendar.endswith("/") else calendar + "/"
    client = caldav.DAVClient(url=url, username=username, password=password, timeout=timeout)
    return client.calendar(url=url)


def _push(
    caldav: Any, dav_error: Any, collection: Any, objects: list[CalendarObject], cancelled: str
) -> PushResult:
    urls = {o.name: collection.url.join(o.name) for o in objects}
    found: dict[str, Any] = {}
    for item in collection.multiget(list(urls.values()), raise_notfound=False):
        if item.data:
            found[str(item.url).rstrip("/").rsplit("/", 1)[-1]] = item
    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    removed: list[str] = []
    for obj in objects:
        there = found.get(obj.name)
        if cancelled == "drop" and not obj.active:
            if there is not None:
                _delete(dav_error, there, obj)
                removed.append(obj.name)
            continue
        if there is None:
            there = _create(caldav, dav_error, collection, urls[obj.name], obj)
            if there is None:
                created.append(obj.name)
                continue
        if _content(there.data) == _content(obj.data):
            unchanged.append(obj.name)
            continue
        try:
            there.save(raw_data=obj.data)  # If-Match: the ETag read with it
        except dav_error.ETagMismatchError:
            raise CalDavPushError(
                f"session {obj.number} of course {obj.course_id} ({obj.name}) changed on the"
                " server since it was read; push again"
            ) from None
        updated.append(obj.name)
    return PushResult(tuple(created), tuple(updated), tuple(unchanged), tuple(removed))


def _create(caldav: Any, dav_error: Any, collection: Any, url: Any, obj: CalendarObject) -> Any:
    """PUT a new object with ``If-None-Match: *`` (RFC 9110 §13.1.2): it is created only if
    nothing is there. When something is (created meanwhile), or another resource of the
    collection already holds the UID (a client filed the event under its own name), that
    object is returned, to be compared and updated in place rather than duplicated."""
    headers = {"If-None-Match": "*", "Content-Type": "text/calendar; charset=utf-8"}
    answer = collection.client.put(str(url), obj.data.decode("utf-8"), headers)
    if answer.status in (200, 201, 204):
        kind = str(answer.headers.get("Content-Type", "")).split(";")[0].strip().lower()
        if kind in _WEB_PAGES:
            # A CalDAV server answers an upload with nothing, or a few words; a web page
            # is what a network's sign-in page (a captive portal) sends to every request.
            raise CalDavPushError(
                f"calendar: {collection.url} answered the upload of session {obj.number} of"
                f" course {obj.course_id} with a web page (HTTP {answer.status}, {kind}), not"
                " as a CalDAV server does: a network's sign-in page? Sign in to the network"
                " in a browser, or check the calendar's address; nothing was pushed after it"
            )
        return None
    if answer.status == 412:  # created meanwhile: compare with it
        return caldav.Event(collection.client, url=url, parent=collection).load()
    if answer.status in (403, 409):  # RFC 4791 §5.3.2.1 no-uid-conflict, most likely
        try:
            return collection.get_object_by_uid(obj.uid)
        except dav_error.NotFoundError:
            pass
    raise CalDavPushError(
        f"session {obj.number} of course {obj.course_id} ({obj.name}): the server refused"
        f" to create it (HTTP {answer.status} {answer.reason})"
    )


def _delete(dav_error: Any, there: Any, obj: CalendarObject) -> None:
    try:
        there.delete(if_match=True)
    except dav_error.ETagMismatchError:
        raise CalDavPushError(
            f"session {obj.number} of course {obj.course_id} ({obj.name}) changed on the"
            " server since it was read; push again"
        ) from None


def _content(data: str | bytes) -> list[str]:
    """The event's content lines as icalendar writes them, sorted, DTSTAMP left out."""
    from icalendar import Calendar

    text = data.encode("utf-8") if isinstance(data, str) else data
    lines: list[str] = []
    for component in Calendar.from_ical(text).walk():
        if component.name not in ("VEVENT", "VALARM"):
            continue
        for name, value in component.property_items(recursive=False):
            if name in ("DTSTAMP", "BEGIN", "END"):
                continue
            prop: Any = value  # an icalendar property value: to_ical() and params
            lines.append(
                f"{component.name}:{name}:{prop.to_ical()!r}:{sorted(prop.params.items())}"
            )
    return sorted(lines)
