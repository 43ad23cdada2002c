"""The benchmarks stay out of the installed package, read from the source (nothing is executed)."""

import ast
import sys
from pathlib import Path

import benchmarks
import scigan

SCIGAN = Path(scigan.__file__).resolve().parent
BENCHMARKS = Path(benchmarks.__file__).resolve().parent


def _imported_modules(tree: ast.AST, top_level_only: bool = False) -> list[str]:
    """The absolute module names `tree` imports: ``import a.b``, ``from a.b import c`` and
    ``importlib.import_module("a.b")`` / ``__import__("a.b")`` with a literal name, in functions,
    classes and branches too (or, with `top_level_only`, outside functions and classes)."""
    found = []
    nodes = ast.iter_child_nodes(tree) if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0]
            if name in ("import_module", "__import__") and isinstance(first, ast.Constant):
                found.append(str(first.value))
        elif top_level_only and isinstance(node, ast.If | ast.Try | ast.With):
            found += _imported_modules(node, top_level_only=True)
    return found


def _parse(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_nothing_in_scigan_imports_benchmarks():
    files = sorted(SCIGAN.rglob("*.py"))
    assert len(files) > 10  # the package itself, not an empty folder
    offenders = {
        str(path.relative_to(SCIGAN.parent)): name
        for path in files
        for name in _imported_modules(_parse(path))
        if name == "benchmarks" or name.startswith("benchmarks.")
    }
    assert offenders == {}


def test_the_walk_sees_imports_at_any_depth():
    source = (
        "def f():\n    if x:\n        from benchmarks.bench import y\n"
        "class C:\n    def g(self):\n        import benchmarks\n"
        "importlib.import_module('benchmarks.dna')\n"
    )
    found = _imported_modules(ast.parse(source))
    assert sorted(found) == ["benchmarks", "benchmarks.bench", "benchmarks.dna"]


def test_the_keras_side_imports_only_the_standard_library_at_module_level():
    # keras_harness.py runs under a TensorFlow interpreter without torch or scigan, and loads
    # the Keras references by their path: none may import torch, TensorFlow, scigan or
    # benchmarks when loaded (TensorFlow and numpy are imported inside functions).
    files = [BENCHMARKS / "keras_harness.py", *sorted(BENCHMARKS.glob("*_keras.py"))]
    assert len(files) == 4
    outside = {
        path.name: name
        for path in files
        for name in _imported_modules(_parse(path), top_level_only=True)
        if name.split(".")[0] not in sys.stdlib_module_names
    }
    assert outside == {}
