"""Invitations and cancellations by e-mail: read back as a mail client and calendar parsers do.

Each message is flattened to bytes and parsed again by the standard library's e-mail parser;
its calendar part goes to libical (with its RFC 5546 restriction check, which needs the
ATTENDEE of a REQUEST and the ORGANIZER of a CANCEL), ical.js and icalendar.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import re
from email.message import EmailMessage
from email.parser import BytesParser

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases import golden_start
from independent_parsers import icaljs_read, libical_read, utc_iso
from tms_schedule import CalendarOptions, ClinicCalendar, Course, Plan, Schedule, get_protocol
from tms_schedule.delivery.imip import ATTACHMENT_NAME, cancellation, invite
from tms_schedule.errors import InvitationError
from tms_schedule.export.uid import session_uid

CLINIC = ClinicCalendar("America/Denver", holidays="US-CO")
DESK = "desk@clinic.example"
PATIENT = "patient@example.org"
STAMP = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 11, 2, 8, 30, tzinfo=dt.UTC)
AFTER = dt.datetime(2026, 11, 17, 20, 0, tzinfo=dt.UTC)  # sessions 1 and 2 have started
OPTIONS = CalendarOptions(clinic_name="Example Clinic", phone="+1 303 555 0100")
TREATMENT_WORDS = ("tms", "stimulation", "depression", "taper", "acute", "magnetic", "rtms")


def start(protocol_id: str = "standard-10hz", course_id: str = "course-neutral-7") -> Course:
    day, at = golden_start(protocol_id)
    return Course.start(Plan(protocol_id, CLINIC, day, at, course_id))


def parse(message: EmailMessage) -> EmailMessage:
    """The message as the patient's mail client gets it: flattened, then parsed."""
    parsed = BytesParser(policy=email.policy.default).parsebytes(message.as_bytes())
    assert isinstance(parsed, EmailMessage)
    return parsed


def calendar_part(message: EmailMessage) -> tuple[EmailMessage, bytes]:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    data = parts[0].get_payload(decode=True)
    assert isinstance(data, bytes)
    return parts[0], data


def content_lines(data: bytes) -> list[str]:
    """The unfolded content lines (RFC 5545 §3.1)."""
    return data.decode("utf-8").replace("\r\n ", "").split("\r\n")[:-1]


def value(data: bytes, name: str) -> str:
    """The one value of property ``name`` on the event itself (its reminders left out)."""
    lines = content_lines(data)
    event = lines[lines.index("BEGIN:VEVENT") : lines.index("END:VEVENT")]
    alarm_lines = set()
    inside = False
    for index, line in enumerate(event):
        inside = line == "BEGIN:VALARM" or (inside and line != "END:VALARM")
        if inside:
            alarm_lines.add(index)
    own = [line for index, line in enumerate(event) if index not in alarm_lines]
    found = [line for line in own if re.match(rf"{name}[;:]", line)]
    assert len(found) == 1, (name, found)
    return found[0].split(":", 1)[1]


def test_request_then_cancel_update_the_event_of_the_course_file() -> None:
    course = start()
    uid_in_file = session_uid(course.course_id, 3)
    assert f"UID:{uid_in_file}\r\n".encode() in course.to_ics(stamp=STAMP)

    request = parse(invite(course, 3, organizer=DESK, attendee=PATIENT, stamp=STAMP))
    course = course.cancelled(3)
    cancel = parse(cancellation(course, 3, organizer=DESK, attendee=PATIENT, stamp=LATER))

    seen = {}
    for message, method in ((request, "REQUEST"), (cancel, "CANCEL")):
        part, data = calendar_part(message)
        [method_line] = [line for line in content_lines(data) if line.startswith("METHOD")]
        assert part.get_param("method") == method
        assert method_line == f"METHOD:{method}"
        assert part.get_content_charset() == "utf-8"
        assert data.count(b"BEGIN:VEVENT") == 1
        assert value(data, "UID") == uid_in_file
        for parsed in (libical_read(data), icaljs_read(data)):
            assert parsed["calendar"]["METHOD"] == method
            assert parsed["missing_tzids"] == []
            [event] = parsed["events"]
            assert event["uid"] == uid_in_file
            assert event["start_utc"] == utc_iso(course.schedule[2].start)
            assert event["dtstamp_utc"] == utc_iso(STAMP if method == "REQUEST" else LATER)
            seen[parsed["parser"], method] = event
        checked = libical_read(data)
        assert checked["error_count"] == 0, checked["errors"]
        assert checked["restriction_ok"], checked["restriction_errors"]
    for parser in ("libical", "ical.js"):
        requested, cancelled = seen[parser, "REQUEST"], seen[parser, "CANCEL"]
        assert requested["status"] == "CONFIRMED" and cancelled["status"] == "CANCELLED"
        assert cancelled["sequence"] > requested["sequence"], parser  # type: ignore[operator]
        assert requested["alarms"] and not cancelled["alarms"]


