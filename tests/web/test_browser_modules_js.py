"""The browser modules' unit tests (tests/js/*.test.mjs, ``node --test``) run inside
pytest, so that ``make test`` and CI run them; ``make test-js`` runs them alone."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_node_unit_tests_of_the_browser_modules_pass() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    tests = sorted(str(p) for p in (ROOT / "tests" / "js").glob("*.test.mjs"))
    assert len(tests) >= 9, tests  # one file per module without a DOM
    run = subprocess.run(
        [node, "--test", *tests],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "TZ": "America/New_York"},  # not the UK on purpose
    )
    assert run.returncode == 0, run.stdout + run.stderr
