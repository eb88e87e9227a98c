"""The hazard log and the security findings name the tests that hold their controls:
every test they name must exist, so the documents cannot drift from the suite."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CITED = re.compile(r"`(tests/[\w/]+\.(?:py|mjs))(?:::(\w+))?")
DOCS = ("docs/clinical-safety.md", "docs/security.md")


def citations(doc: str) -> list[tuple[str, str | None]]:
    text = (ROOT / doc).read_text(encoding="utf-8")
    return [(m.group(1), m.group(2)) for m in CITED.finditer(text)]


@pytest.mark.parametrize("doc", DOCS)
def test_every_cited_test_exists(doc: str) -> None:
    cited = citations(doc)
    assert cited, f"{doc} names no tests"
    missing = []
    for path, name in cited:
        source = ROOT / path
        if not source.is_file():
            missing.append(path)
        elif name and not re.search(rf"\b(?:def|test\()\s*['\"]?{name}\b", source.read_text()):
            missing.append(f"{path}::{name}")
    assert missing == []


def test_every_hazard_in_the_summary_has_a_section_with_tests() -> None:
    text = (ROOT / "docs/clinical-safety.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| (H\d+) \|", text, flags=re.M)
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    by_id = {s.split(" ", 1)[0]: s for s in sections}
    assert listed and sorted(listed) == sorted(by_id)
    for hazard, section in by_id.items():
        assert "**Tests.**" in section and CITED.search(section), hazard
