"""Delivery: getting a course's sessions to patients and to clinic systems.

The exports in :mod:`tms_schedule.export` write a whole schedule as a file; the modules
here hand sessions over the ways clinics and patients receive them.

========================  ==================================================================
module                    what it delivers
========================  ==================================================================
``delivery.imip``         one session's invitation or cancellation as a ready e-mail
                          (iMIP, RFC 6047): the same UID as the course's calendar file
``delivery.fhir``         a course as FHIR R4 resources for clinic software: a CarePlan and
                          one Appointment per session, in a Bundle of plain JSON-ready dicts
========================  ==================================================================

Like the exports, each is a pure function of its inputs: none reads a clock, sends mail or
opens a connection; the clinic's own systems do that with what is returned.
"""
