"""FHIR R4: a course as a CarePlan and one Appointment per session, for clinic software.

Clinic systems that speak FHIR (an EHR, a practice-management system) take a course as
resources rather than as a calendar file. :func:`course_to_fhir` and
:func:`schedule_to_fhir` give a ``Bundle`` of plain, JSON-ready dicts (no FHIR library is
needed to make them; :func:`fhir_to_json` writes the text); :func:`session_to_fhir` gives the
one ``Appointment`` of a session that changed.

What the resources hold, and why:

* **One Appointment per session**, every state included: ``status`` follows the course's
  record (scheduled → ``booked``, attended → ``fulfilled``, missed → ``noshow``, cancelled →
  ``cancelled``); ``start`` and ``end`` are FHIR instants with the clinic's UTC offset;
  ``minutesDuration``; a ``serviceType`` that names no treatment ("Appointment") unless
  the caller gives its own coding; the patient as the one required ``participant``.
* **The patient is a reference the caller gives** (``"Patient/example-1"``), never patient
  data: the library knows no names, birth dates or identifiers, and checks that the
  reference has the form of one.
* **Stable ids.** An Appointment's ``id`` is the session's calendar UID
  (:func:`~tms_schedule.export.uid.session_uid`, keyed with the clinic's ``uid_key``), and
  its ``identifier`` is the same UID as ``urn:uuid:``, so the Appointment, the event in the
  patient's calendar and an invitation about the session share one identity. The CarePlan's
  id is derived from the course id the same way (:func:`~tms_schedule.export.uid.course_uid`).
  Re-exporting a course after a re-plan gives the same ids: receivers update, not duplicate.
* **The course is a CarePlan** (``intent: plan``): ``active`` while sessions are to come or
  owed, ``completed`` once none are; its ``period`` runs from the first session to the end
  of the last one that counts; one ``activity`` per session references its Appointment; a
  ``note`` names the protocol (for clinic software: nothing here is shown to patients).
  In R4 an Appointment's ``basedOn`` may reference only a ServiceRequest, so the CarePlan
  points to its Appointments rather than the other way round; the clinic's own order for
  the course (``service_request="ServiceRequest/..."``) becomes every Appointment's
  ``basedOn`` when given. (R5 lets ``basedOn`` name a CarePlan.)
* **The position in the series**, which R4's Appointment cannot say, travels in FHIR's
  official R5 cross-version extensions: ``recurrenceId`` is the session's number (its
  identity in the course: it stays the same when the session moves, like the calendar's
  UID), and ``occurrenceChanged`` says whether the session no longer is where the original
  plan put it. That is exact against the plan as first expanded: a session with a
  SEQUENCE above 0 whose times differ from the original's, or one a re-plan added. A
  :class:`~tms_schedule.Course` keeps its first plan (revision 0), so a course's export
  is always exact; a bare :class:`~tms_schedule.Schedule` needs ``original=`` for it.
  Without one, only what SEQUENCE proves is said: a session at SEQUENCE 0 never moved,
  one numbered beyond the protocol's count was added; for the rest (SEQUENCE also rises
  when a session is recorded missed or cancelled, or its place in the course changes)
  the extension is left out.
* **A Bundle** of type ``collection`` by default: a set of resources the receiver files as
  it sees fit. Every entry's ``fullUrl`` is its ``urn:uuid:`` and references between the
  entries use it, which the FHIR rules resolve inside the bundle. With
  ``bundle_type="transaction"`` each entry also carries a ``PUT`` to ``Type/id``: a FHIR
  server that accepts client-assigned ids applies the whole course at once, and because
  the ids are stable, sending it again after a change updates the same resources.

Everything is a function of the inputs: no clock (the optional ``stamp`` is the bundle's
``timestamp``), and the same course gives equal dicts and the same JSON text.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from tms_schedule._validate import is_whole
from tms_schedule.errors import FhirExportError
from tms_schedule.export.uid import course_uid, session_uid
from tms_schedule.schedule import Schedule, Session

if TYPE_CHECKING:
    from tms_schedule.course import Course

__all__ = [
    "APPOINTMENT_STATUS",
    "FHIR_VERSION",
    "OCCURRENCE_CHANGED_URL",
    "RECURRENCE_ID_URL",
    "SERVICE_TYPE",
    "course_to_fhir",
    "fhir_to_json",
    "schedule_to_fhir",
    "session_to_fhir",
]

#: The FHIR release the resources follow (R4).
FHIR_VERSION = "4.0.1"
#: The R5 element ``Appointment.recurrenceId`` as an R4 extension (a positiveInt).
RECURRENCE_ID_URL = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.recurrenceId"
#: The R5 element ``Appointment.occurrenceChanged`` as an R4 extension (a boolean).
OCCURRENCE_CHANGED_URL = (
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.occurrenceChanged"
)
#: Appointment.status for each session status.
APPOINTMENT_STATUS: Mapping[str, str] = MappingProxyType(
    {"scheduled": "booked", "attended": "fulfilled", "missed": "noshow", "cancelled": "cancelled"}
)
#: The serviceType every Appointment carries unless the caller gives its own: no treatment.
SERVICE_TYPE: Mapping[str, Any] = MappingProxyType({"text": "Appointment"})

_URI = "urn:ietf:rfc:3986"
_ID = r"[A-Za-z0-9\-.]{1,64}"
_TYPE = r"[A-Z][A-Za-z]{1,63}"
# A literal reference: "Type/id", or an absolute RESTful URL ending in it (FHIR R4 §2.3.0).
_REFERENCE = re.compile(rf"(?:https?://[^\s/?#]+(?:/[^\s/?#]+)*/)?({_TYPE})/{_ID}")
# Who may take part in an R4 Appointment besides the patient.
_ACTOR_TYPES = (
    "Practitioner",
    "PractitionerRole",
    "RelatedPerson",
    "Device",
    "HealthcareService",
    "Location",
)
_CODING_KEYS = frozenset({"system", "version", "code", "display", "userSelected"})
_CONCEPT_KEYS = frozenset({"coding", "text"})
BundleType = Literal["collection", "transaction"]


def course_to_fhir(
    course: Course,
    *,
    patient: str,
    original: Schedule | None = None,
    service_type: str | Mapping[str, Any] | None = None,
    service_request: str | None = None,
    actors: Sequence[str] = (),
    bundle_type: BundleType = "collection",
    uid_key: str | bytes | None = None,
    stamp: dt.datetime | None = None,
) -> dict[str, Any]:
    """The course as a FHIR R4 Bundle: its CarePlan, then one Appointment per session.

    The same as :func:`schedule_to_fhir` on ``course.schedule``; the CarePlan also notes the
    course this one follows (maintenance, continuation or rescue), when it follows one.

    >>> from tms_schedule import ClinicCalendar, Course, Plan
    >>> course = Course.start(Plan("itbs", ClinicCalendar("Europe/Berlin"), "2026-11-16", "09:00", "c-1"))
    >>> now = dt.datetime(2026, 11, 17, 18, 0, tzinfo=dt.UTC)
    >>> course = course.attended(1, now=now).missed(2, "patient", now=now)
    >>> bundle = course_to_fhir(course, patient="Patient/example-1")
    >>> [e["resource"]["status"] for e in bundle["entry"][:4]]
    ['active', 'fulfilled', 'noshow', 'booked']
    """
    schedule = getattr(course, "schedule", None)
    if not isinstance(schedule, Schedule):
        raise FhirExportError(f"course: must be a Course, got {course!r}")
    if hasattr(course, "check_uid_key"):
        course.check_uid_key(uid_key)  # the ids are the calendar's UIDs: the same key
    notes = []
    follows = getattr(course, "follows", None)
    if follows:
        relation = getattr(course, "relation", None)
        notes.append(f"Follows course {follows}" + (f" ({relation})" if relation else ""))
    return _bundle(
        schedule,
        patient=patient,
        original=_first_plan(course) if original is None else original,
        service_type=service_type,
        service_request=service_request,
        actors=actors,
        bundle_type=bundle_type,
        uid_key=uid_key,
        stamp=stamp,
        notes=notes,
    )


def _first_plan(course: Any) -> Schedule | None:
    """The course's sessions as first planned (its revision 0), when it keeps them."""
    first = getattr(course, "revision_schedule", None)
    return first(0) if callable(first) else None


