"""Size limits on production code: no module over 300 lines, no function or method over 60.

Production code is `app.py`, `bot/`, `connectors/`, `commands/` and `sandbox/` (the emulators and
the demo ship with the project and are read like the rest); `tests/` and `bench/` are not measured.

How lines are counted, so a failure is easy to reproduce:
- a module: its physical lines (blank lines, comments and docstrings included);
- a function or method: `end_lineno - lineno + 1` of its `def` node, i.e. from the `def` line to
  the last line of its body, docstring and comments included, decorators not. A nested function
  counts on its own and inside the function that holds it.

Alembic revisions under `bot/store/migrations/versions/` are left out: they are generated, each is
a frozen record of one schema step, and splitting one would change nothing a reader follows.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = ("app.py", "bot", "connectors", "commands", "sandbox")
GENERATED = ("bot/store/migrations/versions",)
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60

def _production_modules() -> list[Path]:
    modules: list[Path] = []
    for name in PRODUCTION:
        path = ROOT / name
        modules.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return [m for m in modules if not any(m.relative_to(ROOT).as_posix().startswith(g) for g in GENERATED)]


def measure() -> dict[str, int]:
    """Every module over MAX_MODULE_LINES (`path`) and function over MAX_FUNCTION_LINES
    (`path::name`, a method as `path::Class.name`), with its length in lines."""
    found: dict[str, int] = {}
    for module in _production_modules():
        source = module.read_text(encoding="utf-8")
        name = module.relative_to(ROOT).as_posix()
        if (lines := len(source.splitlines())) > MAX_MODULE_LINES:
            found[name] = lines
        found.update(_long_functions(ast.parse(source), name))
    return found


def _long_functions(tree: ast.AST, module: str, prefix: str = "") -> dict[str, int]:
    found: dict[str, int] = {}
    for node in ast.iter_child_nodes(tree):
        inner = prefix
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found[f"{module}::{prefix}{node.name}"] = length
            inner = f"{prefix}{node.name}."
        elif isinstance(node, ast.ClassDef):
            inner = f"{prefix}{node.name}."
        found.update(_long_functions(node, module, inner))
    return found


def test_no_production_module_or_function_is_over_the_limits() -> None:
    found = measure()
    assert not found, f"over {MAX_MODULE_LINES} lines per module / {MAX_FUNCTION_LINES} per function " \
                      f"(split by responsibility): {found}"


def test_the_checker_counts_a_function_from_def_to_its_last_line() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))  # def + 60 = 61 lines
    tree = ast.parse(f"class C:\n    @staticmethod\n    def long() -> None:\n{body.replace('    ', '        ')}\n"
                     f"def short() -> None:\n{body.splitlines()[0]}\n")
    assert _long_functions(tree, "m.py") == {"m.py::C.long": MAX_FUNCTION_LINES + 1}
