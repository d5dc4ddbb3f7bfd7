"""What the front office keeps beside the courses: who the patients are, who works the
desk, who changed what, and who is waiting for a place.

These are values the store (:mod:`tms_schedule.book.store`) reads and writes; the store
keeps them per site, beside the book. Patient details (a label the clinic chooses, a phone
number, an e-mail address) are for the front desk's pages and call lists only: no calendar
file, feed, FHIR resource, CSV or JSON export and no log line ever carries them.

Free text is checked once, here, by the rules every reader applies: one line, no control
characters, a bounded length; whatever is accepted is read back the same.

>>> PatientDetails("c-1", "A. Example", phone="+1 303 555 0100").label
'A. Example'
>>> User("ann", "front-desk", "$argon2id$v=19$...", "2026-12-07T09:00:00+00:00").role
'front-desk'
>>> User("ann", "boss", "x", "2026-12-07T09:00:00+00:00")
Traceback (most recent call last):
...
tms_schedule.errors.BookError: role: must be front-desk, technician, clinician or admin, got 'boss'
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import attrs

from tms_schedule._validate import check_text
from tms_schedule.errors import BookError

__all__ = [
    "ROLES",
    "WAITING_STATES",
    "AuditEntry",
    "CourseLine",
    "PatientDetails",
    "SessionRow",
    "User",
    "WaitingEntry",
    "one_line",
]

#: What a user of the front desk may be, from least to most rights.
ROLES = ("front-desk", "technician", "clinician", "admin")
#: Where a patient on the waiting list stands.
WAITING_STATES = ("waiting", "offered", "booked", "removed")

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


def one_line(value: Any, field: str, *, limit: int = 200, empty: bool = False) -> str:
    """``value`` as one line of text: a string without control characters or line and
    paragraph separators, at most ``limit`` characters; refused otherwise (the same rule
    for what is written and what is read back: the foundation's one check of free text).

    >>> one_line("Snow day", "reason")
    'Snow day'
    >>> one_line("Snow\\tday", "reason")
    Traceback (most recent call last):
    ...
    tms_schedule.errors.BookError: reason: must be one line of text without control characters (no tab or line break), got 'Snow\\tday'
    """
    return check_text(value, field, BookError, limit=limit, blank=empty)


def _course_id(value: Any) -> str:
    return one_line(value, "course_id", limit=64)


def _label(value: Any) -> str:
    return one_line(value, "label", limit=120)


def _phone(value: Any) -> str | None:
    return None if value is None else one_line(value, "phone", limit=40)


def _email(value: Any) -> str | None:
    return None if value is None else one_line(value, "email", limit=254)


def _hash(value: Any) -> str:
    return one_line(value, "password_hash", limit=512)


def _protocol(value: Any) -> str:
    return one_line(value, "protocol", limit=64)


def _note(value: Any) -> str:
    return one_line(value, "note", limit=500, empty=True)


def _created(value: Any) -> str:
    return _moment_text(value, "created")


def _moment_text(value: Any, field: str) -> str:
    if isinstance(value, dt.datetime):
        if value.utcoffset() is None:
            raise BookError(f"{field}: must be an aware moment, got {value!r}")
        return value.astimezone(dt.UTC).isoformat(timespec="seconds")
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.utcoffset() is not None:
            return value
    raise BookError(f"{field}: must be a moment with its offset, got {value!r}")


@attrs.frozen
class PatientDetails:
    """Who a course is for, as the front desk knows them.

    Attributes:
        course_id: the course.
        label: what the clinic calls the patient (a name, initials, a chart number).
        phone: a phone number for the call list, if any.
        email: an e-mail address, if any.
    """

    course_id: str = attrs.field(converter=_course_id)
    label: str = attrs.field(converter=_label)
    phone: str | None = attrs.field(default=None, converter=_phone)
    email: str | None = attrs.field(default=None, converter=_email)

    def __attrs_post_init__(self) -> None:
        if self.phone is not None and not re.fullmatch(r"[0-9+() ./-]{3,40}", self.phone):
            raise BookError(
                f"phone: digits, spaces and + ( ) . / - only, 3 to 40 of them, got {self.phone!r}"
            )
        if self.email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+", self.email):
            raise BookError(f"email: must be an address like name@example.org, got {self.email!r}")


def _role(value: Any) -> str:
    if value not in ROLES:
        raise BookError(f"role: must be {', '.join(ROLES[:-1])} or {ROLES[-1]}, got {value!r}")
    return str(value)


def _user_name(value: Any) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise BookError(
            "name: 1 to 64 letters, digits and . _ @ - (starting with a letter or digit),"
            f" got {value!r}"
        )
    return value


@attrs.frozen
class User:
    """One person who signs in to the front desk.

    Attributes:
        name: what they sign in with.
        role: ``front-desk``, ``technician``, ``clinician`` or ``admin`` (see :data:`ROLES`).
        password_hash: the hash of their password, as the front desk made it (the store
            keeps the string; it never sees a password).
        created: when the user was added (UTC, ISO 8601).
    """

    name: str = attrs.field(converter=_user_name)
    role: str = attrs.field(converter=_role)
    password_hash: str = attrs.field(converter=_hash, repr=False)
    created: str = attrs.field(converter=_created)


@attrs.frozen
class AuditEntry:
    """One change of the book, as the audit trail keeps it.

    Attributes:
        number: 1, 2, ... per site.
        version: the site's version the change made.
        at: when (UTC, ISO 8601).
        actor: who (a front-desk user, or the computer's user on the command line).
        action: what kind of change (``record``, ``take``, ``closure``, ``user add``, ...).
        course_id: the course it changed, if one.
        session: the session it was about, if one.
        detail: a short description, without patient details.
    """

    number: int
    version: int
    at: str
    actor: str
    action: str
    course_id: str | None
    session: int | None
    detail: str


def _waiting_state(value: Any) -> str:
    if value not in WAITING_STATES:
        raise BookError(
            f"state: must be {', '.join(WAITING_STATES[:-1])} or {WAITING_STATES[-1]},"
            f" got {value!r}"
        )
    return str(value)


def _at(value: Any) -> str | None:
    if value is None:
        return None
    text = value.strftime("%H:%M") if isinstance(value, dt.time) else value
    if not isinstance(text, str) or not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", text):
        raise BookError(f"at: must be a time written 09:00, got {value!r}")
    return text


def _day(value: Any) -> str:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise BookError(f"earliest: must be a date written 2026-11-16, got {value!r}")


def _window(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 720:
        raise BookError(f"window: must be a whole number of minutes from 0 to 720, got {value!r}")
    return value


@attrs.frozen
class WaitingEntry:
    """A patient waiting for a place, and the time they want.

    Attributes:
        number: 1, 2, ... per site (0 for an entry not yet kept).
        label: what the clinic calls the patient.
        phone: a phone number to call when a place frees up, if any.
        protocol: the protocol the course would be.
        earliest: the first day the patient can start (``YYYY-MM-DD``).
        at: the time of day wanted (``HH:MM``), if any.
        window: give or take, in minutes.
        note: anything else the desk wants to remember.
        created: when the entry was made (UTC, ISO 8601).
        state: ``waiting``, ``offered``, ``booked`` or ``removed``.
    """

    number: int
    label: str = attrs.field(converter=_label)
    phone: str | None = attrs.field(converter=_phone)
    protocol: str = attrs.field(converter=_protocol)
    earliest: str = attrs.field(converter=_day)
    at: str | None = attrs.field(converter=_at)
    window: int = attrs.field(converter=_window)
    note: str = attrs.field(converter=_note)
    created: str = attrs.field(converter=_created)
    state: str = attrs.field(default="waiting", converter=_waiting_state)


@attrs.frozen
class SessionRow:
    """One session as the store keeps it for views that read many at once (a day, a
    week): enough for the day sheet without reading the course.

    Attributes:
        course_id: the course.
        number: the session's number in the course.
        phase: the protocol phase.
        phase_number: its number within the phase.
        day: its local date.
        start: its local start (in the clinic's zone).
        end: its local end.
        status: ``scheduled``, ``attended``, ``missed`` or ``cancelled``.
        chair: the chair it holds, if any.
        place: its place among the sessions that count (12 in "12 of 36"), if it counts.
        target: the sessions the course delivers (36 in "12 of 36").
        block: whether its day holds the chair from the first session to the last
            (accelerated days, maintenance clusters).
        protocol_id: the course's protocol.
        protocol_name: its name.
        cpt: the billing code, if the course assigns one.
        milestones: what is due at it.
        stamp: the site's version when it last changed: an action on it that names an
            older stamp is refused (someone changed it meanwhile).
    """

    course_id: str
    number: int
    phase: str
    phase_number: int
    day: dt.date
    start: dt.datetime
    end: dt.datetime
    status: str
    chair: str | None
    place: int | None
    target: int
    block: bool
    protocol_id: str
    protocol_name: str
    cpt: str | None
    milestones: tuple[str, ...]
    stamp: int


@attrs.frozen
class CourseLine:
    """A course as ``book list`` shows it, read without its document.

    Attributes:
        course_id: the course.
        protocol_id: its protocol.
        progress: ``36 sessions: 3 delivered, 33 to come``.
        chairs: the chairs its sessions hold, by id.
        follows: the course it follows, if any.
        first_day: the local date of its first session.
        last_day: and of its last one.
        stamp: the site's version when it last changed.
    """

    course_id: str
    protocol_id: str
    progress: str
    chairs: tuple[str, ...]
    follows: str | None
    first_day: dt.date
    last_day: dt.date
    stamp: int
