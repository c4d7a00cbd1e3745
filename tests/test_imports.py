"""Imports: no two modules of the briefgen package import each other, directly or round a circle.

Every module is parsed with ast (nothing is imported); an import counts wherever it is written, at
module level or inside a function, since a local import is still a dependency, only a later one.
Imports under `if TYPE_CHECKING:` are left out: they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "briefgen"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node but those inside an `if TYPE_CHECKING:` body (its else branch runs, so it is kept)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _absolute(name: str | None, level: int, importer: str, is_package: bool) -> str:
    """The absolute module a (possibly relative) `from ... import` names."""
    if level == 0:
        return name or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def imports_of(source: str, importer: str, is_package: bool, modules: set[str]) -> set[str]:
    """Which of `modules` the module `importer` (its source text) imports when it runs, at any depth."""
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(source, importer)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name
                while name and name not in modules:  # `import a.b.c` where only a.b is ours
                    name = name.rpartition(".")[0]
                found.add(name)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, importer, is_package)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)  # `from pkg import submodule` imports the submodule
    return {name for name in found if name in modules and name != importer}


def import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(path) for path in paths}
    return {
        module_name(path): imports_of(
            path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py", modules
        )
        for path in paths
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One circle through each group of modules that reach one another, as a path back to its start."""
    return [_circle(graph, group) for group in groups(graph)]


def groups(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of two or more modules that each reach all the others (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _circle(graph: dict[str, set[str]], group: list[str]) -> list[str]:
    """A shortest path from the group's first module back to itself, inside the group."""
    start, members = group[0], set(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node] & members):
            if target == start:
                return [*paths[node], start]
            if target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    raise AssertionError(f"no circle through {group}")  # cannot happen: the group is strongly connected


def test_no_module_of_the_package_is_in_an_import_circle():
    graph = import_graph()
    circles = [
        f"{' -> '.join(_circle(graph, group))}  (the group: {', '.join(sorted(group))})" for group in groups(graph)
    ]
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_the_checker_sees_local_imports_and_skips_type_checking_blocks():
    """The check itself: a circle closed by an import inside a function is found; a TYPE_CHECKING one is not."""
    sources = {
        "p.a": "import p.b\n",
        "p.b": "def f():\n    from p.c import x\n",
        "p.c": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import p.b\ndef g():\n    from . import a\n",
        "p.d": "import typing\nif typing.TYPE_CHECKING:\n    import p.a\nelse:\n    from p import b\n",
    }
    graph = {name: imports_of(text, name, False, set(sources)) for name, text in sources.items()}
    assert graph == {"p.a": {"p.b"}, "p.b": {"p.c"}, "p.c": {"p.a"}, "p.d": {"p.b"}}
    assert cycles(graph) == [["p.a", "p.b", "p.c", "p.a"]]
    assert cycles({"p.a": {"p.b"}, "p.b": set()}) == []


def test_help_imports_neither_matplotlib_nor_pandas():
    """`briefgen --help` answers without the heavy libraries: the commands import them when they run."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "briefgen", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "briefgen.cli" in imported  # the listing is read right
    assert not {name for name in imported if name.split(".")[0] in ("matplotlib", "pandas")}
