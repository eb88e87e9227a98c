"""The ``telehub`` command line: serve, media, migrate, demo, users, audit, certificates, rota."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import ssl
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from hub import settings as settings_mod
from hub.errors import DomainError, RowErrors
from hub.people.access import SYSTEM
from hub.people.admin import create_staff, home_by_code
from hub.people.auth import demo_totp_code
from hub.people.staff import NewStaff
from hub.settings import Settings
from hub.store.bootstrap import resolve_secrets
from hub.store.db import create_engine
from hub.store.migrate import check_current
from rota.progress_bar import Bar, progress_bar
from web.cli.audit import add_commands as add_audit_commands
from web.cli.bootstrap import DEMO_CONFIG_NAME, data_dir, hub_context, settings_from
from web.cli.devcert import make_dev_cert
from web.cli.media import add_command as add_media_command
from web.cli.report import add_commands as add_report_commands
from web.cli.rota import add_commands as add_hub_commands
from web.http import logs
from web.http.access_log import ACCESS_LOG, AccessLogger

if TYPE_CHECKING:
    from web.cli.demo_data import DemoLogin


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logs.configure()  # JSON lines unless on a terminal; a request id on every line
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        return int(args.func(args) or 0)
    except DomainError as err:
        print(f"telehub: {err.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="telehub", description=__doc__)
    p.add_argument("--config", type=Path, help="a TOML file overriding config/default.toml")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the web server")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument("--cert", help="TLS certificate (PEM); serve HTTPS")
    s.add_argument("--key", help="TLS private key (PEM)")
    s.set_defaults(func=cmd_serve)

    add_media_command(sub)

    s = sub.add_parser("migrate", help="apply database migrations")
    s.set_defaults(func=cmd_migrate)

    s = sub.add_parser("demo", help="fresh demo database with sample data, then serve it")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--months", type=int, default=6)
    s.add_argument("--no-serve", action="store_true", help="seed and print, do not serve")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("totp", help="print a user's current TOTP code (demo databases only)")
    s.add_argument("username")
    s.set_defaults(func=cmd_totp)

    s = sub.add_parser("adduser", help="add a staff member (e.g. the first admin)")
    s.add_argument("username")
    s.add_argument("--name", required=True, help="display name")
    s.add_argument("--role", required=True, choices=["clinician", "manager", "admin"])
    s.add_argument(
        "--skill",
        action="append",
        default=[],
        choices=["clinician", "senior_clinician", "prescriber"],
    )
    s.add_argument("--password-stdin", action="store_true")
    s.set_defaults(func=cmd_adduser)

    s = sub.add_parser("audit", help="audit trail tools")

    add_audit_commands(s.add_subparsers(dest="audit_command", required=True))

    s = sub.add_parser("dev-cert", help="make a self-signed TLS certificate for local testing")
    s.add_argument("--out", type=Path, help="default: tls/ in server.data_dir (var/tls)")
    s.add_argument("--host", action="append", default=[], help="extra hostname or IP")
    s.set_defaults(func=cmd_dev_cert)

    s = sub.add_parser("report", help="avoided events and answer times for a date range")
    s.add_argument("--from", dest="start", help="first UK day, YYYY-MM-DD (required)")
    s.add_argument("--to", dest="end", help="last UK day (included), YYYY-MM-DD")
    s.add_argument("--home", help="a care home's code (default: all homes)")
    s.add_argument(
        "--format",
        choices=["csv", "json", "fhir"],
        default="csv",
        help="fhir: a FHIR Bundle of Encounter resources, one per consultation",
    )
    s.set_defaults(func=cmd_report)

    add_report_commands(s.add_subparsers(dest="report_command", metavar="{rebuild-rollup}"))

    s = sub.add_parser("import-calls", help="import historical call logs (docs/import.md)")
    s.add_argument("file", type=Path)
    s.add_argument(
        "--skip-invalid",
        action="store_true",
        help="import the good rows and list the bad ones (default: all or nothing)",
    )
    s.set_defaults(func=cmd_import_calls)

    _add_rota(sub)
    return p


def _add_rota(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    try:
        from rota.cli import add_commands
    except ImportError:  # pragma: no cover - rota is part of the package
        return

    r = sub.add_parser("rota", help="rota: solve, check, forecast, export from the hub")
    rota_sub = r.add_subparsers(dest="rota_command", required=True)
    add_commands(rota_sub)
    add_hub_commands(rota_sub)


def cmd_serve(args: argparse.Namespace) -> int:
    from hub.outcomes.tariffs import configured_tariffs

    settings = settings_from(args)
    configured_tariffs(settings.outcomes.tariffs_file)  # a bad tariffs file stops it here
    server = settings.server
    settings = settings.replace(
        "server",
        host=args.host or server.host,
        port=args.port or server.port,
        tls_cert=args.cert or server.tls_cert,
        tls_key=args.key or server.tls_key,
    )
    asyncio.run(_check_schema(settings))
    _serve(settings)
    return 0


async def _check_schema(settings: Settings) -> None:
    engine = create_engine(settings.database.url)
    try:
        demo_config = Path(settings.server.data_dir) / DEMO_CONFIG_NAME
        fix = "telehub migrate" + (f" --config {demo_config}" if settings.demo.enabled else "")
        await check_current(engine, fix)
    finally:
        await engine.dispose()


def _serve(settings: Settings) -> None:
    server = settings.server
    ssl_ctx = None
    if server.tls_cert or server.tls_key:
        if not (server.tls_cert and server.tls_key):
            raise SystemExit("telehub: give both a TLS certificate and its key")
        ssl_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_ctx.load_cert_chain(server.tls_cert, server.tls_key)
    scheme = "https" if ssl_ctx else "http"
    listening = f"telehub listening on {scheme}://{server.host}:{server.port}/"
    from web.app import create_app  # here: the other commands start without the web app

    web.run_app(
        create_app(settings),
        host=server.host,
        port=server.port,
        ssl_context=ssl_ctx,
        # Said once the socket is open (aiohttp prints after its sites have started).
        print=lambda _started: print(listening, flush=True),
        shutdown_timeout=5,
        access_log=ACCESS_LOG,
        access_log_class=AccessLogger,  # paths without query strings (personal data)
    )


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = settings_from(args)

    async def run() -> None:
        async with hub_context(settings, migrate=True):
            pass

    asyncio.run(run())
    print("database is at the latest schema")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from rota.solver import Progress as RotaProgress
    from web.cli.demo_data import ROTA_TIME_LIMIT_S, DemoSummary, seed

    demo_dir = data_dir(args)
    demo_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    demo_config = demo_dir / DEMO_CONFIG_NAME
    db = demo_dir / "demo.db"
    for path in (db, db.with_suffix(".db-wal"), db.with_suffix(".db-shm")):
        path.unlink(missing_ok=True)
    demo_config.write_text(
        "# Written by `telehub demo`: serve it again with\n"
        f"#   telehub --config {demo_config} serve\n"
        f'[server]\ndata_dir = "{demo_dir}"\n'
        f'[database]\nurl = "sqlite+aiosqlite:///{db}"\n'
        f'[security]\nkeys_file = "{demo_dir / "demo-keys.toml"}"\n'
        "[demo]\nenabled = true\n"
    )
    settings = resolve_secrets(settings_mod.load(demo_config, os.environ))
    settings = settings.replace("server", port=args.port)

    async def run() -> DemoSummary:
        with progress_bar(total=0, desc="seeding demo consultations", unit="call") as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.n = done
                bar.refresh()
                if done >= total:
                    bar.close()  # before the rota's bar opens below it

            rota_bar: list[Bar] = []  # opened when the rota solver starts

            def rota_progress(p: RotaProgress) -> None:  # from the solver's thread
                if not rota_bar:
                    rota_bar.append(
                        progress_bar(total=ROTA_TIME_LIMIT_S, desc="solving a draft rota", unit="s")
                    )
                best = "…" if p.objective is None else f"{p.objective:.0f}"
                rota_bar[0].n = min(round(p.elapsed_s, 1), ROTA_TIME_LIMIT_S)
                rota_bar[0].set_postfix_str(f"{p.elapsed_s:.0f} s, best score {best}")

            async with hub_context(settings, migrate=True) as ctx:
                try:
                    return await seed(
                        ctx,
                        months=args.months,
                        on_progress=progress,
                        on_rota_progress=rota_progress,
                    )
                finally:
                    for opened in rota_bar:
                        opened.n = opened.total  # solved: the time limit is used up
                        opened.close()

    summary = asyncio.run(run())
    url = f"http://{settings.server.host}:{settings.server.port}/"
    print()
    print(
        f"telehub demo: {summary.homes} care homes, {summary.residents} residents, "
        f"{summary.consultations} past consultations"
    )
    print(f"\n  Open {url}\n")
    if summary.rota is not None:
        r = summary.rota
        print(f"  Draft rota {r.start}–{r.last} (not published): {url}rota/{r.id}\n")
    print("  Staff logins (password, then the 6-digit code from an authenticator app or")
    print(f"  `telehub --config {demo_config} totp USERNAME`):")
    for line in demo_login_lines(summary.logins):
        print(line)
    print("\n  Tablet enrolment codes (open /enrol in another browser profile):")
    for home_name, code in summary.enrolment_codes:
        print(f"    {home_name:<28} {code}")
    print(flush=True)
    if args.no_serve:
        return 0
    _serve(settings)
    return 0


def demo_login_lines(logins: Sequence[DemoLogin]) -> list[str]:
    """One login per role first (admin, hub manager, home manager, clinician), then
    the rest of the staff, each with its password and TOTP secret."""
    first: dict[str, DemoLogin] = {}
    for login in logins:
        if login.totp_secret is not None:
            first.setdefault(login.role_label, login)
    rest = [x for x in logins if x not in first.values()]

    def line(x: DemoLogin) -> str:
        totp = x.totp_secret or "(sets up two-factor at first login)"
        scope = f"   ({x.home_name} only)" if x.home_name else ""
        return f"    {x.role_label:<13} {x.username:<12} {x.password}   TOTP secret: {totp}{scope}"

    lines = ["  One login per role:", *(line(x) for x in first.values())]
    if rest:
        lines += ["  More staff (same password):", *(line(x) for x in rest)]
    return lines


def cmd_totp(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if not settings.demo.enabled:
        print("telehub: `totp` works on demo databases only", file=sys.stderr)
        return 2

    async def run() -> str | None:
        async with hub_context(settings) as ctx:
            return await demo_totp_code(ctx, SYSTEM, args.username)

    code = asyncio.run(run())
    if code is None:
        print(f"telehub: {args.username} has no two-factor secret", file=sys.stderr)
        return 1
    print(code)
    return 0


def cmd_adduser(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password (12+ characters): ")
    new = NewStaff.parse(args.username, args.name, args.role, args.skill)

    async def run() -> None:
        async with hub_context(settings) as ctx:
            await create_staff(ctx, SYSTEM, new, password)

    asyncio.run(run())
    print(f"added {new.username} ({new.role.value}); two-factor is set up at first login")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    import csv
    import json

    from hub.outcomes.tariffs import configured_tariffs
    from hub.reports import summary

    settings = settings_from(args)
    tariffs = configured_tariffs(settings.outcomes.tariffs_file)  # checked before anything runs

    async def run() -> list[dict[str, object]] | str:
        async with hub_context(settings) as ctx:
            home_id = (await home_by_code(ctx, SYSTEM, args.home)).id if args.home else None
            query = summary.ReportQuery.parse(args.start, args.end, home_id)
            if args.format == "fhir":
                from web.reports.fhir import encounter_bundle

                bundle = await encounter_bundle(ctx, SYSTEM, query)
                return bundle.model_dump_json(indent=2)
            report = await summary.build(ctx, SYSTEM, query, tariffs, per_home=True)
            return summary.summary_rows(report)

    rows = asyncio.run(run())
    if isinstance(rows, str):
        print(rows)
    elif args.format == "json":
        print(json.dumps(rows, indent=2))
    else:
        # Home names are free text: guarded against spreadsheet formulas as on the web.
        from web.reports.dashboard import safe_cell

        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[-1]))
        writer.writeheader()
        writer.writerows({k: safe_cell(v) for k, v in row.items()} for row in rows)
    return 0


def cmd_import_calls(args: argparse.Namespace) -> int:
    from hub.calls.imports import ImportResult, import_calls, import_summary, plural
    from web.calls.call_log import CsvCallLog

    settings = settings_from(args)
    if not args.file.exists():
        print(f"telehub: {args.file} does not exist", file=sys.stderr)
        return 2

    async def run() -> ImportResult:
        with (
            args.file.open(encoding="utf-8-sig", newline="") as f,
            progress_bar(desc="importing calls", unit="row") as bar,
        ):

            def progress(done: int) -> None:
                bar.n = done
                bar.refresh()

            async with hub_context(settings) as ctx:
                return await import_calls(
                    ctx,
                    SYSTEM,
                    CsvCallLog(f),
                    skip_invalid=args.skip_invalid,
                    on_progress=progress,
                )

    try:
        result = asyncio.run(run())
    except RowErrors as err:
        for line, message in err.errors[:200]:
            print(f"{args.file}:{line}: {message}", file=sys.stderr)
        print(
            f"telehub: {plural(len(err.errors), 'bad row')}; nothing imported "
            "(--skip-invalid imports the good rows)",
            file=sys.stderr,
        )
        return 1
    print(import_summary(result))
    for line, message in result.skipped[:200]:
        print(f"{args.file}:{line}: {message}", file=sys.stderr)
    for line, message in result.duplicates[:200]:
        print(f"{args.file}:{line}: duplicate skipped: {message}", file=sys.stderr)
    return 0


def cmd_dev_cert(args: argparse.Namespace) -> int:
    cert, key = make_dev_cert(args.out or data_dir(args) / "tls", args.host)
    print(
        f"wrote {cert} and {key}\nserve with: telehub serve --host 0.0.0.0 "
        f"--cert {cert} --key {key}"
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
