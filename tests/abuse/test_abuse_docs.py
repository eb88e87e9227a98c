"""docs/security.md lists the hostile-input cases with the tests that hold them: every
test named there must exist (the file, the test function, and a parametrized case's
id), so the list cannot point at a test that was renamed or removed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Hostile input: cases and the tests that hold them"
NAMED = re.compile(r"`(tests/[\w/]+\.py)::(\w+)(?:\[([^\]]+)\])?`")


def table_rows() -> list[str]:
    text = (ROOT / "docs" / "security.md").read_text()
    assert SECTION in text
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]


def case_ids(path: str, text: str) -> set[str]:
    """The ids of a module's parametrized cases: the abuse table's, from the table
    itself (some are made in a loop); elsewhere, the quoted strings of the module."""
    if path == "tests/abuse/test_abuse_table.py":
        from tests.abuse.test_abuse_table import CASES

        return set(CASES)
    return set(re.findall(r'"([^"]+)"', text))


def test_every_case_names_a_test_that_exists() -> None:
    rows = table_rows()[1:]  # after the header
    assert len(rows) >= 25
    missing = []
    for row in rows:
        case, defence, tests = (cell.strip() for cell in row.strip("|").split(" | "))
        named = NAMED.findall(tests)
        if not (case and defence and named):
            missing.append(f"{case or row}: no case, defence or test")
        for path, name, param in named:
            source = ROOT / path
            if not source.exists():
                missing.append(f"{path} does not exist")
                continue
            text = source.read_text()
            if not re.search(rf"^(async )?def {name}\(", text, re.MULTILINE):
                missing.append(f"{path}::{name} does not exist")
            elif param and param not in case_ids(path, text):
                missing.append(f"{path}::{name}[{param}] is not a case of it")
    assert missing == [], "\n".join(missing)


def test_the_table_covers_what_the_issue_asks_for() -> None:
    """Issue 13's list of hostile input, each a row (matched by a word of its own)."""
    cases = " ".join(row.split(" | ")[0].lower() for row in table_rows()[1:])
    for word in (
        "password guessing",
        "locks a known clinician out",
        "replayed two-factor",
        "csrf on every state-changing route",
        "websocket",
        "every route as every role",
        "tablet of another home",
        "script in stored free text",
        "csv formula injection",
        "oversized bodies",
        "oversized websocket frames",
        "malformed and unknown messages",
        "message floods",
        "half-open connections",
        "signalling injected into a call that is not yours",
        "turn credentials",
        "coturn relaying",
    ):
        assert word in cases, word
