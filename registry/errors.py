"""Errors the services raise. They carry no HTTP; the web layer maps each kind to a status."""

from __future__ import annotations


class RegistryError(Exception):
    """A rule of the register refused what was asked; ``detail`` says what to do about it."""

    title = "The request could not be completed"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(RegistryError):
    title = "Not found"


class Conflict(RegistryError):
    """The request is well formed but the thing is not in a state that allows it."""

    title = "Not allowed in the current state"


class InvalidInput(RegistryError):
    # GOV.UK's heading for a page of errors; "Check your answers" is the page before submitting.
    title = "There is a problem"


class PermissionDenied(RegistryError):
    title = "You do not have permission to do this"


class TooManyRequests(RegistryError):
    """Asked too often; ``retry_after`` says in how many seconds asking again may work."""

    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(detail, field=field)
        self.retry_after = retry_after
