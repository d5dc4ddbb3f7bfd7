"""Shared test setup."""

# The independent-parser scripts run under node and the system Python, not under pytest.
collect_ignore = ["parsers"]
