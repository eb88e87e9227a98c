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


EDGES = ("web", "signalling", "media", "rota")


def units_of_work_opened(path: Path) -> list[int]:
    """Lines where a unit of work is opened (``ctx.uow()``, ``self._ctx.uow()``…): a
    call of anything's ``uow`` attribute."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "uow"
    ]


def imports_unit_of_work(path: Path) -> bool:
    """Whether the module names ``UnitOfWork`` (or its factory) in any import."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return any(
        alias.name.split(".")[-1] in {"UnitOfWork", "UnitOfWorkFactory"}
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom | ast.Import)
        for alias in node.names
    )


def test_only_the_core_opens_a_unit_of_work() -> None:
    """Pages, API handlers, sockets, the CLI and the rota library call services; only
    ``hub/`` opens a transaction (DESIGN.md: "services are the only way in")."""
    opened = [
        f"{path.relative_to(ROOT)}:{line}"
        for package in EDGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for line in units_of_work_opened(path)
    ]
    assert opened == []


def test_nothing_outside_the_core_imports_the_unit_of_work() -> None:
    importers = [
        str(path.relative_to(ROOT))
        for package in EDGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if imports_unit_of_work(path)
    ]
    assert importers == []


def test_the_check_itself_catches_a_unit_of_work_opened(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text(
        "from hub.ports import UnitOfWork\n"
        "async def page(ctx, self):\n"
        "    async with ctx.uow() as uow:\n"
        "        pass\n"
        "    async with self._ctx.uow() as uow:\n"
        "        pass\n"
        "    factory = ctx.uow  # named, not opened\n"
    )
    assert units_of_work_opened(sample) == [3, 5]
    assert imports_unit_of_work(sample)


def test_no_module_is_a_god_module() -> None:
    too_big = {}
    for pkg in ("hub", "signalling", "media", "rota", "web"):
        for path in (ROOT / pkg).rglob("*.py"):
            lines = len(path.read_text().splitlines())
            if lines > 600:
                too_big[str(path.relative_to(ROOT))] = lines
    assert too_big == {}


def test_handlers_ask_who_is_acting_one_way() -> None:
    """``web.http.security.actor_of`` is the one way a handler learns its actor: no private
    copies (they used to be seven, with ``assert``s that vanish under ``python -O``)."""
    copies = []
    for path in sorted((ROOT / "web").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in {"_actor", "actor", "_staff"}:
                copies.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert copies == []


PACKAGES = ("hub", "signalling", "media", "rota", "web")


def _import_graph() -> dict[str, set[str]]:
    """Module → the project modules it imports anywhere in its text: at the top, inside
    functions, or under TYPE_CHECKING (a lazy import that dodges a circle is one too)."""
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))
    return found


def test_no_import_circles() -> None:
    assert _circles(_import_graph()) == []


def test_the_circle_check_finds_one() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(graph) == [["a", "b", "c"]]
