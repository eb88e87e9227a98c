"""Real ``telehub media`` processes for tests: started from a config file, known by the id
each prints when it starts serving, killed and reaped when the test ends."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REDIS = "redis://127.0.0.1:6379/0"
ANNOUNCE_S = 0.5


def write_config(path: Path, data_dir: Path, database_url: str) -> Path:
    """A config for media processes of the telehub whose database is ``database_url``:
    a media process never opens it, but its URL names that telehub's scope on the shared
    Redis server, so parallel tests never hear each other's calls."""
    path.write_text(
        f'[server]\ndata_dir = "{data_dir}"\n'
        f'[database]\nurl = "{database_url}"\n'
        f'[signalling]\nbus_url = "{REDIS}"\n'
        f'[media]\nrelay = "processes"\nannounce_s = {ANNOUNCE_S}\n'
    )
    return path


@dataclass
class MediaProcess:
    proc: subprocess.Popen[str]
    id: str = ""
    lines: list[str] = field(default_factory=list)


@dataclass
class MediaProcesses:
    config: Path
    started: list[MediaProcess] = field(default_factory=list)

    def start(self) -> MediaProcess:
        proc = subprocess.Popen(
            [sys.executable, "-m", "web.cli", "--config", str(self.config), "media"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        media = MediaProcess(proc)
        self.started.append(media)
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        for _ in range(200):  # bounded: the start-up lines, then the id, within a minute
            ready, _, _ = select.select([proc.stdout], [], [], max(0, deadline - time.monotonic()))
            if not ready:
                break
            line = proc.stdout.readline()
            if not line:
                break
            media.lines.append(line)
            if found := re.search(r"media process ([0-9a-f]{32}) serving", line):
                media.id = found.group(1)
                return media
        raise AssertionError(f"telehub media did not start: {''.join(media.lines)}")

    def stop_all(self) -> None:
        for media in self.started:
            if media.proc.poll() is None:
                media.proc.kill()
            media.proc.wait(timeout=10)
            if media.proc.stdout is not None:
                media.proc.stdout.close()
