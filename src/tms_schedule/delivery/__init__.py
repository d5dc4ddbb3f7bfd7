"""Delivery: getting a course's sessions to patients and to clinic systems.

The exports in :mod:`tms_schedule.export` write a whole schedule as a file; the modules
here hand sessions over the ways clinics and patients receive them.

========================  ==================================================================
module                    what it delivers
========================  ==================================================================
``delivery.feed``         a patient's subscription feed: all their courses at a revocable
                          HMAC token address, with ETag, Last-Modified and a cache
``delivery.sources``      where the courses of a feed are: a folder of course files, or the
                          clinic's own storage behind the same two methods
``delivery.server``       the WSGI feed server of ``tms-schedule serve`` (``serve`` extra)
``delivery.imip``         one session's invitation or cancellation as a ready e-mail
                          (iMIP, RFC 6047): the same UID as the course's calendar file
``delivery.caldav``       one calendar object per session, pushed to a CalDAV collection
                          (``caldav`` extra)
``delivery.fhir``         a course as FHIR R4 resources for clinic software: a CarePlan and
                          one Appointment per session, in a Bundle of plain JSON-ready dicts
========================  ==================================================================

None reads a clock or sends mail: the time is an argument, and the clinic's own systems send
what is returned. Only the feed server (which listens) and the CalDAV push (which talks to
the clinic's server) open connections, when asked.
"""
