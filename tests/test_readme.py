"""The README links only to things inside the repository (issue 10, item 15)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _anchor(heading: str) -> str:
    text = re.sub(r"[^\w\s-]", "", heading.strip().lower())
    return re.sub(r"\s", "-", text)


def test_readme_links_resolve_inside_the_repository() -> None:
    readme = (ROOT / "README.md").read_text()
    anchors = {_anchor(h) for h in re.findall(r"^#+ (.+)$", readme, flags=re.M)}
    links = LINK.findall(readme)
    assert links
    for target in links:
        if target.startswith(("http://", "https://")):
            continue
        if target.startswith("#"):
            assert target[1:] in anchors, f"README links to a missing section {target}"
            continue
        path = (ROOT / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT), f"README links outside the repository: {target}"
        assert path.exists(), f"README links to a missing file: {target}"