def test_libical_refuses_the_same_message_without_its_attendee() -> None:
    """The restriction check has teeth: the ATTENDEE line is what makes a REQUEST valid."""
    _, data = calendar_part(invite(start(), 1, organizer=DESK, attendee=PATIENT, stamp=STAMP))
    without = re.sub(rb"ATTENDEE[^\r]*\r\n( [^\r]*\r\n)*", b"", data)
    assert b"ATTENDEE" not in without
    assert not libical_read(without)["restriction_ok"]


def test_the_message_is_text_calendar_and_an_attachment() -> None:
    message = parse(invite(start(), 1, organizer=DESK, attendee=PATIENT, stamp=STAMP))
    assert message.get_content_type() == "multipart/mixed"
    assert [p.get_content_type() for p in message.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/calendar",
        "application/ics",
    ]
    _, data = calendar_part(message)
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == ATTACHMENT_NAME == "invite.ics"
    assert attachment.get_payload(decode=True) == data
    assert message["MIME-Version"] == "1.0"
    assert all(part["MIME-Version"] is None for part in message.walk() if part is not message)


def test_headers_come_from_the_arguments_and_the_stamp() -> None:
    message = parse(
        invite(
            start(),
            1,
            organizer=DESK,
            attendee=PATIENT,
            attendee_name="A. Example",
            stamp=STAMP,
            options=OPTIONS,
        )
    )
    assert message["From"].addresses[0].addr_spec == DESK
    assert message["From"].addresses[0].display_name == "Example Clinic"
    assert message["To"].addresses[0].addr_spec == PATIENT
    assert message["To"].addresses[0].display_name == "A. Example"
    assert message["Subject"] == "Appointment \N{EM DASH} Example Clinic, Mon 16 Nov 2026 09:00"
    assert email.utils.parsedate_to_datetime(message["Date"]) == STAMP
    assert message["Message-ID"] is None  # the clinic's mail system adds one
    own = invite(start(), 1, organizer=DESK, attendee=PATIENT, stamp=STAMP, subject="Your visit")
    assert own["Subject"] == "Your visit"
    cancel = cancellation(
        start().cancelled(1), 1, organizer=DESK, attendee=PATIENT, stamp=STAMP, options=OPTIONS
    )
    assert cancel["Subject"] == (
        "Cancelled: Appointment \N{EM DASH} Example Clinic, Mon 16 Nov 2026 09:00"
    )


def test_organizer_and_attendee_as_the_clinic_gives_them() -> None:
    course = start()
    for rsvp in (False, True):
        message = invite(
            course,
            2,
            organizer=DESK,
            attendee=PATIENT,
            attendee_name="Example, A.",  # a comma: the CN must be quoted
            rsvp=rsvp,
            stamp=STAMP,
            options=OPTIONS,
        )
        _, data = calendar_part(parse(message))
        event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
        attendee = event["ATTENDEE"]
        assert str(attendee) == f"mailto:{PATIENT}"
        assert attendee.params["CN"] == "Example, A."
        assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
        assert attendee.params["RSVP"] == ("TRUE" if rsvp else "FALSE")
        assert str(event["ORGANIZER"]) == f"mailto:{DESK}"
        assert event["ORGANIZER"].params["CN"] == "Example Clinic"
        assert libical_read(data)["restriction_ok"]


def test_a_caret_in_a_name_is_written_as_rfc_6868_says() -> None:
    message = invite(start(), 1, organizer=DESK, attendee=PATIENT, attendee_name="A^B", stamp=STAMP)
    _, data = calendar_part(message)
    assert b"ATTENDEE;CN=A^^B;" in data
    assert icalendar.Calendar.from_ical(data).walk("VEVENT")[0]["ATTENDEE"].params["CN"] == "A^B"


def test_the_organizer_may_come_from_the_options() -> None:
    options = CalendarOptions(organizer=DESK)
    message = invite(start(), 1, attendee=PATIENT, stamp=STAMP, options=options)
    assert message["From"] == DESK
    _, data = calendar_part(message)
    assert value(data, "ORGANIZER") == f"mailto:{DESK}"
    other = invite(
        start(), 1, attendee=PATIENT, stamp=STAMP, options=options, organizer="a@b.example"
    )
    assert other["From"] == "a@b.example"


