"""Courses: a plan plus what happened — attendance, misses, moves, re-plans, billing, insurance.

A :class:`Course` is immutable: every recording returns a new course, and an impossible one
(attending a session twice, a date before the course began, a session that does not exist)
raises :class:`~tms_schedule.errors.CourseError` and leaves the course as it was. What was
recorded is never lost: the records are kept in order, and each re-plan is kept as a
:class:`Revision`.

========================  ==================================================================
module                    what it holds
========================  ==================================================================
``course.lifecycle``      :class:`Course` and its :class:`Revision`\\ s
``course.record``         :class:`Record` and how one changes a schedule
``course.replan``         the catch-up policies that re-plan the remaining sessions
``course.milestones``     :class:`MilestoneRules`: ratings, motor threshold, billing codes
``course.authorization``  insurance :class:`Authorization`\\ s and their reports, staged ones
``course.ratings``        :class:`Rating`\\ s with their scores and the outcome against baseline
``course.decisions``      a staged authorization's decision, and an early end
``course.linked``         one patient's courses, which never overlap
``course.changes``        what changed between two states, in words
``course.codec``          a course (with its protocol and calendar) as plain data and back
``course.file``           the course file: that data as JSON, locked and saved atomically
========================  ==================================================================
"""

from tms_schedule.course.authorization import (
    MEDICARE_A57692,
    Authorization,
    AuthorizationReport,
    Continuation,
    Extension,
    StagedAuthorization,
)
from tms_schedule.course.changes import Change, Changes
from tms_schedule.course.lifecycle import Course, Revision
from tms_schedule.course.milestones import MilestoneRules
from tms_schedule.course.ratings import SCALES, Rating, RatingOutcome, Scale
from tms_schedule.course.record import CAUSES, RECORD_KINDS, Record
from tms_schedule.course.replan import BLOCK_CHOICES, POLICIES
from tms_schedule.errors import BlockBreakError, CourseError

__all__ = [
    "BLOCK_CHOICES",
    "CAUSES",
    "MEDICARE_A57692",
    "POLICIES",
    "RECORD_KINDS",
    "SCALES",
    "Authorization",
    "AuthorizationReport",
    "BlockBreakError",
    "Change",
    "Changes",
    "Continuation",
    "Course",
    "CourseError",
    "Extension",
    "MilestoneRules",
    "Rating",
    "RatingOutcome",
    "Record",
    "Revision",
    "Scale",
    "StagedAuthorization",
]
