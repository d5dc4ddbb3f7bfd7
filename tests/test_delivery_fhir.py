"""The FHIR R4 export, validated with an independent model library and the R4 rules it skips.

``fhir.resources`` (its R4B models, where Appointment, CarePlan and Bundle have R4's elements)
parses every resource; the R4 value sets, invariants and reference targets that those models
do not enforce are checked here from the specification's own tables.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from typing import Any

import pytest
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careplan import CarePlan

from tms_schedule import ClinicCalendar, Course, Plan, Schedule, get_protocol
from tms_schedule.delivery.fhir import (
    OCCURRENCE_CHANGED_URL,
    RECURRENCE_ID_URL,
    course_to_fhir,
    fhir_to_json,
    schedule_to_fhir,
    session_to_fhir,
)
from tms_schedule.errors import FhirExportError
from tms_schedule.export.uid import course_uid, session_uid

CLINIC = ClinicCalendar("America/Denver", holidays="US-CO")
PATIENT = "Patient/example-1"
STAMP = dt.datetime(2026, 11, 20, 18, 0, tzinfo=dt.UTC)
MODELS = {"Appointment": Appointment, "CarePlan": CarePlan}

# R4 (4.0.1) value sets and rules, from the specification's pages for each resource.
APPOINTMENT_STATUSES = {
    "proposed",
    "pending",
    "booked",
    "arrived",
    "fulfilled",
    "cancelled",
    "noshow",
    "entered-in-error",
    "checked-in",
    "waitlist",
}
PARTICIPANT_STATUSES = {"accepted", "declined", "tentative", "needs-action"}
PARTICIPANT_REQUIRED = {"required", "optional", "information-only"}
CAREPLAN_STATUSES = {
    "draft",
    "active",
    "on-hold",
    "revoked",
    "completed",
    "entered-in-error",
    "unknown",
}
CAREPLAN_INTENTS = {"proposal", "plan", "order", "option"}
ACTOR_TYPES = {
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "RelatedPerson",
    "Device",
    "HealthcareService",
    "Location",
}
ACTIVITY_TYPES = {
    "Appointment",
    "CommunicationRequest",
    "DeviceRequest",
    "MedicationRequest",
    "NutritionOrder",
    "Task",
    "ServiceRequest",
    "VisionPrescription",
    "RequestGroup",
}
INSTANT = re.compile(
    r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
)
ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
TREATMENT_WORDS = ("tms", "stimulation", "depression", "taper", "acute", "magnetic", "rtms")


def start(protocol_id: str = "standard-10hz", course_id: str = "c-1") -> Course:
    return Course.start(Plan(protocol_id, CLINIC, "2026-11-16", "09:00", course_id))


def recorded() -> Course:
    """Attended, missed, cancelled and moved sessions, then a re-plan that makes up the two lost."""
    course = start().attended(1, now=STAMP).missed(2, "patient", now=STAMP).cancelled(3)
    course = course.moved(5, to=dt.datetime(2026, 11, 20, 14, 0, tzinfo=CLINIC.zone))
    return course.replan(dt.date(2026, 11, 19))


def resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry["resource"] for entry in bundle["entry"]]


def appointments(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in resources(bundle) if r["resourceType"] == "Appointment"]


def extension(resource: dict[str, Any], url: str) -> Any:
    values = [e for e in resource.get("extension", []) if e["url"] == url]
    assert len(values) <= 1
    if not values:
        return None
    [(key, found)] = [(k, v) for k, v in values[0].items() if k != "url"]
    assert key == ("valuePositiveInt" if url == RECURRENCE_ID_URL else "valueBoolean")
    return found


def check_r4_rules(bundle: dict[str, Any]) -> None:
    """What the model library does not check: value sets, invariants, reference targets."""
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] in ("collection", "transaction")
    full_urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(set(full_urls)) == len(full_urls)  # bdl-7
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert ID.fullmatch(resource["id"])
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
        if bundle["type"] == "transaction":
            assert entry["request"] == {
                "method": "PUT",
                "url": f"{resource['resourceType']}/{resource['id']}",
            }
        else:
            assert "request" not in entry
    for resource in resources(bundle):
        if resource["resourceType"] == "Appointment":
            assert resource["status"] in APPOINTMENT_STATUSES
            # app-2: start and end together; app-3: only proposed or cancelled may lack them.
            assert INSTANT.fullmatch(resource["start"]) and INSTANT.fullmatch(resource["end"])
            start_, end = (dt.datetime.fromisoformat(resource[k]) for k in ("start", "end"))
            assert start_ < end
            assert resource["minutesDuration"] == (end - start_) // dt.timedelta(minutes=1) > 0
            for participant in resource["participant"]:  # app-1: an actor (or a type)
                assert participant["status"] in PARTICIPANT_STATUSES
                assert participant["required"] in PARTICIPANT_REQUIRED
                assert participant["actor"]["reference"].split("/")[-2] in ACTOR_TYPES
            for based_on in resource.get("basedOn", []):  # R4: Reference(ServiceRequest) only
                assert based_on["reference"].split("/")[-2] == "ServiceRequest"
        else:
            assert resource["resourceType"] == "CarePlan"
            assert resource["status"] in CAREPLAN_STATUSES
            assert resource["intent"] in CAREPLAN_INTENTS
            assert resource["subject"]["reference"].split("/")[-2] in ("Patient", "Group")
            for activity in resource.get("activity", []):  # cpl-3: reference or detail
                assert set(activity) == {"reference"}
                assert activity["reference"]["type"] in ACTIVITY_TYPES
                # The reference resolves inside the bundle, by fullUrl.
                assert activity["reference"]["reference"] in full_urls


def roundtrip(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource parsed by the model library, and written back by it as JSON."""
    model = Bundle if resource["resourceType"] == "Bundle" else MODELS[resource["resourceType"]]
    parsed = model.model_validate(resource)
    return json.loads(parsed.model_dump_json(exclude_none=True))  # type: ignore[no-any-return]


