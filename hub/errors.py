"""Domain errors.

They carry no transport codes: each edge (HTTP, WebSocket, CLI) maps them to its own
vocabulary in exactly one place (``web/http/errors.py`` for HTTP).
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose.

    ``message`` is written for the person who caused it and is shown verbatim.
    """

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(DomainError):
    """Input that can never be accepted as given (bad NHS number, empty name...)."""

    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(DomainError):
    """The thing does not exist *for this actor* (also used to hide other homes' data)."""

    code = "not_found"


class Gone(DomainError):
    """The thing existed but can no longer be used (a used, expired or withdrawn link)."""

    code = "gone"


class Conflict(DomainError):
    """The request clashes with the current state (duplicate, already claimed...)."""

    code = "conflict"


class Forbidden(DomainError):
    """The actor is known but may not do this."""

    code = "forbidden"


class AuthenticationFailed(DomainError):
    """Credentials were missing, wrong, expired or revoked."""

    code = "unauthenticated"


class LockedOut(AuthenticationFailed):
    """Too many failed logins: the account is locked until ``retry_after_s`` has passed."""

    code = "locked_out"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class TooManyConnections(DomainError):
    """One tablet, login or address already holds as many live connections as allowed."""

    code = "too_many_connections"


class Unavailable(DomainError):
    """The hub cannot serve this right now (its database is saturated): retry shortly."""

    code = "unavailable"
    retry_after_s = 5


class RowErrors(ValidationError):
    """A batch (CSV upload) had bad rows; nothing of it was written.

    ``errors`` holds ``(line_number, message)`` pairs, line numbers as a spreadsheet
    shows them (the header is line 1).
    """

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        shown = "; ".join(f"line {n}: {m}" for n, m in errors[:20])
        more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} bad row(s), nothing imported: {shown}{more}")
        self.errors = errors
