"""The package's layout keeps its rules: layers that run one way, no circles, private names
kept private.

The import graph is read from the source (no module is run): every ``import`` and ``from ...
import``, at module level and inside functions alike, outside ``if TYPE_CHECKING:`` blocks
(annotations only). The import of a package's ``__init__`` implied by importing one of its
modules is not an edge (every subpackage would otherwise import itself).

The layers are written down in ``docs/design.md``; :data:`LAYERS` is the same list, bottom
first. A module may import modules of its own layer and of the layers below, never one above.
The conveniences a lower layer offers (``Schedule.to_ics()``, ``Course.save()``) reach the
layer above through :mod:`tms_schedule._conveniences`, never through an import.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "tms_schedule"
DESIGN = PACKAGE.parent.parent / "docs" / "design.md"

#: The layers, bottom first: each a name and the modules (a package stands for all its
#: modules) that make it up. ``docs/design.md`` lists the same, in the same order.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "foundation",
        (
            "tms_schedule.errors",
            "tms_schedule._validate",
            "tms_schedule._dates",
            "tms_schedule._time",
            "tms_schedule._files",
            "tms_schedule._toml",
            "tms_schedule._conveniences",
            "tms_schedule._memo",
            "tms_schedule._version",
        ),
    ),
    (
        "calendar and protocols",
        (
            "tms_schedule.clinic",
            "tms_schedule.phase",
            "tms_schedule.protocol",
            "tms_schedule.catalogue",
        ),
    ),
    ("plan", ("tms_schedule.plan", "tms_schedule.schedule")),
    ("export", ("tms_schedule.export",)),
    ("course", ("tms_schedule.course",)),
    ("book and clinic file", ("tms_schedule.book", "tms_schedule.settings")),
    ("pages", ("tms_schedule.pages",)),
    ("delivery", ("tms_schedule.delivery",)),
    ("desk", ("tms_schedule.desk",)),
    ("command line", ("tms_schedule.cli", "tms_schedule.__main__")),
    ("package", ("tms_schedule",)),
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> int:
    """The position of ``module``'s layer in :data:`LAYERS` (the longest name that holds it)."""
    best: tuple[int, int] | None = None
    for position, (_, members) in enumerate(LAYERS):
        for member in members:
            holds = module == member or module.startswith(member + ".")
            if holds and (best is None or len(member) > best[0]):
                best = (len(member), position)
    if best is None:
        raise LookupError(f"{module} is in no layer: add it to LAYERS and to docs/design.md")
    return best[1]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import that can run: at module level and inside functions and classes, not
    those only type checkers read."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _edges(name: str) -> tuple[set[str], list[str]]:
    """The package modules ``name`` imports, and the private names it takes."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    targets: set[str] = set()
    private: list[str] = []
    for node in _imports(tree):
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
            # A private module (``_files``) may be imported; another module's private names not.
            if (
                alias.name.startswith("_")
                and not alias.name.startswith("__")
                and submodule not in MODULES
            ):
                private.append(f"{source}.{alias.name}")
    return targets - {name}, private


GRAPH = {name: _edges(name)[0] for name in MODULES}


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Each import of a module from a layer above the importer's, in words."""
    found = []
    for name, targets in sorted(graph.items()):
        for target in sorted(targets):
            if layer_of(target) > layer_of(name):
                found.append(
                    f"{name} ({LAYERS[layer_of(name)][0]}) imports {target}"
                    f" ({LAYERS[layer_of(target)][0]})"
                )
    return found


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """A path of imports from ``start`` back to itself, if there is one."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for target in sorted(graph.get(node, ())):
            if target == start:
                return [*path, start]
            if target not in seen:
                seen.add(target)
                stack.append((target, [*path, target]))
    return None


def test_every_module_is_in_a_layer() -> None:
    for name in MODULES:
        layer_of(name)


def test_no_module_imports_from_a_layer_above_it() -> None:
    assert upward_imports(GRAPH) == []


def test_the_layers_check_sees_a_broken_layer() -> None:
    """The check is not vacuous: an import of the command line from the clinic calendar, or
    of the book from inside a course function, is caught."""
    broken = {name: set(targets) for name, targets in GRAPH.items()}
    broken["tms_schedule.clinic"].add("tms_schedule.cli.common")
    broken["tms_schedule.course.lifecycle"].add("tms_schedule.book.book")
    found = upward_imports(broken)
    assert any(line.startswith("tms_schedule.clinic (") for line in found)
    assert any(line.startswith("tms_schedule.course.lifecycle (") for line in found)
    circle = {name: set(targets) for name, targets in GRAPH.items()}
    circle["tms_schedule.course.lifecycle"].add("tms_schedule.course.file")
    cycle = _cycle_from("tms_schedule.course.lifecycle", circle)
    assert cycle is not None and "tms_schedule.course.file" in cycle


def test_imports_inside_functions_count() -> None:
    tree = ast.parse("def f():\n    from tms_schedule.cli import main\n    return main\n")
    assert [node.module for node in _imports(tree)] == ["tms_schedule.cli"]  # type: ignore[union-attr]


def test_the_design_page_lists_the_same_layers() -> None:
    """``docs/design.md`` names the layers in the order of :data:`LAYERS`."""
    text = DESIGN.read_text(encoding="utf-8")
    section = text[text.index("## Layers") :]
    listed = re.findall(r"^\d+\. \*\*(.+?)\*\*", section, flags=re.MULTILINE)
    assert listed == [name for name, _ in LAYERS]


def test_every_convenience_is_reached_without_an_import() -> None:
    """Each name a lower layer asks :mod:`tms_schedule._conveniences` for is listed, and its
    function is in a layer above the asker (else the asker should import it plainly)."""
    import tms_schedule
    from tms_schedule import _conveniences

    assert tms_schedule is not None
    asked: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        for call in re.findall(r"provided\(\"([a-z_]+)\"\)", path.read_text(encoding="utf-8")):
            asked.setdefault(call, set()).add(name)
    assert asked, "no convenience found: the pattern is out of date"
    for call, askers in asked.items():
        assert call in _conveniences.HOMES, call
        module = _conveniences.HOMES[call].partition(":")[0]
        for asker in askers:
            if asker != "tms_schedule._conveniences":
                assert layer_of(module) >= layer_of(asker), (call, asker)
        assert callable(_conveniences.provided(call)), call


def test_the_graph_sees_the_package() -> None:
    assert "tms_schedule.plan" in GRAPH["tms_schedule.course.record"]
    assert "tms_schedule.export.options" in GRAPH["tms_schedule.export.ics"]
    assert len(MODULES) > 20


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_imports_itself_back(name: str) -> None:
    cycle = _cycle_from(name, GRAPH)
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


@pytest.mark.parametrize("package", ["tms_schedule", "tms_schedule.book", "tms_schedule.course"])
def test_a_package_lists_what_it_exports(package: str) -> None:
    """``dir()`` of a package shows its public names, the lazily loaded ones too, and its
    public modules: not the helpers it imports for itself (``importlib``, ``Any``)."""
    import importlib
    import types

    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    public = {name for name in dir(module) if not name.startswith("_")}
    modules = {name for name in public if isinstance(getattr(module, name), types.ModuleType)}
    assert public - modules == set(module.__all__) - {"__version__"}
    assert all(getattr(module, name).__name__ == f"{package}.{name}" for name in modules)
