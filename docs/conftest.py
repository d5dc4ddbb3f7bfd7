"""pytest runs the ``>>>`` examples of the pages here (``--doctest-glob=docs/*.md``).

Sphinx's configuration and build output are not tests.
"""

collect_ignore = ["conf.py", "_build"]
