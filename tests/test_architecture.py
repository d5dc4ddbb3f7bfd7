"""The package's layout keeps its rules: dependencies run one way, private names stay private.

The import graph is read from the source (no module is run): every ``import`` and ``from ...
import`` at module level, outside ``if TYPE_CHECKING:`` blocks. Imports inside functions are
the lazy delegations the design page allows (``Schedule.to_ics()``, ``Course.save()``) and
are not edges here; the import of a package's ``__init__`` implied by importing one of its
modules is not an edge either (every subpackage would otherwise import itself).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "tms_schedule"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported: not in functions, not for type checkers."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.append(node)
            elif isinstance(node, ast.If):
                if not _is_type_checking(node):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)

    visit(tree.body)
    return found


def _edges(name: str) -> tuple[set[str], list[str]]:
    """The package modules ``name`` imports at module level, and the private names it takes."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    targets: set[str] = set()
    private: list[str] = []
    for node in _top_level_imports(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names if alias.name in MODULES)
            continue
        assert node.level == 0, f"{name}: use absolute imports ({ast.unparse(node)})"
        source = node.module or ""
        if not source.startswith("tms_schedule"):
            continue
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            targets.add(submodule if submodule in MODULES else source)
            if alias.name.startswith("_") and alias.name != "__version__":
                private.append(f"{source}.{alias.name}")
    return targets - {name}, private


GRAPH = {name: _edges(name)[0] for name in MODULES}


def _cycle_from(start: str) -> list[str] | None:
    """A path of imports from ``start`` back to itself, if there is one."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for target in sorted(GRAPH.get(node, ())):
            if target == start:
                return [*path, start]
            if target not in seen:
                seen.add(target)
                stack.append((target, [*path, target]))
    return None


def test_the_graph_sees_the_package() -> None:
    assert "tms_schedule.plan" in GRAPH["tms_schedule.course.record"]
    assert "tms_schedule.export.options" in GRAPH["tms_schedule.export.ics"]
    assert len(MODULES) > 20


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_imports_itself_back(name: str) -> None:
    cycle = _cycle_from(name)
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_imports_another_modules_private_names(name: str) -> None:
    assert _edges(name)[1] == []


def _in_cli(name: str) -> bool:
    """The command line: ``cli`` and ``python -m tms_schedule``."""
    return name in ("tms_schedule.cli", "tms_schedule.__main__") or name.startswith(
        "tms_schedule.cli."
    )


def test_the_library_does_not_depend_on_its_command_line() -> None:
    for name, targets in GRAPH.items():
        if not _in_cli(name):
            assert not any(_in_cli(t) for t in targets), name


def test_the_command_line_modules_share_helpers_only_through_common() -> None:
    for name, targets in GRAPH.items():
        if name.startswith("tms_schedule.cli.") and name != "tms_schedule.cli.common":
            siblings = {t for t in targets if t.startswith("tms_schedule.cli.") and t != name} - {
                "tms_schedule.cli.common"
            }
            assert not siblings, f"{name} imports {sorted(siblings)}"


def test_import_loads_the_plan_model_and_nothing_it_does_not_need() -> None:
    """``import tms_schedule`` stays quick: exports, courses, settings files, the command line
    and icalendar load on first use."""
    code = (
        "import sys, tms_schedule\n"
        "print(' '.join(sorted(m for m in sys.modules"
        " if m.startswith(('tms_schedule', 'icalendar', 'tomllib')))))"
    )
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "tms_schedule.plan" in loaded
    for heavy in ("tms_schedule.course", "tms_schedule.export", "tms_schedule.settings"):
        assert heavy not in loaded, heavy
    assert not {"tms_schedule.cli", "icalendar", "tomllib"} & loaded


def test_every_public_name_resolves() -> None:
    import tms_schedule

    for name in tms_schedule.__all__:
        assert getattr(tms_schedule, name) is not None, name
    assert set(tms_schedule.__all__) <= set(dir(tms_schedule))
    with pytest.raises(AttributeError, match="no attribute 'Coures'"):
        tms_schedule.Coures  # type: ignore[attr-defined]  # noqa: B018 (misspelt on purpose)
