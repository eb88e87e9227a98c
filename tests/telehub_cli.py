"""Running the ``telehub`` command line from tests, in this process or as a real one.

``telehub(...)`` runs the command line's own ``main`` here, with the given working
directory, environment and standard input, and returns what a subprocess would: exit
code, standard output and standard error (logs included). It is the same code as the
console script without an interpreter start, which costs about two seconds of imports
per call, and the command-line tests make dozens of calls. ``telehub_process(...)`` runs
``python -m web.cli.commands`` for real: for serving, and for the tests where the
process itself (its entry point and exit status) is what is checked.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

from tests.conftest import CHEAP_PASSWORD_TOML
from web.cli.commands import main

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 120  # as the subprocess's: a command that hangs fails the test, bounded
SERVING = {"serve", "demo", "media"}  # commands that run until stopped: processes only


def config(tmp_path: Path) -> Path:
    """A configuration file for a command-line test: its own SQLite file and keys."""
    cfg = tmp_path / "t.toml"
    cfg.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "t.db"}"\n'
        f'[security]\nkeys_file = "{tmp_path / "keys.toml"}"\n{CHEAP_PASSWORD_TOML}'
    )
    return cfg


def telehub_process(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``telehub *args`` as its own process (``python -m web.cli.commands``)."""
    return subprocess.run(
        [sys.executable, "-m", "web.cli.commands", *args],
        cwd=cwd,
        text=True,
        capture_output=True,
        input=stdin,
        timeout=TIMEOUT_S,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def telehub(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``telehub *args`` run in this process, as ``telehub_process`` would run it.

    It runs on a thread of its own, so a test running an event loop can call it (the
    command starts its own loop). Working directory, environment, standard streams and
    logging are this process's, so they are set for the call and put back after it."""
    if SERVING & set(args) and "--no-serve" not in args:
        raise ValueError(f"{args}: a command that serves runs in telehub_process")
    result: list[subprocess.CompletedProcess[str]] = []

    def run() -> None:
        out, err = io.StringIO(), io.StringIO()
        with _as_if_a_process(cwd, env or {}, stdin or ""):
            with redirect_stdout(out), redirect_stderr(err):
                code = _exit_code(args)
        result.append(subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue()))

    thread = threading.Thread(target=run, name="telehub-cli", daemon=True)
    thread.start()
    thread.join(TIMEOUT_S)
    if not result:
        raise subprocess.TimeoutExpired(["telehub", *args], TIMEOUT_S)
    return result[0]


def _exit_code(args: tuple[str, ...]) -> int:
    """What the process would exit with: ``main``'s code, argparse's, or 1 and the
    traceback for an exception nothing caught (as the interpreter does)."""
    try:
        return main(list(args))
    except SystemExit as end:
        return end.code if isinstance(end.code, int) else (0 if end.code is None else 1)
    except Exception:
        traceback.print_exc()
        return 1


@contextmanager
def _as_if_a_process(cwd: Path, env: dict[str, str], stdin: str) -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    before_dir, before_env, before_stdin = os.getcwd(), dict(os.environ), sys.stdin
    os.chdir(cwd)
    os.environ.update(env)
    sys.stdin = io.StringIO(stdin)
    try:
        yield
    finally:
        sys.stdin = before_stdin
        os.environ.clear()
        os.environ.update(before_env)
        os.chdir(before_dir)
        for handler in list(root.handlers):  # the command's own (logs.configure)
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
