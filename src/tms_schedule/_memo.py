"""What was worked out from an object, kept by that very object.

A value (a plan, a course's state) is often asked the same question again a moment later,
by another step of the same action (taking an offer expands the offered plan, then the new
course expands it again). :class:`ByIdentity` remembers the answer for the object itself,
not for an equal one, through a weak reference: an entry whose object is gone is never
taken for another's that got its id.
"""

from __future__ import annotations

import weakref
from typing import Generic, TypeVar

__all__ = ["ByIdentity"]

K = TypeVar("K")
V = TypeVar("V")


class ByIdentity(Generic[K, V]):
    """Values by the object they were worked out from; at most ``size``, then forgotten
    all at once (the objects asked about in one action are few).

    >>> class Plan:
    ...     pass
    >>> memo: ByIdentity[Plan, str] = ByIdentity(2)
    >>> plan = Plan()
    >>> memo.put(plan, "expanded")
    >>> memo.get(plan), memo.get(Plan())
    ('expanded', None)
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._found: dict[int, tuple[weakref.ref[K], V]] = {}

    def get(self, key: K) -> V | None:
        known = self._found.get(id(key))
        if known is None or known[0]() is not key:
            return None
        return known[1]

    def put(self, key: K, value: V) -> None:
        if len(self._found) >= self._size:
            self._found.clear()
        self._found[id(key)] = (weakref.ref(key), value)
