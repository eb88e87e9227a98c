"""The domain core stays free of IO frameworks (DESIGN.md: arrows point inward)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "aiohttp",
    "aiortc",
    "sqlalchemy",
    "alembic",
    "jinja2",
    "aiohttp_jinja2",
    "redis",
    "asyncpg",
    "aiosqlite",
    "web",
    "signalling",
    "media",
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_hub_core_imports_no_io_framework() -> None:
    offenders = {}
    for path in (ROOT / "hub").rglob("*.py"):
        if "store" in path.relative_to(ROOT / "hub").parts:
            continue
        bad = imported_roots(path) & FORBIDDEN
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_the_check_itself_catches_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text("from sqlalchemy import select\nimport aiohttp.web\n")
    assert imported_roots(sample) & FORBIDDEN == {"sqlalchemy", "aiohttp"}


def test_no_module_is_a_god_module() -> None:
    too_big = {}
    for pkg in ("hub", "signalling", "media", "rota", "web"):
        for path in (ROOT / pkg).rglob("*.py"):
            lines = len(path.read_text().splitlines())
            if lines > 600:
                too_big[str(path.relative_to(ROOT))] = lines
    assert too_big == {}


def test_handlers_ask_who_is_acting_one_way() -> None:
    """``web.security.actor_of`` is the one way a handler learns its actor: no private
    copies (they used to be seven, with ``assert``s that vanish under ``python -O``)."""
    copies = []
    for path in sorted((ROOT / "web").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in {"_actor", "actor", "_staff"}:
                copies.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert copies == []