def schedule_to_fhir(
    schedule: Schedule,
    *,
    patient: str,
    original: Schedule | None = None,
    service_type: str | Mapping[str, Any] | None = None,
    service_request: str | None = None,
    actors: Sequence[str] = (),
    bundle_type: BundleType = "collection",
    uid_key: str | bytes | None = None,
    stamp: dt.datetime | None = None,
) -> dict[str, Any]:
    """The schedule as a FHIR R4 Bundle: a CarePlan, then one Appointment per session.

    Args:
        schedule: the course's sessions, in every state.
        patient: the caller's reference to its Patient resource (``"Patient/example-1"``,
            or an absolute URL ending in ``Patient/<id>``). Only the reference is written.
        original: the schedule as first planned (``plan.expand()`` before anything was
            recorded), for the exact ``occurrenceChanged``; a course's own first plan by
            default (see the module's description).
        service_type: each Appointment's ``serviceType``: a text, or a CodeableConcept as a
            dict (``{"coding": [{"system": ..., "code": ...}], "text": ...}``). Default:
            ``{"text": "Appointment"}``.
        service_request: the clinic's order for the course (``"ServiceRequest/..."``), the
            ``basedOn`` of every Appointment.
        actors: more participants of every Appointment: references to a Location,
            Practitioner, PractitionerRole, HealthcareService, Device or RelatedPerson.
        bundle_type: ``"collection"`` (default), or ``"transaction"`` for a FHIR server:
            each entry is then a PUT to its stable id.
        uid_key: the clinic's UID secret, the same as for its calendar files.
        stamp: when the bundle is made (timezone-aware): its ``timestamp``, in UTC. Without
            it the bundle has none.

    Raises:
        FhirExportError: a reference that is not one (or of the wrong type), a service type
            of the wrong shape, an original schedule of another course.

    >>> from tms_schedule import ClinicCalendar, Plan
    >>> schedule = Plan("itbs", ClinicCalendar("Europe/Berlin"), "2026-11-16", "09:00", "c-1").expand()
    >>> bundle = schedule_to_fhir(schedule, patient="Patient/example-1")
    >>> bundle["type"], len(bundle["entry"]), bundle["entry"][1]["resource"]["start"]
    ('collection', 31, '2026-11-16T09:00:00+01:00')
    """
    if not isinstance(schedule, Schedule):
        raise FhirExportError(f"schedule: must be a Schedule, got {schedule!r}")
    return _bundle(
        schedule,
        patient=patient,
        original=original,
        service_type=service_type,
        service_request=service_request,
        actors=actors,
        bundle_type=bundle_type,
        uid_key=uid_key,
        stamp=stamp,
        notes=[],
    )


