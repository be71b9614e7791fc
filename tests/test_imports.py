"""Import structure, read from the source (nothing imported): no import circles through the
modules listed in NO_CIRCLES, and the core (but STILL_IMPORTING_TRAINERS) never imports
spliceannot.trainers.

Every import statement counts, a function-local (lazy) one too: a circle that only lazy
imports close still ties the modules together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# package name -> its directory (trainers/ is installed as spliceannot.trainers)
PACKAGES = {"spliceannot": ROOT / "spliceannot", "spliceannot.trainers": ROOT / "trainers"}
TRAINERS = "spliceannot.trainers"

# Modules, or packages (every module under them), that no import circle may pass through.
# Add a name here once the circles through it are gone.
NO_CIRCLES = (
    "spliceannot.readers",
    "spliceannot.viz",
    "spliceannot.ism",
    "spliceannot.sites",
    "spliceannot.pipeline",
    "spliceannot.parallel",
    "spliceannot.cluster",
    "spliceannot.signals",
    "spliceannot.factory",
    "spliceannot.values",
    "spliceannot.classes",
    "spliceannot.windows",
    "spliceannot.encoding",
    "spliceannot.tracks",
    "spliceannot.annotate",
    "spliceannot.stream",
    "spliceannot.haplotypes",
    "spliceannot.engine",
    "spliceannot.scoring",
    "spliceannot.entry",
    "spliceannot.serve",
    "spliceannot.commands",
    "spliceannot.trainers",
)
# Core modules that still import spliceannot.trainers; remove a name once its import is gone.
STILL_IMPORTING_TRAINERS: frozenset[str] = frozenset()


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def module_files() -> dict[str, Path]:
    """``{dotted module name: file}`` of every module in PACKAGES (``__init__`` = the package)."""
    modules = {}
    for package, directory in PACKAGES.items():
        for path in sorted(directory.rglob("*.py")):
            parts = list(path.relative_to(directory).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join([package, *parts])] = path
    return modules


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """Dotted names a statement may import: modules, or attributes of a module."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    return [source] + [f"{source}.{alias.name}" for alias in node.names]


def import_graph() -> dict[str, set[str]]:
    """``{module: modules it imports}`` among the modules of :func:`module_files`."""
    files = module_files()
    graph = {}
    for module, path in files.items():
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for name in _targets(node, module, path.name == "__init__.py"):
                while name and name not in files:  # an attribute: its module
                    name = name.rpartition(".")[0]
                if name and name != module:
                    imported.add(name)
        graph[module] = imported
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles: strongly connected sets of two or more modules, each sorted."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        on_stack.add(module)
        for other in graph.get(module, ()):
            if other not in order:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], order[other])
        if low[module] == order[module]:
            members = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                members.append(other)
                if other == module:
                    break
            if len(members) > 1:
                found.append(sorted(members))

    for module in sorted(graph):
        if module not in order:
            visit(module)
    return sorted(found)


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_circles_are_found_lazy_imports_included():
    toy = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert circles(toy) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_the_graph_holds_top_level_relative_and_lazy_imports(graph):
    assert "spliceannot.readers.gff" in graph["spliceannot.readers.gtf_features"]  # top level
    assert "spliceannot.readers.gtf" in graph["spliceannot.readers.annotation"]  # in a function
    assert "spliceannot.ism" in graph["spliceannot.viz.logo"]
    assert any(_under(name, TRAINERS) for name in graph)


@pytest.mark.parametrize("prefix", NO_CIRCLES)
def test_no_import_circle_through(graph, prefix):
    assert any(_under(module, prefix) for module in graph), f"{prefix}: no such module"
    through = [c for c in circles(graph) if any(_under(module, prefix) for module in c)]
    assert through == [], f"import circles through {prefix}: {through}"


def test_the_core_does_not_import_trainers(graph):
    importing = {
        module: sorted(name for name in imported if _under(name, TRAINERS))
        for module, imported in graph.items()
        if not _under(module, TRAINERS) and module not in STILL_IMPORTING_TRAINERS
    }
    assert {module: names for module, names in importing.items() if names} == {}
