"""Shared test setup."""

import os

from hypothesis import settings

# The independent-parser scripts run under node and the system Python, not under pytest.
collect_ignore = ["parsers"]

# `HYPOTHESIS_PROFILE=thorough` runs every property on many more examples (before a
# release, or after changing the rules); the default keeps the suite quick.
settings.register_profile("thorough", max_examples=1500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def postgres_address():  # type: ignore[no-untyped-def]
    """A throwaway PostgreSQL cluster for the whole run (see tests/postgres.py): the
    address of its database; stopped and removed at the end."""
    import postgres

    postgres.require()
    with postgres.cluster() as address:
        yield address


@pytest.fixture(params=["sqlite", "postgresql"])
def book_location(request, tmp_path):  # type: ignore[no-untyped-def]
    """Where a new book goes, on each engine: a file, or a fresh site of the cluster."""
    if request.param == "sqlite":
        return str(tmp_path / "book.db")
    import postgres

    return postgres.fresh_site(request.getfixturevalue("postgres_address"))
