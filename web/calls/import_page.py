"""Admin page: import historical call logs from the web (``telehub import-calls``'s twin).

The upload is streamed to a temporary file a chunk at a time (never held in memory,
and read outside the app's small ``client_max_size``), capped at ``MAX_IMPORT_BYTES``
and checked to be UTF-8 on the way in; then ``hub.calls.imports.import_calls`` runs on
its rows as ``web.calls.call_log`` reads them, with the same rules as the CLI (admin
only, every row checked, one transaction, all or nothing unless bad rows are skipped,
audited).

The page's script asks for ``application/x-ndjson`` and gets one JSON object a line:
``progress`` lines (rows checked of the total, a few a second), then one of ``done``,
``refused`` (bad rows, nothing written) or ``error``. A plain form post (no script)
gets the result page instead.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import logging
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web

from hub.calls.imports import ImportResult, import_calls, import_summary
from hub.context import HubContext
from hub.errors import DomainError, RowErrors
from hub.people.access import Actor, Role
from web.calls.call_log import CsvCallLog
from web.http.keys import CTX
from web.http.render import render
from web.http.security import STREAMED_FORM, actor_of, require, streamed_upload

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

MAX_IMPORT_BYTES = 200 * 1024 * 1024  # the largest call log accepted (tests lower it)
PROGRESS_EVERY_S = 0.25  # at most about four progress lines a second
SHOW_ROWS = 200  # line-numbered errors (or skipped rows) sent and shown
CHUNK_BYTES = 64 * 1024
MAX_FIELD_BYTES = 64
NDJSON = "application/x-ndjson"
NOT_UTF8 = "the file is not UTF-8 text (save it as CSV UTF-8 and upload again)"
INTERNAL = "something went wrong on our side; it has been logged"


class UploadRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class Upload:
    path: Path
    skip_invalid: bool


class RowCounter:
    """Counts the rows of a call log as ``import_calls`` reads them.

    The checking loop reads one line per row, so lines read (less the header, and the
    blank lines it skips) is rows checked. ``import_calls``' own ``on_progress``
    reports rows *written*, a 5,000-row batch at a time, and stops when the first bad
    row means nothing will be written: too coarse for a progress bar."""

    def __init__(self) -> None:
        self.lines = 0
        self.written = 0

    @property
    def checked(self) -> int:
        return max(0, self.lines - 1)

    def count(self, lines: Iterable[str]) -> Iterator[str]:
        for line in lines:
            if line.strip("\r\n"):
                self.lines += 1
            yield line

    def wrote(self, n: int) -> None:
        self.written = n


def count_rows(path: Path) -> int:
    """Data rows in the file (non-blank lines after the header), counted quickly."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        return max(0, sum(1 for line in f if line.strip("\r\n")) - 1)


def _page(request: web.Request, *, status: int = 200, **extra: Any) -> web.Response:
    context = {
        "max_mb": MAX_IMPORT_BYTES // (1024 * 1024),
        "upload_error": None,
        "imported": None,
        "refused": None,
        **extra,
    }
    return render("admin_import_calls.html", request, context, status=status)


@routes.get("/admin/import-calls")
@require(Role.ADMIN, hub_wide=True)
async def import_calls_page(request: web.Request) -> web.StreamResponse:
    return _page(request)


@routes.post("/admin/import-calls")
@streamed_upload
@require(Role.ADMIN, hub_wide=True)
async def import_calls_upload(request: web.Request) -> web.StreamResponse:
    wants_stream = NDJSON in request.headers.get("Accept", "")
    with tempfile.TemporaryDirectory(prefix="telehub-import-") as folder:
        try:
            upload = await _receive(request, Path(folder) / "calls.csv")
        except UploadRefused as err:
            if wants_stream:
                return _ndjson_error(err.status, err.message)
            return _page(request, status=err.status, upload_error=err.message)
        if wants_stream:
            total = await asyncio.to_thread(count_rows, upload.path)
            return await _stream(request, upload, total)
        return await _plain(request, upload)


async def _receive(request: web.Request, path: Path) -> Upload:
    """Stream the form to ``path``: the ``file`` field (capped, UTF-8 checked) and the
    ``skip_invalid`` checkbox. Any other field is skipped unread."""
    if request.content_type != "multipart/form-data":
        raise UploadRefused(422, "send the form as multipart/form-data, with a CSV file")
    skip_invalid = False
    got_file = False
    try:
        reader = request.get(STREAMED_FORM) or await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise UploadRefused(422, "nested multipart bodies are not accepted")
            if part.name == "skip_invalid":
                value = await part.read_chunk(MAX_FIELD_BYTES)
                skip_invalid = value.decode("ascii", "replace") in ("on", "yes", "1", "true")
            elif part.name == "file" and not got_file:
                got_file = await _save(part, path)
    except ValueError:  # aiohttp's multipart reader, on a malformed body
        raise UploadRefused(422, "the upload is not a well-formed form: try again") from None
    if not got_file:
        raise UploadRefused(422, "choose a CSV file to upload")
    return Upload(path, skip_invalid)


