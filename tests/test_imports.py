"""The package's import graph, read from the source (ast; nothing is imported or run): no
cycles, lazy imports inside functions included, and only the top layers use the registry.
And what a fresh process imports: loading the case studies and building the command line
(`scigan --help`, usage errors, `scigan data ... --help`) imports no torch, NumPy, numba,
SciPy, h5py or matplotlib; those come only with a command that trains, samples or evaluates."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "scigan"


def _module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports (a `from pkg import name` counts as
    pkg.name when that is a module, else as pkg)."""
    modules = _module_names()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules]
                targets = targets or [base]
            for target in targets:
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan's algorithm)."""
    index, low, on_stack, stack, cycles = {}, {}, set(), [], []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def test_find_cycles_finds_a_cycle_and_only_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_the_package_has_no_import_cycles():
    graph = import_graph()
    assert "scigan.core.workflow" in graph["scigan.cli"]  # the graph sees lazy imports
    assert find_cycles(graph) == []


def test_only_the_command_line_uses_the_registry():
    graph = import_graph()
    users = sorted(m for m, targets in graph.items() if "scigan.core.registry" in targets)
    # the entry points of processes: the command line, and a sweep's worker processes,
    # which load their case study by name
    assert users == ["scigan.cli", "scigan.sweep.jobs"]


def test_case_studies_do_not_import_each_other():
    graph = import_graph()
    products = {"dna", "blobs", "ising", "montecarlo"}
    for module, targets in graph.items():
        mine = module.split(".")[1] if module.count(".") else None
        for target in targets:
            theirs = target.split(".")[1] if target.count(".") else None
            if mine in products and theirs in products and mine != theirs:
                # the Ising GAN learns from the Monte Carlo engine's data, never the reverse
                assert (mine, theirs) == ("ising", "montecarlo"), (module, target)


# Loads every case study, builds the command tree, and runs commands that end before any
# work: help, a usage error, an unknown case study, a config error. Prints what it imported.
STARTUP = """
import json, sys
from scigan.core.registry import all_case_studies
from scigan.cli import build_app, main
loaded, failed = all_case_studies()
build_app()
codes = []
for argv in (["--help"], ["data", "dna", "--help"], ["data", "ising", "--help"], ["bogus"],
             ["train", "nope"], ["train", "dna", "--set", "train.steps=-1"]):
    try:
        main(argv)
    except SystemExit as exc:
        codes.append(exc.code)
heavy = ("torch", "numpy", "numba", "scipy", "h5py", "matplotlib")
print(json.dumps({"loaded": sorted(c.name for c in loaded), "failed": len(failed),
                  "codes": codes, "imported": [m for m in heavy if m in sys.modules]}))
"""


def test_startup_and_usage_errors_import_no_torch(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", STARTUP], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {
        "loaded": ["blobs", "dna", "ising"],
        "failed": 0,
        "codes": [0, 0, 0, 2, 2, 2],
        "imported": [],
    }
    assert list(tmp_path.iterdir()) == []  # nothing was trained or built