# -- validity -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bundle_type", ["collection", "transaction"])
def test_every_resource_validates_and_keeps_the_r4_rules(bundle_type: str) -> None:
    bundle = course_to_fhir(
        recorded(),
        patient=PATIENT,
        bundle_type=bundle_type,  # type: ignore[arg-type]
        service_request="ServiceRequest/order-7",
        actors=["Location/chair-2", "Practitioner/tech-1"],
        stamp=STAMP,
    )
    check_r4_rules(bundle)
    assert roundtrip(bundle) == bundle
    for resource in resources(bundle):
        assert roundtrip(resource) == resource
    assert bundle["timestamp"] == "2026-11-20T18:00:00Z"


@pytest.mark.parametrize(
    "protocol_id", ["standard-10hz", "itbs", "deep-tms-h1", "1hz-right", "maintenance"]
)
def test_every_built_in_protocol_exports_valid_resources(protocol_id: str) -> None:
    course = start(protocol_id)
    bundle = schedule_to_fhir(course.schedule, patient=PATIENT, original=course.plan.expand())
    check_r4_rules(bundle)
    assert roundtrip(bundle) == bundle
    assert len(appointments(bundle)) == get_protocol(protocol_id).total_sessions


def test_the_model_library_refuses_what_it_should() -> None:
    """The validation has teeth: a broken Appointment does not pass."""
    good = appointments(schedule_to_fhir(start().schedule, patient=PATIENT))[0]
    for broken in (
        {**good, "start": "2026-11-16T09:00-07:00"},  # an instant needs seconds
        {**good, "minutesDuration": 0},  # positiveInt
        {**good, "participant": "Patient/example-1"},
        {**good, "unknownElement": 1},
    ):
        with pytest.raises(ValueError, match="validation error"):
            Appointment.model_validate(broken)


# -- what the resources say ------------------------------------------------------------------------


def test_statuses_follow_the_record() -> None:
    course = start().attended(1, now=STAMP).missed(2, "patient", now=STAMP).cancelled(3)
    bundle = course_to_fhir(course, patient=PATIENT)
    by_number = {extension(a, RECURRENCE_ID_URL): a["status"] for a in appointments(bundle)}
    assert by_number[1] == "fulfilled"
    assert by_number[2] == "noshow"
    assert by_number[3] == "cancelled"
    assert {by_number[n] for n in range(4, 37)} == {"booked"}
    expected = {"scheduled": "booked", "attended": "fulfilled", "missed": "noshow"}
    expected["cancelled"] = "cancelled"
    for session in recorded().schedule:
        appointment = session_to_fhir(recorded(), session.number, patient=PATIENT)
        assert appointment["status"] == expected[session.status]


