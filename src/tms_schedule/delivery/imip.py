"""Invitations and cancellations by e-mail, one session at a time (iMIP, RFC 6047).

When one session changes, the clinic mails the patient a calendar message about that session
alone: an invitation (iTIP ``METHOD:REQUEST``, RFC 5546) when it is booked or moved, a
cancellation (``METHOD:CANCEL``) when it will not take place. Mail clients (Outlook, Gmail,
Apple Mail, Thunderbird) read such a message and add, move or remove the event in the
patient's calendar.

What a message holds, and why:

* one VCALENDAR with exactly one VEVENT, written by the calendar export
  (:func:`~tms_schedule.export.ics.schedule_to_ics`), so it says what the course's ``.ics``
  file says: the **same UID** (the invitation updates the event the file added, and the file
  updates the event the invitation added), the same times and VTIMEZONE, the same neutral
  text ("Appointment — <clinic>") and reminders;
* ``SEQUENCE`` from the session. A course raises it each time it moves a session or
  records it missed or cancelled (:meth:`~tms_schedule.Course.moved`,
  :meth:`~tms_schedule.Course.cancelled`, :meth:`~tms_schedule.Course.replan`), so an
  invitation after a move, and a cancellation after an invitation, carry a higher SEQUENCE
  than the message before them, which is what clients compare (RFC 5546 §2.1.5). A
  cancellation is only built for a session the course has cancelled or recorded missed;
* ``ORGANIZER`` (the clinic's address, named after the clinic when it gives a name) and one
  ``ATTENDEE`` (the patient's address, an optional name, ``PARTSTAT=NEEDS-ACTION``, and
  ``RSVP`` as asked), as RFC 5546 requires of REQUEST and CANCEL; ``STATUS:CANCELLED`` and
  no reminders on a cancellation;
* a short neutral text/plain part for mail readers that show no calendar, then the
  ``text/calendar; method=REQUEST|CANCEL; charset=UTF-8`` part (its ``method`` equals the
  METHOD line: Outlook rejects the message otherwise), and the same calendar attached as
  ``invite.ics`` for clients that only offer attachments; the calendar parts are base64, so
  their CRLF line ends reach the client exactly as written;
* From (the organizer), To (the attendee), a neutral Subject and a Date from ``stamp``. No
  Message-ID: the clinic's mail system adds one when it sends the message.

Nothing is sent: :func:`invite` and :func:`cancellation` return an
:class:`email.message.EmailMessage`, which the clinic's mail system sends (for example with
:meth:`smtplib.SMTP.send_message`). A cancelled session is worth a phone call too: several
clients do nothing with a cancellation (see the calendar-files page of the documentation).
"""

from __future__ import annotations

import datetime as dt
import email.utils
from email.headerregistry import Address
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

import attrs

from tms_schedule._dates import long_day, short_moment
from tms_schedule._validate import check_text, is_whole
from tms_schedule.errors import InvitationError
from tms_schedule.export.ics import schedule_to_ics
from tms_schedule.export.options import CalendarOptions, is_email
from tms_schedule.export.uid import session_uid
from tms_schedule.schedule import Schedule, Session

if TYPE_CHECKING:
    from tms_schedule.course import Course

__all__ = ["ATTACHMENT_NAME", "cancellation", "invite"]

#: The file name of the attached calendar (neutral, like every name a patient sees).
ATTACHMENT_NAME = "invite.ics"
_DASH = "\N{EN DASH}"


def invite(
    source: Schedule | Course,
    session: int,
    *,
    attendee: str,
    stamp: dt.datetime,
    organizer: str | None = None,
    attendee_name: str | None = None,
    rsvp: bool = False,
    options: CalendarOptions | None = None,
    subject: str | None = None,
) -> EmailMessage:
    """An e-mail inviting the patient to one session (``METHOD:REQUEST``).

    Send it when a session is booked, and again when it moves: the course raised the
    session's SEQUENCE, so the patient's calendar moves the event rather than adding one.

    Args:
        source: the course (or its schedule) the session belongs to.
        session: the session's number; the session must still be scheduled.
        attendee: the patient's e-mail address (ATTENDEE and To).
        stamp: when the message is made (timezone-aware): DTSTAMP and the Date header.
        organizer: the clinic's address (ORGANIZER and From); default ``options.organizer``.
        attendee_name: the name to address the patient by (CN and To), if the clinic wants
            one in the message.
        rsvp: ask the patient's client to reply with accept or decline (``RSVP=TRUE``). Off
            by default: turn it on only if something reads the replies sent to the organizer.
        options: the clinic's calendar choices (name, location, phone, reminders, UID key),
            the same as for its calendar files.
        subject: the Subject; default "Appointment — <clinic>, <day and time>".

    Raises:
        InvitationError: an address that is not one, a session the course does not have or
            that is not scheduled, a bad name, subject or stamp.

    >>> import datetime as dt
    >>> from tms_schedule import ClinicCalendar, Plan
    >>> schedule = Plan("itbs", ClinicCalendar("Europe/Berlin"), "2026-11-16", "09:00", "c-1").expand()
    >>> message = invite(schedule, 1, organizer="desk@clinic.example",
    ...                  attendee="patient@example.org", stamp=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    >>> message["Subject"], message["To"]
    ('Appointment, Mon 16 Nov 2026 09:00', 'patient@example.org')
    >>> [part.get_content_type() for part in message.walk()][2:]
    ['text/plain', 'text/calendar', 'application/ics']
    """
    schedule, target = _session(source, session)
    if target.status != "scheduled":
        raise InvitationError(
            f"session: session {session} is {target.status}; "
            + (
                "send a cancellation instead"
                if target.status in ("cancelled", "missed")
                else "there is nothing to invite to"
            )
        )
    if not isinstance(rsvp, bool):
        raise InvitationError(f"rsvp: must be True or False, got {rsvp!r}")
    return _message(
        "REQUEST",
        schedule,
        target,
        attendee,
        stamp,
        organizer,
        attendee_name,
        rsvp,
        options,
        subject,
    )


