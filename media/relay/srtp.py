"""libsrtp as the relay's C path calls it: on pylibsrtp's own sessions.

aiortc makes one pylibsrtp ``Session`` per direction of a DTLS transport; its RTCP
goes through them in Python. The C path (media/relay/_fastpath.c) protects and
unprotects RTP on the same libsrtp contexts — one context and one replay window for
both — through the function pointers pylibsrtp's cffi module exports, so no second
copy of libsrtp or of the keys exists. ``passthrough.check_internals`` checks that
the session still keeps its context where ``context`` reads it.
"""

from __future__ import annotations

import pylibsrtp
from pylibsrtp import _binding

__all__ = ["PROTECT", "UNPROTECT", "context"]

_ffi, _lib = _binding.ffi, _binding.lib

# srtp_protect / srtp_unprotect(srtp_t, void *packet, int *length), as addresses
PROTECT = int(_ffi.cast("uintptr_t", _ffi.addressof(_lib, "srtp_protect")))
UNPROTECT = int(_ffi.cast("uintptr_t", _ffi.addressof(_lib, "srtp_unprotect")))


def context(session: pylibsrtp.Session) -> int:
    """The libsrtp context (``srtp_t``) inside a pylibsrtp session, as an address."""
    return int(_ffi.cast("uintptr_t", session._srtp[0]))
