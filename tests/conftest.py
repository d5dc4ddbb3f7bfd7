"""Shared test setup."""

import os

from hypothesis import settings

# The independent-parser scripts run under node and the system Python, not under pytest.
collect_ignore = ["parsers"]

# `HYPOTHESIS_PROFILE=thorough` runs every property on many more examples (before a
# release, or after changing the rules); the default keeps the suite quick.
settings.register_profile("thorough", max_examples=1500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
