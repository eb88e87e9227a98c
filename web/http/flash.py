"""A one-time message carried across a redirect (POST → 303 → GET), for a POST whose
answer must be shown exactly once and must not be repeated by a reload: issuing a
tablet enrolment code is not idempotent (a re-post would issue a second live code).

The message rides in a short-lived cookie limited to the page it is for, encrypted and
authenticated (AES-GCM, key derived from ``security.secret_key``, the page's path as
associated data), HttpOnly and SameSite=Strict. The page that shows it deletes it, so
a reload shows the page without it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Any

from aiohttp import web
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from web.http.keys import CTX
from web.http.security import is_https

FLASH_COOKIE = "telehub_flash"
MAX_AGE_S = 120  # long enough for a redirect on a slow link, short enough to be gone


def _cipher(request: web.Request) -> AESGCM:
    secret = request.app[CTX].settings.security.secret_key.encode()
    key = HKDF(hashes.SHA256(), 32, salt=None, info=b"telehub flash cookie").derive(secret)
    return AESGCM(key)


def put(response: web.StreamResponse, request: web.Request, path: str, data: Any) -> None:
    """Leave ``data`` (JSON-able) for the next GET of ``path``."""
    nonce = os.urandom(12)
    sealed = _cipher(request).encrypt(nonce, json.dumps(data).encode(), path.encode())
    value = base64.urlsafe_b64encode(nonce + sealed).decode()
    response.set_cookie(
        FLASH_COOKIE,
        value,
        max_age=MAX_AGE_S,
        path=path,
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
    )


def take(request: web.Request) -> Any | None:
    """The message left for this page, if any (tampered, stale or foreign: None).
    Call ``forget`` on the response that shows it."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        blob = base64.urlsafe_b64decode(raw.encode())
        opened = _cipher(request).decrypt(blob[:12], blob[12:], request.path.encode())
        return json.loads(opened)
    except (InvalidTag, ValueError, binascii.Error):
        return None


def forget(response: web.StreamResponse, request: web.Request) -> None:
    response.del_cookie(FLASH_COOKIE, path=request.path)
