"""Conveniences: a method of a lower layer whose work is done by a module of a layer above.

``Schedule.to_ics()`` hands its work to the iCalendar export, ``Course.save()`` to the
course file, ``Book.day_sheet()`` to the day sheet. Each of those modules builds on the
class whose method it serves, so the class's own module must not import it back: the
layers (``docs/design.md``, kept by ``tests/test_architecture.py``) run one way. Instead the
method asks for the function here by a name that says what it does ("schedule_to_ics"),
and the package's ``__init__`` (the one module above every layer, which already says where
each public name lives) lists the module and function behind each name. That module is
imported on first use, so a program that never exports never loads the exporters.

>>> provided("schedule_to_text").__module__
'tms_schedule.export.text'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["HOMES", "provided"]

#: Each convenience's function as ``"module:function"``, by name (filled by the package's
#: ``__init__``).
HOMES: dict[str, str] = {}


def provided(name: str) -> Callable[..., Any]:
    """The function behind convenience ``name``, its module imported on first use."""
    module, _, function = HOMES[name].partition(":")
    result: Callable[..., Any] = getattr(importlib.import_module(module), function)
    return result
