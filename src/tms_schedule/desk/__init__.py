"""The front desk in a browser: today's chairs, check-in, new courses, closures and call
lists, for staff who never open a terminal.

``tms-schedule desk BOOK`` runs it (:func:`~tms_schedule.desk.server.serve_desk`);
:func:`~tms_schedule.desk.app.create_app` builds the WSGI application for clinic software
that serves it itself. It needs the ``desk`` extra (Flask, argon2-cffi, segno, waitress).
"""

from __future__ import annotations

__all__ = ["ROLES"]

from tms_schedule.desk.port import ROLES