def test_a_moved_session_is_invited_again_with_a_higher_sequence() -> None:
    course = start()
    first = calendar_part(invite(course, 4, organizer=DESK, attendee=PATIENT, stamp=STAMP))[1]
    to = dt.datetime(2026, 11, 19, 14, 0, tzinfo=CLINIC.zone)
    moved = course.moved(4, to=to)
    again = calendar_part(invite(moved, 4, organizer=DESK, attendee=PATIENT, stamp=LATER))[1]
    assert value(again, "UID") == value(first, "UID")
    assert int(value(again, "SEQUENCE")) == int(value(first, "SEQUENCE")) + 1
    [event] = icaljs_read(again)["events"]
    assert event["start_utc"] == utc_iso(to)


def test_a_missed_session_may_be_cancelled_too() -> None:
    course = start().missed(2, "clinic", now=AFTER)
    _, data = calendar_part(cancellation(course, 2, organizer=DESK, attendee=PATIENT, stamp=STAMP))
    assert value(data, "STATUS") == "CANCELLED"
    assert value(data, "SEQUENCE") == "1"


def test_a_schedule_works_as_well_as_a_course() -> None:
    course = start()
    from_course = invite(course, 5, organizer=DESK, attendee=PATIENT, stamp=STAMP)
    from_schedule = invite(course.schedule, 5, organizer=DESK, attendee=PATIENT, stamp=STAMP)
    assert from_course.as_bytes() == from_schedule.as_bytes()


def test_the_same_inputs_give_the_same_bytes() -> None:
    course = start()
    one = invite(course, 1, organizer=DESK, attendee=PATIENT, stamp=STAMP, options=OPTIONS)
    two = invite(course, 1, organizer=DESK, attendee=PATIENT, stamp=STAMP, options=OPTIONS)
    assert one.as_bytes() == two.as_bytes()
    other = invite(course, 2, organizer=DESK, attendee=PATIENT, stamp=STAMP, options=OPTIONS)
    assert one.get_boundary() != other.get_boundary()


@pytest.mark.parametrize("protocol_id", ["standard-10hz", "itbs", "snt", "deep-tms-h1"])
def test_the_message_names_no_treatment(protocol_id: str) -> None:
    course = start(protocol_id)
    session = course.schedule[0].number
    messages = [
        invite(course, session, organizer=DESK, attendee=PATIENT, stamp=STAMP, options=OPTIONS),
        cancellation(
            course.cancelled(session),
            session,
            organizer=DESK,
            attendee=PATIENT,
            stamp=STAMP,
            options=OPTIONS,
        ),
    ]
    protocol = get_protocol(protocol_id)
    for message in messages:
        parsed = parse(message)
        texts = [f"{name}: {value}" for name, value in parsed.items()]
        for part in parsed.walk():
            if part.get_content_maintype() != "multipart":
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                texts.append(payload.decode("utf-8"))
        seen = "\n".join(texts).lower()
        words = (*TREATMENT_WORDS, protocol_id, protocol.name.lower(), *course.schedule.phases())
        for word in words:
            assert word.lower() not in seen, word
        assert course.course_id not in seen
        assert "appointment \N{EM DASH} example clinic" in seen


def test_the_text_part_says_when_and_how_to_reach_the_clinic() -> None:
    options = CalendarOptions(
        clinic_name="Example Clinic",
        location="1 Main St, Denver",
        phone="+1 303 555 0100",
        url="https://clinic.example/visits",
        description="Bring your card.",
    )
    course = start()
    text = invite(course, 1, organizer=DESK, attendee=PATIENT, stamp=STAMP, options=options)
    body = text.get_body(("plain",))
    assert body is not None
    assert body.get_content() == (
        "Appointment \N{EM DASH} Example Clinic\n"
        "Monday 16 November 2026, 09:00\N{EN DASH}10:30 (America/Denver)\n"
        "1 Main St, Denver\n"
        "\n"
        "Bring your card.\n"
        "\n"
        "Example Clinic\n"
        "Phone: +1 303 555 0100\n"
        "https://clinic.example/visits\n"
    )
    gone = cancellation(
        course.cancelled(1), 1, organizer=DESK, attendee=PATIENT, stamp=STAMP, options=options
    ).get_body(("plain",))
    assert gone is not None
    assert gone.get_content().splitlines()[:3] == [
        "Cancelled: Appointment \N{EM DASH} Example Clinic",
        "Monday 16 November 2026, 09:00\N{EN DASH}10:30 (America/Denver)",
        "This appointment will not take place.",
    ]
    assert "Bring your card." not in gone.get_content()


COURSE = start()
names = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters='"\\'),
    min_size=1,
    max_size=120,
).filter(lambda name: name.strip() == name and name.strip() != "")


