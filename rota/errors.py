"""Errors the rota raises on purpose; each message is written for the rota lead and is
shown verbatim by the CLI (and, later, the web pages)."""

from __future__ import annotations


class RotaError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RotaInputError(RotaError):
    """Malformed input: the message names the exact field (``staff[3].fte: ...``)."""


class RotaConflictError(RotaError):
    """The hard rules cannot all hold for this problem; ``rules`` names those involved."""

    def __init__(self, message: str, rules: tuple[str, ...]) -> None:
        super().__init__(message)
        self.rules = rules


class RotaNoSolutionError(RotaError):
    """No rota was found within the time limit, and none could be proven impossible."""


class RotaCancelledError(RotaError):
    """The caller stopped the search (``stop`` event) before it finished."""