def test_times_are_instants_with_the_clinics_offset() -> None:
    course = start()  # 16 November to January: Mountain Standard Time throughout
    for appointment, session in zip(
        appointments(course_to_fhir(course, patient=PATIENT)), course.schedule, strict=True
    ):
        assert appointment["start"] == session.start.isoformat()
        assert appointment["start"].endswith("-07:00")
        assert dt.datetime.fromisoformat(appointment["end"]) == session.end
        assert appointment["minutesDuration"] == session.duration // dt.timedelta(minutes=1)
    first = appointments(course_to_fhir(course, patient=PATIENT))[0]
    assert (first["start"], first["end"], first["minutesDuration"]) == (
        "2026-11-16T09:00:00-07:00",
        "2026-11-16T10:30:00-07:00",
        90,
    )


def test_ids_are_the_calendar_uids_and_stable_across_re_plans() -> None:
    course = start()
    before = course_to_fhir(course, patient=PATIENT)
    after = course_to_fhir(recorded(), patient=PATIENT)
    ids_before = {a["id"] for a in appointments(before)}
    ids_after = {a["id"] for a in appointments(after)}
    assert ids_before <= ids_after  # every session keeps its id; a re-plan adds some
    for appointment, session in zip(appointments(before), course.schedule, strict=True):
        uid = session_uid("c-1", session.number)
        assert appointment["id"] == uid
        assert f"UID:{uid}\r\n".encode() in course.to_ics(stamp=STAMP)
        assert appointment["identifier"] == [
            {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uid}"}
        ]
    care_plan = resources(before)[0]
    assert care_plan["id"] == resources(after)[0]["id"] == course_uid("c-1")
    keyed = course_to_fhir(course, patient=PATIENT, uid_key="a clinic secret of 32 characters!")
    assert not {r["id"] for r in resources(keyed)} & {r["id"] for r in resources(before)}


def test_position_and_moves_with_the_original_plan() -> None:
    course = recorded()
    original = start().plan.expand()
    bundle = course_to_fhir(course, patient=PATIENT, original=original)
    planned = {s.number: s for s in original}
    changed = {}
    for appointment in appointments(bundle):
        number = extension(appointment, RECURRENCE_ID_URL)
        changed[number] = extension(appointment, OCCURRENCE_CHANGED_URL)
        assert appointment["id"] == session_uid("c-1", number)
    current = {s.number: s for s in course.schedule}
    assert set(changed) == set(current)
    assert changed[5] is True  # moved by hand
    assert changed[1] is False and changed[2] is False and changed[3] is False
    for number, session in current.items():
        first = planned.get(number)
        moved = first is None or (first.start, first.end) != (session.start, session.end)
        assert changed[number] is moved, number
    added = [n for n in current if n not in planned]
    assert added and all(changed[n] for n in added)


def test_a_course_is_exact_by_itself_and_a_bare_schedule_says_only_what_sequence_proves() -> None:
    course = recorded()
    exact = course_to_fhir(course, patient=PATIENT, original=start().plan.expand())
    assert course_to_fhir(course, patient=PATIENT) == exact  # the course's own first plan
    bare = schedule_to_fhir(course.schedule, patient=PATIENT)
    states = {s.number: s for s in course.schedule}
    said = set()
    for with_original, without in zip(appointments(exact), appointments(bare), strict=True):
        number = extension(without, RECURRENCE_ID_URL)
        changed = extension(without, OCCURRENCE_CHANGED_URL)
        if changed is None:  # SEQUENCE rose, but a move is not the only reason it does
            assert states[number].sequence > 0
            assert [e["url"] for e in without["extension"]] == [RECURRENCE_ID_URL]
        else:
            assert changed is extension(with_original, OCCURRENCE_CHANGED_URL), number
            said.add(changed)
    assert said == {True, False}  # never moved, and added by the re-plan


