"""The ``telehub`` command line, run as a real subprocess where it matters (serving, and
one end-to-end operator session) and in-process elsewhere (tests/telehub_cli.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509

from tests.telehub_cli import config, telehub, telehub_process
from web.cli.commands import main
from web.cli.devcert import make_dev_cert

ROOT = Path(__file__).resolve().parents[2]


def wait_for_line(proc: subprocess.Popen[str], prefix: str, timeout: float = 60) -> str:
    """The first line of the process's output that starts with ``prefix``: the event
    itself (the server says it is listening), waited for with a bounded deadline."""
    from concurrent.futures import ThreadPoolExecutor

    def read() -> str:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(prefix):
                return line
        raise AssertionError(f"exited {proc.wait()} without {prefix!r}: {proc.communicate()[1]}")

    pool = ThreadPoolExecutor(1)
    try:
        return pool.submit(read).result(timeout)
    finally:
        pool.shutdown(wait=False)


def test_serve_refuses_an_unmigrated_database_and_names_the_fix(tmp_path: Path) -> None:
    result = telehub_process("--config", str(config(tmp_path)), "serve", cwd=tmp_path)
    assert result.returncode == 2
    assert "has no schema yet" in result.stderr and "run `telehub migrate`" in result.stderr


def test_migrate_adduser_and_audit_verify_then_tamper(tmp_path: Path) -> None:
    """End to end through real processes, as an operator would type it."""
    cfg = str(config(tmp_path))
    assert telehub_process("--config", cfg, "migrate", cwd=tmp_path).returncode == 0
    added = telehub_process(
        "--config",
        cfg,
        "adduser",
        "alice",
        "--name",
        "Alice",
        "--role",
        "admin",
        "--password-stdin",
        cwd=tmp_path,
        stdin="a long enough password\n",
    )
    assert added.returncode == 0, added.stderr
    ok = telehub_process("--config", cfg, "audit", "verify", cwd=tmp_path)
    assert ok.returncode == 0 and "audit chain intact: 1 events verified" in ok.stdout
    import sqlite3

    with sqlite3.connect(tmp_path / "t.db") as db:
        db.execute("UPDATE audit_events SET actor = 'system:9' WHERE seq = 1")
    bad = telehub_process("--config", cfg, "audit", "verify", cwd=tmp_path)
    assert bad.returncode == 1
    assert "BROKEN at event 1: event content does not match its hash" in bad.stderr


def test_adduser_rejects_a_weak_password(tmp_path: Path) -> None:
    cfg = str(config(tmp_path))
    telehub("--config", cfg, "migrate", cwd=tmp_path)
    weak = telehub(
        "--config",
        cfg,
        "adduser",
        "bob",
        "--name",
        "Bob",
        "--role",
        "admin",
        "--password-stdin",
        cwd=tmp_path,
        stdin="short\n",
    )
    assert weak.returncode == 2 and "at least 12 characters" in weak.stderr


def test_totp_is_for_demo_databases_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--config", str(config(tmp_path)), "totp", "admin"]) == 2
    assert "demo databases only" in capsys.readouterr().err


def test_dev_cert_covers_localhost_and_given_hosts(tmp_path: Path) -> None:
    cert_path, key_path = make_dev_cert(tmp_path / "tls", ["192.0.2.10", "hub.local"])
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert "hub.local" in names.get_values_for_type(x509.DNSName)
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} == {
        "127.0.0.1",
        "192.0.2.10",
    }
    assert key_path.stat().st_mode & 0o777 == 0o600


def test_serve_speaks_tls_and_marks_cookies_secure(tmp_path: Path) -> None:
    import socket
    import ssl
    import urllib.request

    cfg = str(config(tmp_path))
    telehub("--config", cfg, "migrate", cwd=tmp_path)
    cert, key = make_dev_cert(tmp_path / "tls", [])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "web.cli.commands",
            "--config",
            cfg,
            "serve",
            "--port",
            str(port),
            "--cert",
            str(cert),
            "--key",
            str(key),
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE
        assert f":{port}/" in wait_for_line(proc, "telehub listening on https://")
        with urllib.request.urlopen(
            f"https://127.0.0.1:{port}/login", context=insecure, timeout=10
        ) as resp:
            cookie = resp.headers["Set-Cookie"]
            hsts = resp.headers["Strict-Transport-Security"]
        assert "th_anon=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie and hsts.startswith("max-age=")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_solver_and_the_relay_load_only_for_their_commands() -> None:
    """Every ``telehub`` command starts by importing the command line; OR-Tools and
    aiortc (about a second of imports between them) load only for the commands that
    solve a rota or relay media, so `telehub audit verify` or `report` start quickly.
    The web app (``serve``) relays media, and loads OR-Tools at its first solve only."""
    probe = (
        "import sys, web.cli.commands as c; c._parser(); "
        "print(sorted(m for m in ('ortools', 'aiortc', 'av') if m in sys.modules)); "
        "import web.app; print('ortools' in sys.modules)"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    assert loaded.stdout.split() == ["[]", "False"], loaded.stderr
