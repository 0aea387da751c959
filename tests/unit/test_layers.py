"""The layering rules import-linter cannot see: no function-level import of a
project module (a dependency pointing the wrong way hides there), no `except
ImportError` around one, nothing but the entry points imports the factory, and
config imports nothing of ours. import-linter checks the layers (`make lint`)."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "auth", "callbacks", "components", "data", "pages")
PROJECT = (*PACKAGES, "app", "config")
ENTRY_POINTS = ("data/worker.py", "data/demo.py", "api/mcp_stdio.py")


def _sources() -> list[Path]:
    files = [ROOT / "app.py", ROOT / "config.py"]
    for package in PACKAGES:
        files.extend(sorted((ROOT / package).rglob("*.py")))
    return files


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        return [node.module]
    return []


def _ours(name: str) -> bool:
    return name.split(".")[0] in PROJECT


def _where(path: Path, node: ast.stmt) -> str:
    return f"{path.relative_to(ROOT)}:{node.lineno}"


def test_no_function_level_imports_of_project_modules():
    offenders = []
    for path in _sources():
        for function in ast.walk(ast.parse(path.read_text())):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if any(_ours(name) for name in _imported(node)):
                    offenders.append(_where(path, node))
    assert offenders == []


def test_no_except_import_error_around_project_modules():
    offenders = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Try):
                continue
            guarded = [n for item in node.body for n in ast.walk(item)]
            if any(_ours(name) for n in guarded for name in _imported(n)):
                offenders.append(_where(path, node))
    assert offenders == []


def test_only_entry_points_import_the_factory_and_config_imports_nothing_of_ours():
    importers, config_imports = [], []
    for path in _sources():
        names = [n for node in ast.walk(ast.parse(path.read_text())) for n in
                 _imported(node)]  # fmt: skip
        relative = path.relative_to(ROOT).as_posix()
        if "app" in names and relative not in ENTRY_POINTS:
            importers.append(relative)
        if relative == "config.py":
            config_imports = [name for name in names if _ours(name)]
    assert importers == [] and config_imports == []


def _layered_modules() -> set[str]:
    """Every module named in the layers contract (pyproject.toml)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]
    contract = next(
        c for c in config["importlinter"]["contracts"] if c["id"] == "layers"
    )
    return {
        name.strip()
        for layer in contract["layers"]
        for name in re.split(r"[|:]", layer)
    }


def test_every_module_of_data_has_its_place_in_the_layers():
    """A data module missing from the contract is unchecked: import-linter lets
    it import anything, and anything import it (data.kpi once did both ways)."""
    layered = _layered_modules()
    data = ROOT / "data"
    children = {
        f"data.{path.stem if path.is_file() else path.name}"
        for path in data.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__")
        or (path / "__init__.py").is_file()
    }
    assert children - layered == set()
    assert {"pages", "callbacks", "api", "components", "auth"} <= layered
