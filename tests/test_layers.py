"""The layers of docs/architecture.md, checked on the import graph: an import goes down, never
up, and never sideways between two packages of one layer."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Bottom first. A package may import its own modules, any package of a lower layer, and
# nothing else of the project.
LAYERS: list[set[str]] = [
    {"core"},
    {"parsers"},
    {"sources", "reviews"},
    {"warehouse"},
    {"annotation"},
    {"report"},
    {"jobs"},
    {"settings"},
    {"flows"},
    {"demo"},
    {"cli"},
]
LEVEL = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _violations() -> list[str]:
    bad = []
    for pkg, level in LEVEL.items():
        for path in sorted((REPO / pkg).rglob("*.py")):
            for line, module in _imports(path):
                top = module.split(".", 1)[0]
                if top == pkg or top not in LEVEL:
                    continue
                if LEVEL[top] >= level:
                    where = path.relative_to(REPO)
                    bad.append(f"{where}:{line} imports {module} ({pkg} may not import {top})")
    return bad


def test_every_project_package_has_a_layer() -> None:
    packages = {p.parent.name for p in REPO.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages == set(LEVEL), packages ^ set(LEVEL)


def test_imports_go_down_only() -> None:
    assert _violations() == []


def test_the_check_catches_an_upward_import() -> None:
    probe = REPO / "core" / "_layer_probe.py"
    probe.write_text("from flows.deploy import DeployError\n")
    try:
        assert any("core/_layer_probe.py:1" in v for v in _violations())
    finally:
        probe.unlink()