def session_to_fhir(
    source: Schedule | Course,
    session: int,
    *,
    patient: str,
    original: Schedule | None = None,
    service_type: str | Mapping[str, Any] | None = None,
    service_request: str | None = None,
    actors: Sequence[str] = (),
    uid_key: str | bytes | None = None,
) -> dict[str, Any]:
    """The Appointment of one session, as the bundle holds it: for sending one change.

    The arguments are those of :func:`schedule_to_fhir`; ``session`` is the session's number.

    >>> from tms_schedule import ClinicCalendar, Course, Plan
    >>> course = Course.start(Plan("itbs", ClinicCalendar("Europe/Berlin"), "2026-11-16", "09:00", "c-1"))
    >>> appointment = session_to_fhir(course.cancelled(3), 3, patient="Patient/example-1")
    >>> appointment["status"], appointment["extension"][0]["valuePositiveInt"]
    ('cancelled', 3)
    """
    schedule = source if isinstance(source, Schedule) else getattr(source, "schedule", None)
    if not isinstance(schedule, Schedule):
        raise FhirExportError(f"source: must be a Course or a Schedule, got {source!r}")
    if original is None and not isinstance(source, Schedule):
        original = _first_plan(source)
    if not is_whole(session):
        raise FhirExportError(f"session: must be a session number, got {session!r}")
    found = [s for s in schedule.sessions if s.number == session]
    if not found:
        numbers = sorted(s.number for s in schedule.sessions)
        raise FhirExportError(
            f"session: the course has no session {session}; sessions are"
            f" {numbers[0]} to {numbers[-1]}"
            if numbers
            else "session: the course has no sessions"
        )
    shared = _Shared.check(
        schedule, patient, original, service_type, service_request, actors, uid_key
    )
    return shared.appointment(found[0])


def fhir_to_json(resource: Mapping[str, Any], *, indent: int | None = 2) -> str:
    """A resource or bundle as JSON text (UTF-8 safe, keys in the order FHIR lists them).

    >>> fhir_to_json({"resourceType": "Bundle", "type": "collection"}, indent=None)
    '{"resourceType": "Bundle", "type": "collection"}\\n'
    """
    return json.dumps(resource, indent=indent, ensure_ascii=False) + "\n"


