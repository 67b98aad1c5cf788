"""The dependency rules of DEVELOPERS.md, enforced: no import cycles, no upward imports between layers.

Every import is read from the source (AST), including imports inside functions, so a lazy import
cannot hide a cycle. ``from deepdual import name`` counts as importing the module that defines ``name``
(the lazy export map of ``deepdual/__init__.py``).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "deepdual"

#: Lowest first. A module may import from its own layer or a lower one, never a higher one.
LAYERS = [
    {"_validation", "_numerics", "_io", "_compat", "_records"},
    {"networks", "scalar", "metrics", "whitening"},
    {"solution", "data", "training"},
    {"duality"},
    {"theorems", "convex"},
    {"certificates"},
    {"estimators", "export", "sweeps", "experiments", "report"},
    {"cli"},
]
LAYER_OF = {name: i for i, names in enumerate(LAYERS) for name in names}


def _module_name(path: Path) -> str:
    parts = ("deepdual",) + path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in SRC.rglob("*.py")}


def _exports() -> dict[str, str]:
    tree = ast.parse((SRC / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "_EXPORTS" for t in node.targets):
            table = ast.literal_eval(node.value)
            return {name: f"deepdual.{mod}" for mod, names in table.items() for name in names}
    raise AssertionError("deepdual/__init__.py has no _EXPORTS map")


def _edges() -> dict[str, set[str]]:
    modules = _modules()
    exports = _exports()
    edges: dict[str, set[str]] = {}
    for mod, path in modules.items():
        package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                elif node.module and node.module.split(".")[0] == "deepdual":
                    target = node.module
                else:
                    continue
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    if sub in modules:
                        deps.add(sub)
                    elif target == "deepdual" and alias.name in exports:
                        deps.add(exports[alias.name])
                    else:
                        deps.add(target)
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.split(".")[0] == "deepdual"}
        edges[mod] = {d for d in deps if d != mod and d != "deepdual"}
    return edges


def _component(mod: str) -> str:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_module_has_a_layer():
    missing = sorted({_component(m) for m in _modules() if m != "deepdual"} - set(LAYER_OF))
    assert not missing, f"add these modules to a layer in tests/test_architecture.py and DEVELOPERS.md: {missing}"


def _upward(edges: dict[str, set[str]]) -> list[str]:
    bad = []
    for mod, deps in edges.items():
        if mod == "deepdual":
            continue  # the lazy public API re-exports everything
        here = LAYER_OF.get(_component(mod), -1)
        for dep in deps:
            there = LAYER_OF.get(_component(dep))
            if there is not None and there > here:
                bad.append(f"{mod} (layer {here}) imports {dep} (layer {there})")
    return sorted(bad)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in edges:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return cycles


def test_no_upward_imports():
    bad = _upward(_edges())
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_no_import_cycles():
    edges = {m: ds for m, ds in _edges().items() if m != "deepdual"}
    cycles = _cycles(edges)
    assert not cycles, f"import cycles: {cycles}"


def test_the_checks_are_live():
    """Injected violations are reported: an upward edge, and a two-module cycle."""
    edges = _edges()
    edges["deepdual.networks"] = set(edges["deepdual.networks"]) | {"deepdual.theorems"}
    assert "deepdual.networks (layer 1) imports deepdual.theorems (layer 4)" in _upward(edges)
    loop = {"deepdual.a": {"deepdual.b"}, "deepdual.b": {"deepdual.a"}, "deepdual.c": {"deepdual.a"}}
    assert _cycles(loop) == [["deepdual.a", "deepdual.b"]]