def test_an_original_of_another_course_is_refused() -> None:
    with pytest.raises(FhirExportError, match="original: is a schedule of course 'c-2'"):
        course_to_fhir(start(), patient=PATIENT, original=start(course_id="c-2").plan.expand())


def test_the_care_plan_is_the_course() -> None:
    course = start().attended(1, now=STAMP).missed(2, "patient", now=STAMP)
    care_plan, *rest = resources(course_to_fhir(course, patient=PATIENT))
    assert care_plan["resourceType"] == "CarePlan"
    assert care_plan["status"] == "active"
    assert care_plan["intent"] == "plan"
    assert care_plan["subject"] == {"reference": PATIENT}
    assert care_plan["period"] == {
        "start": course.schedule.first.start.isoformat(),
        "end": course.schedule.active_sessions()[-1].end.isoformat(),
    }
    assert [a["reference"]["reference"] for a in care_plan["activity"]] == [
        f"urn:uuid:{r['id']}" for r in rest
    ]
    assert care_plan["note"] == [{"text": "Protocol: standard-10hz"}]
    follow_up = course.next_course("maintenance", "c-2", start=dt.date(2027, 3, 1))
    notes = resources(course_to_fhir(follow_up, patient=PATIENT))[0]["note"]
    assert notes == [
        {"text": "Protocol: maintenance"},
        {"text": "Follows course c-1 (maintenance)"},
    ]


def test_the_care_plan_is_completed_when_nothing_is_to_come_or_owed() -> None:
    schedule = start("1hz-right").schedule
    done = with_status(schedule, "attended")
    assert resources(schedule_to_fhir(done, patient=PATIENT))[0]["status"] == "completed"
    # The last session cancelled and not made up: a re-plan is owed, the course goes on.
    owed = with_status(done, "cancelled", only=done.last.number)
    assert owed.progress().owed == 1
    assert resources(schedule_to_fhir(owed, patient=PATIENT))[0]["status"] == "active"
    assert resources(schedule_to_fhir(schedule, patient=PATIENT))[0]["status"] == "active"


def with_status(schedule: Schedule, status: str, only: int | None = None) -> Schedule:
    """The schedule with every session (or session ``only``) in ``status``."""
    sessions = tuple(
        s.evolve(status=status, sequence=s.sequence + (status != "attended"))
        if only in (None, s.number)
        else s
        for s in schedule.sessions
    )
    return Schedule(
        schedule.course_id,
        schedule.protocol_id,
        schedule.timezone,
        sessions,
        target=schedule.target,
    )


def test_participants_based_on_and_service_type_as_the_caller_gives_them() -> None:
    coding = {
        "coding": [{"system": "http://clinic.example/services", "code": "visit-30"}],
        "text": "Visit",
    }
    given = copy.deepcopy(coding)
    bundle = schedule_to_fhir(
        start().schedule,
        patient="https://fhir.clinic.example/r4/Patient/example-1",
        service_request="ServiceRequest/order-7",
        actors=("Location/chair-2",),
        service_type=given,
    )
    check_r4_rules(bundle)
    first, second = appointments(bundle)[:2]
    assert first["serviceType"] == [coding]
    assert first["basedOn"] == [{"reference": "ServiceRequest/order-7"}]
    assert [p["actor"]["reference"] for p in first["participant"]] == [
        "https://fhir.clinic.example/r4/Patient/example-1",
        "Location/chair-2",
    ]
    first["serviceType"][0]["text"] = "changed"  # each resource has its own copy
    assert second["serviceType"] == [coding] and given == coding
    text = appointments(schedule_to_fhir(start().schedule, patient=PATIENT, service_type="Visit"))
    assert text[0]["serviceType"] == [{"text": "Visit"}]
    assert "basedOn" not in text[0]


def test_appointments_name_no_treatment_and_hold_no_patient_data() -> None:
    course = start(course_id="course-neutral-7")
    bundle = course_to_fhir(course, patient=PATIENT)
    for appointment in appointments(bundle):
        text = json.dumps(appointment).lower()
        for word in (*TREATMENT_WORDS, "standard-10hz", *course.schedule.phases()):
            assert word not in text, word
        assert "course-neutral-7" not in text
        assert appointment["serviceType"] == [{"text": "Appointment"}]
    # The patient appears as the caller's reference and nowhere else.
    assert json.dumps(bundle).count("Patient/") == len(appointments(bundle)) + 1


