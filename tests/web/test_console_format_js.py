"""Runs the browser modules' unit tests (``node --test tests/js/``) inside pytest."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_node_unit_tests_of_the_page_helpers_pass() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    tests = sorted(str(p) for p in (ROOT / "tests" / "js").glob("*.test.mjs"))
    run = subprocess.run(
        [node, "--test", *tests],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "TZ": "America/New_York"},  # not the UK on purpose
    )
    assert run.returncode == 0, run.stdout + run.stderr
