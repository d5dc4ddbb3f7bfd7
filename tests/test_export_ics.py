"""The .ics export, read back by independent parsers: ical.js (Thunderbird) and libical.

Each session's instant as those parsers read it must equal the Schedule's, for zones with
DST in both hemispheres, for courses crossing DST changes and for zones without DST.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import expand_or_skip
from independent_parsers import icaljs_read, libical_read, utc_iso
from strategies import plans
from tms_schedule import ClinicCalendar, Plan, Schedule
from tms_schedule.errors import InvalidCalendarOptionError
from tms_schedule.export.ics import schedule_to_ics
from tms_schedule.export.options import CalendarOptions
from tms_schedule.export.uid import session_uid
from tms_schedule.export.vtimezone import transitions, vtimezone, yearly_rules

STAMP = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)

# Courses that cross a DST change: north (Nov, Mar), south (Apr, Oct), half-hour DST,
# and a zone without DST.
CROSSINGS = [
    ("America/Denver", "2026-10-19", "standard-10hz"),
    ("America/New_York", "2027-02-22", "standard-10hz"),
    ("Europe/Berlin", "2027-03-01", "itbs"),
    ("Australia/Sydney", "2027-03-15", "itbs"),
    ("Australia/Sydney", "2026-09-21", "deep-tms-h1"),
    ("Pacific/Auckland", "2027-03-22", "itbs"),
    ("America/Santiago", "2027-03-22", "itbs"),
    ("Australia/Lord_Howe", "2027-03-22", "itbs"),
    ("Asia/Kolkata", "2026-11-16", "standard-10hz"),
    ("UTC", "2026-11-16", "itbs"),
]


def expand(zone: str, start: str, protocol: str, at: str = "09:00") -> Schedule:
    return Plan(protocol, ClinicCalendar(zone), start, at, f"course-{zone}").expand()


def instants(schedule: Schedule) -> list[tuple[str, str]]:
    return [(utc_iso(s.start), utc_iso(s.end)) for s in schedule]


def parsed_instants(parsed: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(e["start_utc"], e["end_utc"]) for e in parsed["events"]]


@pytest.mark.parametrize(("zone", "start", "protocol"), CROSSINGS)
def test_icaljs_reads_every_session_at_the_schedules_instant(
    zone: str, start: str, protocol: str
) -> None:
    schedule = expand(zone, start, protocol)
    parsed = icaljs_read(schedule.to_ics(stamp=STAMP))
    assert parsed["missing_tzids"] == []  # type: ignore[typeddict-item]
    assert parsed_instants(parsed) == instants(schedule)  # type: ignore[arg-type]


@pytest.mark.parametrize(("zone", "start", "protocol"), CROSSINGS)
def test_libical_reads_every_session_at_the_schedules_instant(
    zone: str, start: str, protocol: str
) -> None:
    schedule = expand(zone, start, protocol)
    parsed = libical_read(schedule.to_ics(stamp=STAMP))
    assert parsed["error_count"] == 0, parsed["errors"]
    assert parsed["restriction_ok"], parsed["restriction_errors"]
    assert parsed_instants(parsed) == instants(schedule)  # type: ignore[arg-type]


def test_courses_really_cross_dst() -> None:
    for zone, start, protocol in CROSSINGS[:-2]:
        offsets = {s.start.utcoffset() for s in expand(zone, start, protocol)}
        assert len(offsets) == 2, zone


def test_organizer_makes_a_publish_that_libical_accepts() -> None:
    schedule = expand("America/Denver", "2026-10-19", "standard-10hz")
    with_organizer = schedule.to_ics(
        stamp=STAMP, organizer="desk@clinic.example", clinic_name="Example Clinic"
    )
    assert b"METHOD:PUBLISH\r\n" in with_organizer
    assert b"ORGANIZER;CN=Example Clinic:mailto:desk@clinic.example\r\n" in with_organizer
    parsed = libical_read(with_organizer)
    assert parsed["restriction_ok"], parsed["restriction_errors"]
    assert b"METHOD" not in schedule.to_ics(stamp=STAMP)


def test_parsers_read_texts_status_sequence_and_alarms() -> None:
    schedule = expand("Europe/Berlin", "2027-03-01", "itbs")
    options = CalendarOptions(
        clinic_name="Praxis Süd",
        location="Hauptstraße 1, Berlin; 2. OG",
        phone="+49 30 555",
        reminders=["1d", "2h"],
    )
    data = schedule_to_ics(schedule, options, stamp=STAMP)
    for parsed in (icaljs_read(data), libical_read(data)):
        event = parsed["events"][0]
        assert event["summary"] == "Appointment \N{EM DASH} Praxis Süd"
        assert event["location"] == "Hauptstraße 1, Berlin; 2. OG"
        assert event["description"] == "Praxis Süd\nPhone: +49 30 555"
        assert event["status"] == "CONFIRMED"
        assert event["sequence"] == 0
        assert event["uid"] == session_uid(schedule.course_id, 1)
        assert event["dtstamp_utc"] == "2026-11-01T12:00:00Z"
        assert [(a["action"], a["trigger"], a["description"]) for a in event["alarms"]] == [
            ("DISPLAY", "-P1D", "Appointment \N{EM DASH} Praxis Süd"),
            ("DISPLAY", "-PT2H", "Appointment \N{EM DASH} Praxis Süd"),
        ]
        assert len({a["uid"] for a in event["alarms"]}) == 2
        assert parsed["calendar"]["X-WR-CALNAME"] == "Appointments \N{EM DASH} Praxis Süd"


def test_a_repeated_wall_time_is_written_in_utc_so_clients_agree() -> None:
    night = ClinicCalendar("America/New_York", open_weekdays="Mon-Sun", hours="00:00-23:59")
    from tms_schedule import Daily, Protocol

    protocol = Protocol(id="p", name="P", phases=(Daily(3),), session=30, first_session=30)
    schedule = Plan(protocol, night, "2026-10-31", "01:30", "c-1").expand()
    data = schedule.to_ics(stamp=STAMP)
    assert b"DTSTART:20261101T053000Z\r\n" in data  # 01:30 EDT, the first occurrence
    for parsed in (icaljs_read(data), libical_read(data)):
        assert parsed_instants(parsed) == instants(schedule)  # type: ignore[arg-type]


# -- structure -----------------------------------------------------------------------------


def unfold(data: bytes) -> list[str]:
    return data.decode("utf-8").replace("\r\n ", "").split("\r\n")[:-1]


def test_structure_rules() -> None:
    schedule = expand("America/Denver", "2026-10-19", "standard-10hz")
    data = schedule.to_ics(stamp=STAMP, clinic_name="Example Clinic " * 8, location="x" * 300)
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")  # CRLF only
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    lines = unfold(data)
    tzids = set(re.findall(r"TZID=([^:;]+)", "\n".join(lines)))
    declared = {line[5:] for line in lines if line.startswith("TZID:")}
    assert tzids == declared == {"America/Denver"}
    assert lines.count("BEGIN:VEVENT") == 36
    assert all(
        re.fullmatch(r"DTSTAMP:\d{8}T\d{6}Z", line) for line in lines if line.startswith("DTSTAMP")
    )
    assert len({line for line in lines if line.startswith("UID:")}) == 36 + 72  # events + alarms
    assert "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11" in lines
    assert "RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3" in lines
    assert "RDATE" not in "\n".join(lines)
    assert lines[:3] == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Appointments//Calendar export//EN",
    ]


def test_exports_are_byte_identical_and_uids_stable_across_exports() -> None:
    schedule = expand("America/Denver", "2026-10-19", "standard-10hz")
    assert schedule.to_ics(stamp=STAMP) == schedule.to_ics(stamp=STAMP)
    later = schedule.to_ics(stamp=STAMP + dt.timedelta(days=3))
    uids = [line for line in unfold(schedule.to_ics(stamp=STAMP)) if line.startswith("UID:")]
    assert uids == [line for line in unfold(later) if line.startswith("UID:")]
    keyed = schedule.to_ics(stamp=STAMP, uid_key="clinic secret 0123456789")
    assert not set(uids) & {line for line in unfold(keyed) if line.startswith("UID:")}


def test_uid_reveals_nothing_of_the_course_id() -> None:
    uid = session_uid("MRN-0042-doe", 7)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", uid)
    assert session_uid("MRN-0042-doe", 7, "a clinic secret 1234") != uid


def test_uids_are_the_same_asked_again_and_under_each_spelling_of_a_key() -> None:
    # UIDs are remembered once worked out: a second answer comes from there, and must be
    # the UID a calendar already holds (these were written before they were remembered).
    keyed = "187f6fcd-d9f9-8b4d-81ff-2c685fe072e1"
    for _ in range(2):
        assert session_uid("MRN-0042-doe", 7) == "77a04770-e8d4-89a4-bc8c-1969080e5578"
        assert session_uid("MRN-0042-doe", 7, "a clinic secret 1234") == keyed
        assert session_uid("MRN-0042-doe", 7, b"a clinic secret 1234") == keyed
        assert session_uid("MRN-0042-doe", 7, bytearray(b"a clinic secret 1234")) == keyed
        # True is not 1 here: its UID is of "True", as it always was.
        one = session_uid("MRN-0042-doe", 1)
        assert one != session_uid("MRN-0042-doe", True) == "9bac79f6-15a3-8905-91df-a39bed271a15"


def test_sequence_and_cancelled_status_come_from_the_session() -> None:
    import attrs

    schedule = expand("Europe/Berlin", "2027-03-01", "itbs")
    changed = attrs.evolve(
        schedule,
        sessions=(schedule[0].evolve(sequence=2, status="cancelled"), *schedule[1:]),
    )
    data = changed.to_ics(stamp=STAMP)
    for parsed in (icaljs_read(data), libical_read(data)):
        first = parsed["events"][0]
        assert (first["status"], first["sequence"], first["alarms"]) == ("CANCELLED", 2, [])
        assert parsed["events"][1]["status"] == "CONFIRMED"


def test_missed_and_cancelled_events_say_so_in_their_title_and_free_the_time() -> None:
    """For clients that ignore STATUS: the title says it, and TRANSPARENT frees the slot."""
    import attrs
    from icalendar import Calendar

    schedule = expand("Europe/Berlin", "2027-03-01", "itbs")
    sessions = list(schedule.sessions)
    sessions[0] = sessions[0].evolve(status="attended")
    sessions[1] = sessions[1].evolve(status="missed", sequence=1)
    sessions[2] = sessions[2].evolve(status="cancelled", sequence=1)
    changed = attrs.evolve(schedule, sessions=tuple(sessions))
    expected = [
        ("Appointment \N{EM DASH} Example Clinic (1 of 28)", "CONFIRMED", "OPAQUE", 0),
        ("Missed: Appointment \N{EM DASH} Example Clinic", "CANCELLED", "TRANSPARENT", 0),
        ("Cancelled: Appointment \N{EM DASH} Example Clinic", "CANCELLED", "TRANSPARENT", 0),
        ("Appointment \N{EM DASH} Example Clinic (2 of 28)", "CONFIRMED", "OPAQUE", 2),
    ]
    data = changed.to_ics(stamp=STAMP, clinic_name="Example Clinic", session_numbers=True)
    for parsed in (icaljs_read(data), libical_read(data)):
        events = parsed["events"]
        got = [(e["summary"], e["status"], e["transp"], len(e["alarms"])) for e in events[:4]]
        assert got == expected, parsed["parser"]
        assert all(e["transp"] == "OPAQUE" for e in events[3:])
    events = Calendar.from_ical(data).walk("VEVENT")
    assert [
        (str(e["SUMMARY"]), str(e["STATUS"]), str(e["TRANSP"]), len(e.subcomponents))
        for e in events[:4]
    ] == expected

    # The clinic's own title keeps its text behind the prefix; the active events are
    # byte for byte what they were before anything was recorded.
    titled = changed.to_ics(stamp=STAMP, title="Visit; room 2")
    assert b"SUMMARY:Missed: Visit\\; room 2\r\n" in titled
    assert b"SUMMARY:Cancelled: Visit\\; room 2\r\n" in titled
    before = schedule.to_ics(stamp=STAMP, title="Visit; room 2")
    assert titled.split(b"BEGIN:VEVENT")[4:] == before.split(b"BEGIN:VEVENT")[4:]


def test_private_by_default() -> None:
    schedule = expand("America/Denver", "2026-10-19", "standard-10hz")
    text = schedule.to_ics(stamp=STAMP).decode().lower()
    text = re.sub(r"begin:vtimezone.*end:vtimezone", "", text, flags=re.DOTALL)
    for word in (
        "tms",
        "standard",
        "10hz",
        "magnetic",
        "stimulation",
        "depress",
        "taper",
        "acute",
        "course-",
    ):
        assert word not in text, word
    assert "summary:appointment\r\n" in text


def test_reminders_configurable_and_off() -> None:
    schedule = expand("UTC", "2026-11-16", "itbs")
    assert schedule.to_ics(stamp=STAMP).count(b"BEGIN:VALARM") == 60
    assert schedule.to_ics(stamp=STAMP, reminders=()).count(b"BEGIN:VALARM") == 0
    data = schedule.to_ics(stamp=STAMP, reminders=["30m", "1w", "2h"])
    assert re.findall(rb"TRIGGER:(\S+)", data)[:3] == [b"-P1W", b"-PT2H", b"-PT30M"]


def test_utc_option_writes_no_vtimezone() -> None:
    schedule = expand("Australia/Sydney", "2027-03-15", "itbs")
    data = schedule.to_ics(stamp=STAMP, times="utc")
    assert b"VTIMEZONE" not in data
    assert b"TZID" not in data
    assert parsed_instants(icaljs_read(data)) == instants(schedule)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"organizer": "desk at clinic"}, "organizer: must be an e-mail address"),
        # A trailing line break would end the ORGANIZER or URL line early.
        ({"organizer": "desk@clinic.example\n"}, "organizer: must be an e-mail address"),
        ({"url": "javascript:alert(1)"}, "url: must be an http:// or https:// address"),
        ({"url": "https://clinic.example/\n"}, "url: must be an http:// or https:// address"),
        ({"clinic_name": "x" * 121}, "clinic_name: must be a non-empty text of at most 120"),
        ({"clinic_name": "bell\x07"}, "clinic_name: must be one line of text without control"),
        ({"clinic_name": "a\u2028b"}, "clinic_name: must be one line of text without control"),
        ({"location": "a\x85b"}, "location: must not contain control characters"),
        ({"reminders": ["soon"]}, "reminders: each must be a lead time like 30m"),
        ({"reminders": ["10w"]}, "reminders: each lead time must be from 1 minute to 4 weeks"),
        ({"times": "local"}, "times: must be 'tzid' or 'utc'"),
        ({"uid_key": "short"}, "uid_key: must be a secret of at least 16 characters"),
    ],
)
def test_bad_options_name_the_field(options: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidCalendarOptionError, match=message):
        CalendarOptions(**options)  # type: ignore[arg-type]


def test_one_session_as_an_itip_message() -> None:
    """What invitations build on: METHOD, one event, extra lines before the reminders."""
    schedule = expand("America/Denver", "2026-10-19", "standard-10hz")
    options = CalendarOptions(organizer="desk@clinic.example", session_numbers=True)
    attendee = "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:patient@example.org"
    data = schedule_to_ics(
        schedule, options, stamp=STAMP, method="REQUEST", only=3, event_lines=[attendee]
    )
    whole = schedule_to_ics(schedule, options, stamp=STAMP)
    text = data.decode()
    assert "METHOD:REQUEST\r\n" in text and "METHOD:PUBLISH" not in text
    assert text.count("BEGIN:VEVENT") == 1
    assert f"UID:{session_uid(schedule.course_id, 3)}\r\n" in text
    assert "SUMMARY:Appointment (3 of 36)\r\n" in text  # counted in the whole course
    event = text[text.index("BEGIN:VEVENT") :]
    assert event.index("ATTENDEE;") < event.index("BEGIN:VALARM")
    # The VTIMEZONE is the course file's, byte for byte.
    zone = whole[whole.index(b"BEGIN:VTIMEZONE") : whole.index(b"END:VTIMEZONE")]
    assert zone in data
    parsed = libical_read(data)
    assert parsed["restriction_ok"], parsed["restriction_errors"]
    assert [e["uid"] for e in parsed["events"]] == [session_uid(schedule.course_id, 3)]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"method": "REQUEST"}, "organizer: METHOD:REQUEST needs an organizer"),
        (
            {"method": "REPLY", "options": CalendarOptions(organizer="desk@clinic.example")},
            "method: must be one of PUBLISH, REQUEST, CANCEL",
        ),
        ({"only": 99}, "only: the schedule has no session 99"),
        (
            {"event_lines": ["ATTENDEE:mailto:a@b.example\r\nBEGIN:VEVENT"]},
            "event_lines: each must be one content line",
        ),
        ({"event_lines": ["no colon"]}, "event_lines: each must be one content line"),
    ],
)
def test_bad_itip_arguments_name_the_field(arguments: dict[str, object], message: str) -> None:
    schedule = expand("UTC", "2026-11-16", "itbs")
    with pytest.raises(InvalidCalendarOptionError, match=message):
        schedule_to_ics(schedule, stamp=STAMP, **arguments)  # type: ignore[arg-type]


def test_a_naive_stamp_is_refused() -> None:
    with pytest.raises(InvalidCalendarOptionError, match="stamp: must be a timezone-aware"):
        expand("UTC", "2026-11-16", "itbs").to_ics(stamp=dt.datetime(2026, 11, 1))


# -- hostile text ---------------------------------------------------------------------------

HOSTILE = [
    "Clinic\r\nBEGIN:VEVENT\r\nSUMMARY:injected",
    "a;b,c\\d",
    "END:VCALENDAR",
    "Zürich \N{EN DASH} 東京 \N{EN DASH} 🧠 " * 20,
    "line one\nline two\rline three",
    ":;,\\\\n",
]


def normalized(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_stays_one_value_in_every_parser(text: str) -> None:
    schedule = expand("Europe/Berlin", "2027-03-01", "1hz-right")
    options = CalendarOptions(
        location=text, description=text, clinic_name=" ".join(text[:120].split()) or "x"
    )
    data = schedule_to_ics(schedule, options, stamp=STAMP)
    for parsed in (icaljs_read(data), libical_read(data)):
        assert len(parsed["events"]) == 10
        event = parsed["events"][0]
        assert event["location"] == options.location == normalized(text).strip()
        assert event["description"].startswith(options.location)  # type: ignore[union-attr]


@settings(max_examples=150, deadline=None)
@given(
    st.text(min_size=1, max_size=300).filter(
        lambda t: (
            bool(t.strip())
            and not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]", t)
        )
    )
)
def test_hostile_text_never_creates_a_property_or_component(text: str) -> None:
    from icalendar import Calendar

    schedule = expand("UTC", "2026-11-16", "1hz-right")
    options = CalendarOptions(location=text, description=text)
    data = schedule_to_ics(schedule, options, stamp=STAMP)
    calendar = Calendar.from_ical(data)
    events = calendar.walk("VEVENT")
    assert len(events) == 10
    assert options.location == normalized(text).strip()
    for event in events:
        assert str(event["LOCATION"]) == options.location
        assert str(event["DESCRIPTION"]) == options.location
        assert sorted(event.keys()) == sorted(
            [
                "UID",
                "DTSTAMP",
                "DTSTART",
                "DTEND",
                "SEQUENCE",
                "STATUS",
                "SUMMARY",
                "LOCATION",
                "DESCRIPTION",
                "CLASS",
                "TRANSP",
            ]
        )
        assert len(event.subcomponents) == 2
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_icalendar_reads_random_courses_at_the_schedules_instants(plan: Plan) -> None:
    from icalendar import Calendar

    schedule = expand_or_skip(plan)
    calendar = Calendar.from_ical(schedule.to_ics(stamp=STAMP))
    assert calendar.get_missing_tzids() == set()
    starts = [e.decoded("DTSTART").astimezone(dt.UTC) for e in calendar.walk("VEVENT")]
    assert starts == [s.start.astimezone(dt.UTC) for s in schedule]


# -- VTIMEZONE ------------------------------------------------------------------------------

# America/Santiago is not here: its April change is "the Sunday after the first Saturday",
# which is the 2nd Sunday in 2029, so no nth-weekday rule covers 2025-2029 (fallback, below).
ZONES = [
    "America/Denver",
    "America/New_York",
    "America/St_Johns",
    "Europe/Berlin",
    "Europe/London",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
]


@pytest.mark.parametrize("zone", ZONES)
def test_vtimezone_is_rrule_form_and_reproduces_every_transition(zone: str) -> None:
    data, rule_form = vtimezone(zone, 2026, 2028)
    assert rule_form
    found = transitions(zoneinfo.ZoneInfo(zone), 2025, 2029)
    assert yearly_rules(found, 2025, 2029) is not None
    text = data.decode()
    for t in found[:2]:  # the rules start at the first transitions, in TZOFFSETFROM time
        assert f"DTSTART:{t.onset:%Y%m%dT%H%M%S}" in text


@pytest.mark.parametrize(
    "zone", ["America/Denver", "Australia/Sydney", "Australia/Lord_Howe", "America/Santiago"]
)
def test_parsers_agree_with_zoneinfo_on_both_sides_of_every_transition(zone: str) -> None:
    """Hour-by-hour events around each change, read back through the file's VTIMEZONE."""
    from tms_schedule import Session

    tz = zoneinfo.ZoneInfo(zone)
    sessions = []
    for t in transitions(tz, 2026, 2027):
        for hours in (-30, -3, 3, 30):
            start = (t.utc + dt.timedelta(hours=hours)).astimezone(tz)
            if start.replace(fold=1 - start.fold).utcoffset() == start.utcoffset():
                sessions.append(start)
    schedule = Schedule(
        "c",
        "p",
        zone,
        tuple(
            Session(i + 1, "x", i + 1, s, s + dt.timedelta(minutes=30))
            for i, s in enumerate(sessions)
        ),
    )
    data = schedule.to_ics(stamp=STAMP)
    assert b"DTSTART;TZID=" in data
    for parsed in (icaljs_read(data), libical_read(data)):
        assert parsed_instants(parsed) == instants(schedule)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("zone", "start"), [("Africa/Casablanca", "2026-11-16"), ("America/Santiago", "2028-03-20")]
)
def test_a_zone_no_yearly_rule_fits_falls_back_to_icalendar(zone: str, start: str) -> None:
    schedule = expand(zone, start, "itbs")
    _, rule_form = vtimezone(zone, schedule.first.start.year, schedule.last.end.year)
    assert not rule_form
    ics = schedule.to_ics(stamp=STAMP)
    assert b"BEGIN:VTIMEZONE" in ics
    for parsed in (icaljs_read(ics), libical_read(ics)):
        assert parsed_instants(parsed) == instants(schedule)  # type: ignore[arg-type]