def _bundle(
    schedule: Schedule,
    *,
    patient: Any,
    original: Any,
    service_type: Any,
    service_request: Any,
    actors: Any,
    bundle_type: Any,
    uid_key: Any,
    stamp: Any,
    notes: list[str],
) -> dict[str, Any]:
    if bundle_type not in ("collection", "transaction"):
        raise FhirExportError(
            f"bundle_type: must be 'collection' or 'transaction', got {bundle_type!r}"
        )
    if stamp is not None and (not isinstance(stamp, dt.datetime) or stamp.utcoffset() is None):
        raise FhirExportError(f"stamp: must be a timezone-aware datetime, got {stamp!r}")
    shared = _Shared.check(
        schedule, patient, original, service_type, service_request, actors, uid_key
    )
    resources = [shared.care_plan(notes), *(shared.appointment(s) for s in schedule.sessions)]
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": bundle_type}
    if stamp is not None:
        bundle["timestamp"] = stamp.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    entries = []
    for resource in resources:
        entry: dict[str, Any] = {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
        if bundle_type == "transaction":
            entry["request"] = {
                "method": "PUT",
                "url": f"{resource['resourceType']}/{resource['id']}",
            }
        entries.append(entry)
    bundle["entry"] = entries
    return bundle


class _Shared:
    """What every resource of one export shares, checked once."""

    def __init__(
        self,
        schedule: Schedule,
        patient: str,
        original: dict[int, Session] | None,
        service_type: Mapping[str, Any],
        service_request: str | None,
        actors: tuple[str, ...],
        key: str | bytes | None,
    ) -> None:
        self.schedule = schedule
        self.patient = patient
        self.original = original
        self.service_type = service_type
        self.service_request = service_request
        self.actors = actors
        self.key = key

    @classmethod
    def check(
        cls,
        schedule: Schedule,
        patient: Any,
        original: Any,
        service_type: Any,
        service_request: Any,
        actors: Any,
        uid_key: Any,
    ) -> _Shared:
        _check_reference("patient", patient, ("Patient",))
        if service_request is not None:
            _check_reference("service_request", service_request, ("ServiceRequest",))
        if isinstance(actors, str) or not isinstance(actors, Sequence):
            raise FhirExportError(
                f"actors: must be a list of references such as 'Location/room-1', got {actors!r}"
            )
        for actor in actors:
            _check_reference("actors", actor, _ACTOR_TYPES)
        if uid_key is not None and (not isinstance(uid_key, str | bytes) or len(uid_key) < 16):
            raise FhirExportError(
                "uid_key: must be a secret of at least 16 characters (the clinic's UID key)"
            )
        by_number = None
        if original is not None:
            if not isinstance(original, Schedule):
                raise FhirExportError(f"original: must be a Schedule, got {original!r}")
            if original.course_id != schedule.course_id:
                raise FhirExportError(
                    f"original: is a schedule of course {original.course_id!r}, not of"
                    f" {schedule.course_id!r}"
                )
            by_number = {s.number: s for s in original.sessions}
        return cls(
            schedule,
            patient,
            by_number,
            _service_type(service_type),
            service_request,
            tuple(actors),
            uid_key,
        )

    def appointment(self, session: Session) -> dict[str, Any]:
        uid = session_uid(self.schedule.course_id, session.number, self.key)
        extension: list[dict[str, Any]] = [
            {"url": RECURRENCE_ID_URL, "valuePositiveInt": session.number}
        ]
        changed = self.changed(session)
        if changed is not None:
            extension.append({"url": OCCURRENCE_CHANGED_URL, "valueBoolean": changed})
        resource: dict[str, Any] = {
            "resourceType": "Appointment",
            "id": uid,
            "extension": extension,
            "identifier": [{"system": _URI, "value": f"urn:uuid:{uid}"}],
            "status": APPOINTMENT_STATUS[session.status],
            "serviceType": [copy.deepcopy(dict(self.service_type))],
            "start": _instant(session.start),
            "end": _instant(session.end),
            "minutesDuration": max(int(session.duration.total_seconds() // 60), 1),
        }
        if self.service_request is not None:
            resource["basedOn"] = [{"reference": self.service_request}]
        resource["participant"] = [
            {"actor": {"reference": reference}, "required": "required", "status": "accepted"}
            for reference in (self.patient, *self.actors)
        ]
        return resource

    def changed(self, session: Session) -> bool | None:
        """Whether the session left the place the original plan gave it (None: cannot say)."""
        if self.original is not None:
            first = self.original.get(session.number)
            if first is None:
                return True  # a re-plan added it: no place in the original series
            return session.sequence > 0 and (
                first.start != session.start or first.end != session.end
            )
        target = self.schedule.target
        if target is not None and session.number > target:
            return True  # a re-plan added it: no place in the original series
        if session.sequence == 0:
            return False  # never moved: every move raises SEQUENCE
        return None  # SEQUENCE also rises when a session is recorded or changes place

    def care_plan(self, notes: list[str]) -> dict[str, Any]:
        schedule = self.schedule
        uid = course_uid(schedule.course_id, self.key)
        progress = schedule.progress()
        done = bool(schedule.sessions) and progress.to_come == 0 and progress.owed == 0
        resource: dict[str, Any] = {
            "resourceType": "CarePlan",
            "id": uid,
            "identifier": [{"system": _URI, "value": f"urn:uuid:{uid}"}],
            "status": "completed" if done else "active",
            "intent": "plan",
            "subject": {"reference": self.patient},
        }
        if schedule.sessions:
            counted = schedule.active_sessions() or schedule.sessions
            resource["period"] = {
                "start": _instant(min(s.start for s in schedule.sessions)),
                "end": _instant(max(s.end for s in counted)),
            }
            resource["activity"] = [
                {
                    "reference": {
                        "reference": f"urn:uuid:{session_uid(schedule.course_id, s.number, self.key)}",
                        "type": "Appointment",
                    }
                }
                for s in schedule.sessions
            ]
        resource["note"] = [
            {"text": text} for text in (f"Protocol: {schedule.protocol_id}", *notes)
        ]
        return resource


def _instant(moment: dt.datetime) -> str:
    """A FHIR instant: seconds and the UTC offset (``2026-11-16T09:00:00-07:00``)."""
    return moment.isoformat(timespec="seconds")


def _check_reference(name: str, value: Any, types: Sequence[str]) -> None:
    match = _REFERENCE.fullmatch(value) if isinstance(value, str) else None
    if match is None or match[1] not in types:
        kinds = " or ".join(f"'{t}/<id>'" for t in types)
        raise FhirExportError(
            f"{name}: must be a FHIR reference like {kinds} (an id of letters, digits, '-'"
            f" and '.', at most 64), got {value!r}"
        )


def _service_type(value: Any) -> Mapping[str, Any]:
    """The serviceType CodeableConcept: the caller's text or coding, checked for shape."""
    if value is None:
        return SERVICE_TYPE
    if isinstance(value, str):
        if not value.strip() or len(value) > 200:
            raise FhirExportError(
                f"service_type: must be a non-empty text of at most 200 characters, got {value!r}"
            )
        return {"text": value}
    problem = "must be a text or a CodeableConcept dict with 'coding' and/or 'text'"
    if not isinstance(value, Mapping) or not value or set(value) - _CONCEPT_KEYS:
        raise FhirExportError(f"service_type: {problem}, got {value!r}")
    if "text" in value and (not isinstance(value["text"], str) or not value["text"].strip()):
        raise FhirExportError(f"service_type: 'text' must be a non-empty text, got {value!r}")
    codings = value.get("coding", [])
    if not isinstance(codings, Sequence) or isinstance(codings, str):
        raise FhirExportError(f"service_type: 'coding' must be a list, got {value!r}")
    for coding in codings:
        if not isinstance(coding, Mapping) or not coding or set(coding) - _CODING_KEYS:
            raise FhirExportError(
                f"service_type: each coding has only {', '.join(sorted(_CODING_KEYS))},"
                f" got {coding!r}"
            )
        for key, item in coding.items():
            if key == "userSelected" and not isinstance(item, bool):
                raise FhirExportError(
                    f"service_type: 'userSelected' must be a boolean, got {item!r}"
                )
            if key != "userSelected" and (not isinstance(item, str) or not item.strip()):
                raise FhirExportError(
                    f"service_type: coding {key!r} must be a non-empty text, got {item!r}"
                )
    return copy.deepcopy(dict(value))
