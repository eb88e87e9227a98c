"""A real coturn on 127.0.0.1 for each test that needs one."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SECRET = "test-turn-secret"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_listening(proc: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(100):
        if proc.poll() is not None:
            pytest.fail(f"turnserver exited: {log.read_text() if log.exists() else ''}")
        if log.exists() and "Total General servers" in log.read_text():
            time.sleep(0.3)  # the auth threads come up just after
            return
        time.sleep(0.05)
    pytest.fail("turnserver did not start")


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[Callable[..., int]]:
    """Start coturn with the given extra arguments; returns its port."""
    if shutil.which("turnserver") is None:
        pytest.skip("coturn is not installed (make system-deps installs it)")
    procs: list[subprocess.Popen[bytes]] = []

    def start(*extra: str, config: Path | None = None) -> int:
        port = free_udp_port()
        log = tmp_path / f"turn-{port}.log"
        args = ["turnserver", "-n"] if config is None else ["turnserver", "-c", str(config)]
        args += [
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            "-p",
            str(port),
            "--no-tls",
            "--no-dtls",
            "--no-cli",
            f"--log-file={log}",
            "--simple-log",
            f"--db={tmp_path / f'turn-{port}.sqlite'}",
            f"--pidfile={tmp_path / f'turn-{port}.pid'}",
            *extra,
        ]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        wait_until_listening(proc, log)
        return port

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)
