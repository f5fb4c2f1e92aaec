"""The layers of DESIGN.md, checked on the source: domain/ is pure, defs/ is wiring, modules stay small and the
import graph has no cycle (lazy imports inside functions count too: a cycle hidden in a function is still one)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dc_pipeline"
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """Absolute module names imported anywhere in the file (module level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _internal(name: str) -> str | None:
    """The dc_pipeline module an import name refers to (a `from pkg import module` resolves to the module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _layer(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "root"


@pytest.mark.parametrize("module", [m for m in MODULES if _layer(m) == "domain"])
def test_domain_is_pure(module):
    forbidden = ("dagster", "psycopg", "requests", "dc_pipeline.defs", "dc_pipeline.adapters", "dc_pipeline.demo")
    bad = sorted(i for i in _imports(MODULES[module]) if i.split(".")[0] in forbidden or i.startswith(forbidden))
    assert not bad, f"{module} imports {bad}: domain/ does no I/O and knows no Dagster"


@pytest.mark.parametrize("module", [m for m in MODULES if _layer(m) == "adapters"])
def test_adapters_do_not_know_dagster_or_the_wiring(module):
    bad = sorted(i for i in _imports(MODULES[module]) if i.startswith(("dagster", "dc_pipeline.defs")))
    assert not bad, f"{module} imports {bad}"


def test_defs_never_imports_the_demo():
    bad = {m: sorted(i for i in _imports(p) if i.startswith("dc_pipeline.demo")) for m, p in MODULES.items()
           if _layer(m) == "defs"}  # fmt: skip
    assert not {m: i for m, i in bad.items() if i}


def test_defs_holds_no_analytics():
    """No pandas groupby / pivot / merge in the wiring: analytics live in domain/."""
    found = []
    for module, path in MODULES.items():
        if _layer(module) != "defs":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in {"groupby", "pivot", "pivot_table", "merge"}:
                found.append(f"{module}:{node.lineno} .{node.attr}")
    assert not found


def test_modules_stay_small():
    big = {m: n for m, p in MODULES.items() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not big, f"modules over {MAX_LINES} lines: {big}"


def test_no_import_cycle():
    graph = {m: {t for i in _imports(p) if (t := _internal(i)) and t != m} for m, p in MODULES.items()}
    # A package's __init__ importing its own submodules is how packages re-export: not a cycle of layers.
    graph = {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in graph.items()}
    index, low, stack, on_stack, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(node):  # Tarjan's strongly connected components
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert not cycles, f"import cycles: {cycles}"