async def _save(part: BodyPartReader, path: Path) -> bool:
    """Write one file field to ``path``; False when no file was chosen."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    size = 0
    with path.open("wb") as out:
        while chunk := await part.read_chunk(CHUNK_BYTES):
            size += len(chunk)
            if size > MAX_IMPORT_BYTES:
                raise UploadRefused(
                    413,
                    f"the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB: "
                    "split it, or use telehub import-calls on the server",
                )
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                raise UploadRefused(422, NOT_UTF8) from None
            out.write(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise UploadRefused(422, NOT_UTF8) from None
    if size == 0:
        if not part.filename:
            return False  # the browser sends an empty field when no file was chosen
        raise UploadRefused(422, "the file is empty")
    return True


async def _import(ctx: HubContext, actor: Actor, upload: Upload, rows: RowCounter) -> ImportResult:
    with upload.path.open(encoding="utf-8-sig", newline="") as f:
        return await import_calls(
            ctx,
            actor,
            CsvCallLog(rows.count(f)),
            skip_invalid=upload.skip_invalid,
            on_progress=rows.wrote,
        )


def _done(result: ImportResult) -> dict[str, Any]:
    return {
        "type": "done",
        "imported": result.imported,
        "skipped": [list(e) for e in result.skipped[:SHOW_ROWS]],
        "skipped_count": len(result.skipped),
        "duplicates": [list(e) for e in result.duplicates[:SHOW_ROWS]],
        "duplicates_count": len(result.duplicates),
        "summary": import_summary(result),
    }


def _refused(err: RowErrors) -> dict[str, Any]:
    return {
        "type": "refused",
        "errors": [list(e) for e in err.errors[:SHOW_ROWS]],
        "count": len(err.errors),
    }


def _line(message: dict[str, Any]) -> bytes:
    return (json.dumps(message) + "\n").encode()


def _ndjson_error(status: int, message: str) -> web.Response:
    return web.Response(
        status=status,
        body=_line({"type": "error", "message": message}),
        content_type=NDJSON,
    )


async def _plain(request: web.Request, upload: Upload) -> web.StreamResponse:
    """The no-script path: import, then render the result page."""
    try:
        result = await _import(request.app[CTX], actor_of(request), upload, RowCounter())
    except RowErrors as err:
        return _page(request, status=422, refused=_refused(err))
    return _page(request, imported=_done(result))


async def _stream(request: web.Request, upload: Upload, total: int) -> web.StreamResponse:
    """Import while sending progress lines, then the outcome line.

    If the browser goes away mid-import (tab closed, navigation), the import is
    cancelled: ``import_calls`` writes everything in one transaction, which the unit of
    work rolls back on the way out, so nothing is half-imported — all or nothing holds.
    The same happens if aiohttp cancels this handler itself on a disconnect."""
    response = web.StreamResponse(
        headers={
            "Content-Type": NDJSON,
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }
    )
    await response.prepare(request)
    rows = RowCounter()
    importing = asyncio.create_task(_import(request.app[CTX], actor_of(request), upload, rows))
    try:
        await response.write(_line({"type": "progress", "checked": 0, "total": total}))
        sent = 0
        while not importing.done():
            await asyncio.wait({importing}, timeout=PROGRESS_EVERY_S)
            transport = request.transport
            if transport is None or transport.is_closing():
                raise ConnectionResetError("the browser went away")
            checked = min(rows.checked, total)
            if checked != sent and not importing.done():
                sent = checked
                progress = {"type": "progress", "checked": checked, "total": total}
                await response.write(_line({**progress, "written": rows.written}))
        try:
            outcome = _done(importing.result())
        except RowErrors as err:
            outcome = _refused(err)
        except DomainError as err:
            outcome = {"type": "error", "message": err.message}
        except Exception:
            log.exception("importing calls failed")
            outcome = {"type": "error", "message": INTERNAL}
        await response.write(_line(outcome))
        await response.write_eof()
    except ConnectionResetError:
        finished = importing.done() and not importing.cancelled()
        log.info(
            "call import: the browser went away %s",
            "after the import finished" if finished else "mid-import; nothing was imported",
        )
    finally:
        if not importing.done():
            importing.cancel()  # rolls the import's transaction back
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await importing
        elif not importing.cancelled():
            importing.exception()  # retrieved: no "never retrieved" warning
    return response
