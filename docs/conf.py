"""Sphinx configuration: MyST markdown pages, API reference from the docstrings, furo theme.

The build needs no network: no intersphinx, no remote images or fonts.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx

_ROOT = Path(__file__).resolve().parent.parent
# Document the checkout's code, whichever tms_schedule is installed.
sys.path.insert(0, str(_ROOT / "src"))

project = "tms_schedule"
author = "tms_schedule developers"
copyright = "tms_schedule developers"
release = tomllib.loads((_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
    "version"
]
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# Markdown: link to sections of a page as page.md#section.
myst_heading_anchors = 3

# Docstrings are Google style. "Attributes:" sections become fields of the class rather
# than attribute entries, which autodoc would then describe a second time.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True
autodoc_member_order = "bysource"
autodoc_typehints = "signature"

html_theme = "furo"
html_title = f"tms_schedule {release}"
html_static_path: list[str] = []


def _trim_code_blocks(app: Sphinx, doctree: nodes.document) -> None:
    """Drop the blank line that ends each ``>>>`` example block.

    pytest runs the pages' examples as doctests, and a doctest's expected output runs to
    the next blank line; without one the closing fence would count as output.
    """
    for block in doctree.findall(nodes.literal_block):
        text = block.astext()
        trimmed = text.rstrip("\n")
        if trimmed != text and block.rawsource == text:
            block.rawsource = trimmed
            block[:] = [nodes.Text(trimmed)]


def setup(app: Sphinx) -> dict[str, bool]:
    app.connect("doctree-read", _trim_code_blocks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
