"""Pages: the printable pages people read (the handout, the day sheet, chair time, room
for more courses), drawn from Jinja2 templates, and the text and CSV renderings beside them.

========================  ==================================================================
module                    what it renders
========================  ==================================================================
``pages.handout``         the patient's handout (:mod:`tms_schedule.export.handout`)
``pages.day_sheet``       the day sheet: page, text, CSV (:mod:`tms_schedule.book.sheet`)
``pages.usage``           chair time: page with the heat map, text, CSV
                          (:mod:`tms_schedule.book.usage`)
``pages.room``            room for more courses (:mod:`tms_schedule.book.room`)
``pages.templates``       the templates: ``base.html``, a template a page, ``fragments/``,
                          ``macros/``, ``css/``
========================  ==================================================================

Every page is a template extending ``base.html`` (the frame: the head, the shared print
CSS, the foot of every printed page) and built of fragments that other pages (the front
desk's) include as they are; each template says at its top what it expects. The templates
escape every text they are given (autoescaping is on) and refuse a name they are not given
(``StrictUndefined``), so a page never shows a blank where a value was forgotten.

>>> import datetime as dt
>>> from tms_schedule.schedule import SkippedDay
>>> page = render("fragments/skipped_days.html",
...     skipped=[SkippedDay(dt.date(2026, 11, 26), "Thanksgiving <closed>")])
>>> print(page, end="")
<section class="after">
<h2>Days skipped</h2>
<ul class="skipped">
<li><span class="date">Thu 26 Nov 2026</span> <span>Thanksgiving &lt;closed&gt;</span></li>
</ul>
</section>
"""

from __future__ import annotations

import functools
from typing import Any

import jinja2

from tms_schedule._dates import WEEKDAY_ABBR, WEEKDAY_FULL
from tms_schedule.pages._format import FILTERS, STAFF_ONLY

__all__ = ["environment", "render"]


@functools.cache
def environment() -> jinja2.Environment:
    """The templates' environment, built once: the package's ``templates`` folder,
    autoescaping on, an unknown name an error, and the filters the pages share."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tms_schedule.pages", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        # A line holding only a tag leaves nothing in the page; a file keeps its last line
        # end (a page ends with one).
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # The templates are package data: they change with the package, never while it runs.
        auto_reload=False,
    )
    env.filters.update(FILTERS)
    # Monday first: ("Mon", "Monday"), ...
    env.globals["WEEKDAYS"] = tuple(zip(WEEKDAY_ABBR, WEEKDAY_FULL, strict=True))
    env.globals["STAFF_ONLY"] = STAFF_ONLY
    return env


def render(template: str, /, **context: Any) -> str:
    """The template named ``template`` (a path under ``templates/``) with ``context``."""
    return environment().get_template(template).render(context)
