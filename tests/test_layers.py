"""The layers, read off the imports of every module (a small AST walk, nothing imported):

- the core (retrieval/ outside presentation/ and tools/) never imports presentation, tools, Streamlit or a
  progress bar, and never prints;
- presentation never imports the tools;
- nothing imports a private name (`_x`) of another module;
- the modules and functions stay small (CONTRIBUTING.md: 500 and 120 lines).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("retrieval", "revision", "ui")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 120


def modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    out["app"] = ROOT / "app.py"
    return out


MODULES = modules()


def imports(name: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(absolute module, names taken from it, line) of every import of the module, in functions too."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            names = [a.name for a in node.names]
            out.append((base, names, node.lineno))
            out += [(f"{base}.{n}", [], node.lineno) for n in names if f"{base}.{n}" in MODULES]
    return out


def layer(module: str) -> str:
    if module.startswith("retrieval.presentation"):
        return "presentation"
    if module.startswith("retrieval.tools"):
        return "tools"
    if module in ("retrieval.evaluate", "retrieval.bench", "retrieval.__main__") or module.startswith(
        ("retrieval.evaluate.", "retrieval.bench.")
    ):
        return "entry"  # `python -m retrieval[.evaluate|.bench]`: forwarding only
    return "core" if module.startswith("retrieval") else module.split(".")[0]


CORE = [m for m in MODULES if layer(m) == "core"]


def test_the_layers_are_where_the_tree_says():
    assert {"retrieval.retriever", "retrieval.reader", "retrieval.store", "retrieval.config"} <= set(CORE)
    assert layer("retrieval.presentation.cli") == "presentation" and layer("retrieval.tools.evaluate") == "tools"


@pytest.mark.parametrize("module", CORE)
def test_core_imports_no_presentation_tools_or_streamlit(module):
    for target, _, line in imports(module, MODULES[module]):
        assert layer(target) not in ("presentation", "tools", "entry"), f"{module}:{line} imports {target}"
        assert target.split(".")[0] not in ("streamlit", "tqdm", "ui", "revision"), f"{module}:{line} imports {target}"


@pytest.mark.parametrize("module", CORE)
def test_core_never_prints(module):
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    calls = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "print"]
    assert not calls, f"{module} prints at lines {calls}: the core returns, presentation shows"


def test_presentation_never_imports_the_tools():
    for module in (m for m in MODULES if layer(m) == "presentation"):
        for target, _, line in imports(module, MODULES[module]):
            assert layer(target) != "tools", f"{module}:{line} imports {target}"


def test_no_private_name_is_imported_across_modules():
    found = [
        f"{module}:{line} takes {n} from {target}"
        for module, path in [*MODULES.items(), *((f"tests.{p.stem}", p) for p in (ROOT / "tests").glob("*.py"))]
        for target, names, line in imports(module, path)
        for n in names
        if n.startswith("_") and not n.startswith("__")
    ]
    assert not found


def test_modules_and_functions_stay_small():
    big = [f"{m}: {n} lines" for m, p in MODULES.items() if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES]
    long = [
        f"{m}.{f.name}: {f.end_lineno - f.lineno + 1} lines"
        for m, p in MODULES.items()
        for f in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef) and f.end_lineno - f.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not big and not long, big + long


def test_the_command_line_imports_no_streamlit():
    """`python -m retrieval notes --json` and `python -m retrieval ask` import what these modules import, in a
    fresh process: Streamlit (~0.5 s, and a server's worth of modules) must not be among them."""
    import subprocess
    import sys

    modules = [
        "retrieval.presentation.cli",
        "retrieval.presentation.notes_cli",
        "retrieval.presentation.formatting",
        "retrieval.presentation.terminal",
        "retrieval.retriever",
        "retrieval.notes.inventory",
        "retrieval.notes.importing",
    ]
    code = f"import sys, {', '.join(modules)}; print(sorted(m for m in sys.modules if m.split('.')[0] == 'streamlit'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