def cancellation(
    source: Schedule | Course,
    session: int,
    *,
    attendee: str,
    stamp: dt.datetime,
    organizer: str | None = None,
    attendee_name: str | None = None,
    options: CalendarOptions | None = None,
    subject: str | None = None,
) -> EmailMessage:
    """An e-mail cancelling one session (``METHOD:CANCEL``, ``STATUS:CANCELLED``).

    Record the cancellation first (``course.cancelled(n)``, or a re-plan that drops the
    session): that raises the session's SEQUENCE above the invitation's, without which
    clients ignore the cancellation. A session recorded missed can be cancelled too, to
    take it out of the patient's calendar.

    Args:
        source: the course (or its schedule) the session belongs to.
        session: the session's number; the session must be cancelled or missed.
        attendee: the patient's e-mail address (ATTENDEE and To).
        stamp: when the message is made (timezone-aware): DTSTAMP and the Date header.
        organizer: the clinic's address (ORGANIZER and From); default ``options.organizer``.
        attendee_name: the name to address the patient by (CN and To).
        options: the clinic's calendar choices, the same as for its calendar files.
        subject: the Subject; default "Cancelled: Appointment — <clinic>, <day and time>".

    Raises:
        InvitationError: an address that is not one, a session the course does not have,
            one still scheduled or attended, or one whose SEQUENCE was never raised.

    >>> import datetime as dt
    >>> from tms_schedule import ClinicCalendar, Course, Plan
    >>> course = Course.start(Plan("itbs", ClinicCalendar("Europe/Berlin"), "2026-11-16", "09:00", "c-1"))
    >>> message = cancellation(course.cancelled(3), 3, organizer="desk@clinic.example",
    ...                        attendee="patient@example.org", stamp=dt.datetime(2026, 11, 2, tzinfo=dt.UTC))
    >>> message["Subject"]
    'Cancelled: Appointment, Wed 18 Nov 2026 09:00'
    """
    schedule, target = _session(source, session)
    if target.status == "scheduled":
        raise InvitationError(
            f"session: session {session} is still scheduled; record it cancelled first"
            " (Course.cancelled), which raises its SEQUENCE above the invitation's"
        )
    if target.status == "attended":
        raise InvitationError(f"session: session {session} was attended; it cannot be cancelled")
    if target.sequence < 1:
        raise InvitationError(
            f"session: session {session} is {target.status} with SEQUENCE 0; a cancellation"
            " must carry a SEQUENCE above the invitation's (a course raises it when it"
            " records the session cancelled or missed)"
        )
    return _message(
        "CANCEL",
        schedule,
        target,
        attendee,
        stamp,
        organizer,
        attendee_name,
        False,
        options,
        subject,
    )


def _session(source: Any, number: Any) -> tuple[Schedule, Session]:
    """The schedule of ``source`` (a Schedule or a Course) and its session ``number``."""
    schedule = source if isinstance(source, Schedule) else getattr(source, "schedule", None)
    if not isinstance(schedule, Schedule):
        raise InvitationError(f"source: must be a Course or a Schedule, got {source!r}")
    if not is_whole(number):
        raise InvitationError(f"session: must be a session number, got {number!r}")
    for candidate in schedule.sessions:
        if candidate.number == number:
            return schedule, candidate
    numbers = sorted(s.number for s in schedule.sessions)
    raise InvitationError(
        f"session: the course has no session {number}; sessions are {numbers[0]} to {numbers[-1]}"
        if numbers
        else "session: the course has no sessions"
    )