@settings(max_examples=60, deadline=None)
@given(name=names)
def test_any_attendee_name_reads_back_whole_in_lines_of_75_octets(name: str) -> None:
    message = invite(start(), 1, organizer=DESK, attendee=PATIENT, attendee_name=name, stamp=STAMP)
    parsed = parse(message)
    _, data = calendar_part(parsed)
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.endswith(b"\r\n")
    for line in data.split(b"\r\n")[:-1]:
        assert b"\n" not in line and b"\r" not in line
        assert len(line) <= 75
        line.decode("utf-8")  # folding never splits a character
    event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    # Runs of spaces read as one space, in the calendar as in the To header.
    assert event["ATTENDEE"].params["CN"] == " ".join(name.split())
    # The standard library's reader puts a space between two encoded words of a long name
    # (RFC 2047 §6.2 says to join them; its older decode_header does): spaces aside, equal.
    shown = parsed["To"].addresses[0].display_name
    assert "".join(shown.split()) == "".join(name.split())
    assert parsed["To"].addresses[0].addr_spec == PATIENT


# -- refusals ---------------------------------------------------------------------------------


def test_an_invitation_needs_a_scheduled_session() -> None:
    course = start().attended(1, now=AFTER).cancelled(2)
    with pytest.raises(
        InvitationError, match="session: session 2 is cancelled; send a cancellation"
    ):
        invite(course, 2, organizer=DESK, attendee=PATIENT, stamp=STAMP)
    with pytest.raises(InvitationError, match="session: session 1 is attended; there is nothing"):
        invite(course, 1, organizer=DESK, attendee=PATIENT, stamp=STAMP)
    with pytest.raises(
        InvitationError, match="session: the course has no session 99; sessions are 1 to 36"
    ):
        invite(course, 99, organizer=DESK, attendee=PATIENT, stamp=STAMP)


def test_a_cancellation_needs_a_cancelled_session_with_a_raised_sequence() -> None:
    course = start().attended(1, now=AFTER)
    with pytest.raises(InvitationError, match="session 3 is still scheduled; record it cancelled"):
        cancellation(course, 3, organizer=DESK, attendee=PATIENT, stamp=STAMP)
    with pytest.raises(InvitationError, match="session 1 was attended"):
        cancellation(course, 1, organizer=DESK, attendee=PATIENT, stamp=STAMP)
    # A schedule built by hand, cancelled without raising SEQUENCE: clients would ignore it.
    schedule = course.schedule
    sessions = tuple(
        s.evolve(status="cancelled") if s.number == 3 else s for s in schedule.sessions
    )
    unraised = Schedule(schedule.course_id, schedule.protocol_id, schedule.timezone, sessions)
    with pytest.raises(InvitationError, match="cancelled with SEQUENCE 0"):
        cancellation(unraised, 3, organizer=DESK, attendee=PATIENT, stamp=STAMP)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"attendee": "patient at example.org"}, "attendee: must be an e-mail address"),
        ({"attendee": "patient@example.org\r\nBcc: x@y.example"}, "attendee: must be an e-mail"),
        ({"attendee": "patient@example.org\n"}, "attendee: must be an e-mail address"),
        ({"attendee": None}, "attendee: must be an e-mail address"),
        ({"organizer": "desk"}, "organizer: must be an e-mail address like desk@clinic.example"),
        ({"organizer": None}, "organizer: an invitation needs the clinic's e-mail address"),
        ({"attendee_name": 'A "B" C'}, "attendee_name: must not contain a double quote"),
        ({"attendee_name": "A\\"}, "attendee_name: must not contain a double quote or a backslash"),
        ({"attendee_name": "A\r\nB"}, "attendee_name: must be one line"),
        ({"attendee_name": " "}, "attendee_name: must be a non-empty text"),
        ({"subject": "Hi\nBcc: x@y.example"}, "subject: must be one line"),
        ({"subject": "x" * 201}, "subject: must be a non-empty text of at most 200"),
        ({"stamp": dt.datetime(2026, 11, 1)}, "stamp: must be a timezone-aware datetime"),
        ({"rsvp": "yes"}, "rsvp: must be True or False"),
        ({"options": {"clinic_name": "x"}}, "options: must be CalendarOptions"),
    ],
)
def test_bad_inputs_name_the_argument(arguments: dict[str, object], message: str) -> None:
    given = {"organizer": DESK, "attendee": PATIENT, "stamp": STAMP, **arguments}
    with pytest.raises(InvitationError, match=message):
        invite(start(), 1, **given)  # type: ignore[arg-type]


def test_the_source_must_be_a_course_or_schedule() -> None:
    with pytest.raises(InvitationError, match="source: must be a Course or a Schedule"):
        invite("c-1", 1, organizer=DESK, attendee=PATIENT, stamp=STAMP)  # type: ignore[arg-type]
    with pytest.raises(InvitationError, match="session: must be a session number"):
        invite(start(), True, organizer=DESK, attendee=PATIENT, stamp=STAMP)