def test_one_session_is_the_bundles_appointment() -> None:
    course = recorded()
    bundle = course_to_fhir(course, patient=PATIENT, actors=["Location/chair-2"])
    for appointment in appointments(bundle):
        number = extension(appointment, RECURRENCE_ID_URL)
        alone = session_to_fhir(course, number, patient=PATIENT, actors=["Location/chair-2"])
        assert alone == appointment
        assert roundtrip(alone) == alone
    with pytest.raises(FhirExportError, match="session: the course has no session 99"):
        session_to_fhir(course, 99, patient=PATIENT)
    with pytest.raises(FhirExportError, match="source: must be a Course or a Schedule"):
        session_to_fhir("c-1", 1, patient=PATIENT)  # type: ignore[arg-type]


def test_json_text_is_deterministic_and_reads_back() -> None:
    course = recorded()
    text = fhir_to_json(course_to_fhir(course, patient=PATIENT, stamp=STAMP))
    assert text == fhir_to_json(course_to_fhir(course, patient=PATIENT, stamp=STAMP))
    assert text.endswith("}\n") and text.startswith('{\n  "resourceType": "Bundle"')
    assert json.loads(text) == course_to_fhir(course, patient=PATIENT, stamp=STAMP)
    assert Bundle.model_validate_json(text).type == "collection"


# -- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "patient",
    [
        "example-1",
        "Patient/",
        "Patient/a b",
        "Patient/" + "a" * 65,
        "Patient/x/_history/1",
        "Practitioner/example-1",
        "patient/example-1",
        "Patient/example-1\n",
        None,
    ],
)
def test_a_patient_must_be_a_patient_reference(patient: object) -> None:
    with pytest.raises(
        FhirExportError, match="patient: must be a FHIR reference like 'Patient/<id>'"
    ):
        schedule_to_fhir(start().schedule, patient=patient)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"service_request": "CarePlan/cp-1"},
            "service_request: must be a FHIR reference like 'ServiceRequest/<id>'",
        ),
        (
            {"actors": ["Patient/example-2"]},
            "actors: must be a FHIR reference like 'Practitioner/<id>'",
        ),
        ({"actors": "Location/chair-2"}, "actors: must be a list of references"),
        ({"service_type": ""}, "service_type: must be a non-empty text"),
        ({"service_type": {"code": "x"}}, "service_type: must be a text or a CodeableConcept"),
        ({"service_type": {"coding": "x"}}, "service_type: 'coding' must be a list"),
        (
            {"service_type": {"coding": [{"code": 7}]}},
            "service_type: coding 'code' must be a non-empty text",
        ),
        (
            {"service_type": {"coding": [{"userSelected": "yes"}]}},
            "service_type: 'userSelected' must be a boolean",
        ),
        ({"service_type": {"coding": [{"sytem": "x"}]}}, "service_type: each coding has only"),
        ({"bundle_type": "batch"}, "bundle_type: must be 'collection' or 'transaction'"),
        ({"stamp": dt.datetime(2026, 11, 20)}, "stamp: must be a timezone-aware datetime"),
        ({"uid_key": "short"}, "uid_key: must be a secret of at least 16 characters"),
        ({"original": "revision 0"}, "original: must be a Schedule"),
    ],
)
def test_bad_inputs_name_the_argument(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(FhirExportError, match=message):
        schedule_to_fhir(start().schedule, patient=PATIENT, **arguments)  # type: ignore[arg-type]


def test_the_course_and_schedule_must_be_what_they_say() -> None:
    with pytest.raises(FhirExportError, match="course: must be a Course"):
        course_to_fhir(start().schedule, patient=PATIENT)  # type: ignore[arg-type]
    with pytest.raises(FhirExportError, match="schedule: must be a Schedule"):
        schedule_to_fhir(start(), patient=PATIENT)  # type: ignore[arg-type]
