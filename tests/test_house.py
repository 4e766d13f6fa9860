"""The house rules that keep the code readable, checked on the source itself.

* No import cycle between gankit's modules, counting every import a module can run: at its
  top, inside functions (a function-level import that would close a cycle only hides it) and
  under ``TYPE_CHECKING``. Built from the code with ``ast``.
* No reference in ``src/`` to documents a reader of the code does not have.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "gankit"


def module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """``module -> modules of the package it imports`` (any import statement anywhere in it)."""
    files = {module_name(p, root.parent): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: resolve against this module's package
                    package = name.split(".") if is_package else name.split(".")[:-1]
                    package = package[: len(package) - node.level + 1]
                    base = ".".join(package + ([node.module] if node.module else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            graph[name].update(t for t in targets if t in files and t != name)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle ``[a, b, ..., a]`` of ``graph``, or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    for start in sorted(graph):
        if start in state:
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return None


def test_find_cycle_finds_a_planted_cycle_and_accepts_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "d"}, "b": set(), "d": {"e"}, "e": {"d"}}) == ["d", "e", "d"]


def test_import_graph_sees_function_level_and_relative_imports(tmp_path):
    pkg = tmp_path / "gankit"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import leaf\n")
    (pkg / "sub" / "leaf.py").write_text("def f():\n    from gankit import top\n")
    (pkg / "top.py").write_text("from gankit.sub.leaf import f\n")
    graph = import_graph(pkg)
    assert graph["gankit.sub"] == {"gankit.sub.leaf"}
    assert graph["gankit.sub.leaf"] == {"gankit", "gankit.top"}
    assert find_cycle(graph) == ["gankit.sub.leaf", "gankit.top", "gankit.sub.leaf"]


def test_gankit_has_no_import_cycle():
    graph = import_graph()
    assert len(graph) > 50  # the whole package was read
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_config_knows_no_recipe_or_network():
    graph = import_graph()
    assert not {m for m in graph["gankit.config"] if m.startswith(("gankit.recipes", "gankit.nets"))}
    assert not {m for m in graph["gankit.nets.base"] if m.startswith("gankit.nets.")} - {"gankit.nets.blocks"}


def test_metrics_never_import_runs():
    graph = import_graph()
    offenders = {m: sorted(t for t in deps if t.startswith("gankit.run")) for m, deps in graph.items()
                 if m.startswith("gankit.metrics")}
    assert not {m: t for m, t in offenders.items() if t}


DOCUMENT_REFERENCES = re.compile(r"DESIGN(\.md)?|ROADMAP|\bseed 0\d\d\b|\bsurvey\b", re.IGNORECASE)


def test_source_cites_papers_not_documents_the_reader_lacks():
    hits = [f"{p.relative_to(SRC)}:{i}: {line.strip()}"
            for p in PACKAGE.rglob("*.py")
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if DOCUMENT_REFERENCES.search(line)]
    assert not hits, "\n".join(hits)