def _message(
    method: str,
    schedule: Schedule,
    session: Session,
    attendee: Any,
    stamp: Any,
    organizer: Any,
    attendee_name: Any,
    rsvp: bool,
    options: Any,
    subject: Any,
) -> EmailMessage:
    if options is None:
        options = CalendarOptions()
    elif not isinstance(options, CalendarOptions):
        raise InvitationError(f"options: must be CalendarOptions, got {options!r}")
    organizer = options.organizer if organizer is None else organizer
    if organizer is None:
        raise InvitationError(
            "organizer: an invitation needs the clinic's e-mail address (give organizer="
            " or CalendarOptions(organizer=...)); RFC 5546 requires an ORGANIZER"
        )
    _check_address("organizer", organizer, "desk@clinic.example")
    _check_address("attendee", attendee, "patient@example.org")
    _check_text("attendee_name", attendee_name, 120)
    if attendee_name is not None:
        attendee_name = " ".join(attendee_name.split())  # as the To header will show it
    if attendee_name is not None and ('"' in attendee_name or "\\" in attendee_name):
        # Neither can be written in a parameter value that every parser reads back alike:
        # libical and icalendar take a backslash before ";" or a quote as an escape.
        raise InvitationError(
            f"attendee_name: must not contain a double quote or a backslash, got {attendee_name!r}"
        )
    _check_text("subject", subject, 200)
    if not isinstance(stamp, dt.datetime) or stamp.utcoffset() is None:
        raise InvitationError(
            f"stamp: must be a timezone-aware datetime (when the message is made), got {stamp!r}"
        )
    options = attrs.evolve(options, organizer=organizer)

    calendar = schedule_to_ics(
        schedule,
        options,
        stamp=stamp,
        method=method,
        only=session.number,
        event_lines=[_attendee_line(attendee, attendee_name, rsvp)],
    )
    when = short_moment(session.start)
    title = options.event_title
    if subject is None:
        subject = f"{title}, {when}" if method == "REQUEST" else f"Cancelled: {title}, {when}"

    message = EmailMessage()
    message["From"] = Address(display_name=options.clinic_name or "", addr_spec=organizer)
    message["To"] = Address(display_name=attendee_name or "", addr_spec=attendee)
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(stamp)
    message.set_content(_body(method, schedule, session, options), cte="quoted-printable")
    message.add_alternative(
        calendar,
        maintype="text",
        subtype="calendar",
        cte="base64",
        params={"method": method, "charset": "UTF-8"},
    )
    message.add_attachment(
        calendar,
        maintype="application",
        subtype="ics",
        filename=ATTACHMENT_NAME,
        params={"name": ATTACHMENT_NAME},
    )
    # Fixed boundaries keep the bytes a function of the inputs. "=_" cannot occur in
    # quoted-printable or base64 text, so no part can contain a boundary line.
    uid = session_uid(schedule.course_id, session.number, options.uid_key)
    message.set_boundary(f"=_mixed_{uid}")
    for part in message.iter_parts():
        del part["MIME-Version"]  # the message has one; its parts need none
        if part.get_content_type() == "multipart/alternative":
            part.set_boundary(f"=_alternative_{uid}")
            for inner in part.iter_parts():
                del inner["MIME-Version"]
    return message


def _check_address(name: str, value: Any, example: str) -> None:
    if not is_email(value):
        raise InvitationError(f"{name}: must be an e-mail address like {example}, got {value!r}")


def _check_text(name: str, value: Any, limit: int) -> None:
    # A header is one line: U+2028, U+0085 or a line break in one is refused here, as
    # every free text is, rather than by the e-mail library half-way through a message.
    if value is not None:
        check_text(value, name, InvitationError, limit=limit)


def _attendee_line(address: str, name: str | None, rsvp: bool) -> str:
    """The ATTENDEE property: the patient, not yet answered (RFC 5545 §3.8.4.1)."""
    cn = ""
    if name:
        # RFC 6868: a caret is written twice. A value holding ":;," is quoted; double quotes
        # and backslashes were refused above.
        name = name.replace("^", "^^")
        cn = f';CN="{name}"' if any(c in name for c in ":;,") else f";CN={name}"
    flag = "TRUE" if rsvp else "FALSE"
    return f"ATTENDEE{cn};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP={flag}:mailto:{address}"


def _body(method: str, schedule: Schedule, session: Session, options: CalendarOptions) -> str:
    """The text/plain part: the title, the day and time, the clinic's details. Neutral."""
    start, end = session.start, session.end
    when = f"{long_day(start.date())}, {start:%H:%M}{_DASH}{end:%H:%M} ({schedule.timezone})"
    if method == "REQUEST":
        lines = [options.event_title, when]
    else:
        lines = [f"Cancelled: {options.event_title}", when, "This appointment will not take place."]
    if options.location:
        lines.append(options.location)
    if options.description and method == "REQUEST":
        lines += ["", options.description]
    contact = [
        part
        for part in (
            options.clinic_name,
            f"Phone: {options.phone}" if options.phone else None,
            options.url,
        )
        if part
    ]
    if contact:
        lines += ["", *contact]
    return "\n".join(lines) + "\n"
