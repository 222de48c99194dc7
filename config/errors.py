"""Domain errors: what a service raises when a request breaks a rule.

They are plain exceptions (not DRF's), so services, tasks, admin forms and
management commands share them without speaking HTTP. config.exceptions maps
them to status codes and the API's one error shape; config.admin turns them
into form errors. Each app names its codes in its own enum (a StrEnum), for
example ``ledger.errors.LedgerErrorCode``; a code is any str.

- ``detail``: the message for a person.
- ``code``: machine-readable, stable.
- ``attr``: the field it is about, or None for the whole request.
- ``extra``: more fields merged into the error body (``existing_id``, ...).
"""

import enum


class ErrorCode(enum.StrEnum):
    """The kernel's own codes (the defaults of the classes below)."""

    INVALID = "invalid"
    CONFLICT = "conflict"
    NOT_FOUND = "not_found"
    TOO_LARGE = "too_large"


class CodedMessage(str):
    """A message that keeps its own code (one field's error from a form or a parser)."""

    def __new__(cls, text, code: str | None = None):
        message = super().__new__(cls, text)
        message.code = code
        return message


def _coded_messages(value) -> list[str]:
    if hasattr(value, "as_data"):
        # A form's ErrorList (a FilterSet's errors): each error keeps its code (null_characters_not_allowed, ...).
        return [CodedMessage(" ".join(error), getattr(error, "code", None)) for error in value.as_data()]
    messages = value if isinstance(value, list | tuple) else [value]
    return [CodedMessage(str(m), getattr(m, "code", None)) for m in messages]


class DomainError(Exception):
    """A rule violation (400, ``client_error``)."""

    status_code = 400
    default_code = ErrorCode.INVALID
    default_detail = "The request breaks a rule."

    def __init__(self, detail=None, code=None, *, attr: str | None = None, **extra):
        if isinstance(detail, dict):
            # {"field": ["message"]}: one field's error, the form merchants and filtersets use.
            self.errors = {key: _coded_messages(v) for key, v in detail.items()}
            attr = attr or next(iter(self.errors), None)
            detail = self.errors[attr][0] if attr in self.errors else self.default_detail
        else:
            self.errors = None
        self.detail = str(self.default_detail if detail is None else detail)
        self.code = str(code or self.default_code)
        self.attr = attr
        self.extra = extra
        super().__init__(self.detail)

    def __str__(self) -> str:
        return self.detail

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.detail!r}, code={self.code!r}, attr={self.attr!r})"

    def field_errors(self) -> dict[str | None, list[str]]:
        """{attr or None: [messages]} for a form."""
        return self.errors or {self.attr: [self.detail]}


class Invalid(DomainError):
    """Bad input a serializer could not catch (400, ``validation_error``)."""

    default_detail = "Invalid input."


class NotFound(DomainError):
    """No such object, or another user's (404)."""

    status_code = 404
    default_code = ErrorCode.NOT_FOUND
    default_detail = "Not found."


class Conflict(DomainError):
    """The request collides with the current state (409)."""

    status_code = 409
    default_code = ErrorCode.CONFLICT
    default_detail = "The request conflicts with the current state."


class PayloadTooLarge(DomainError):
    status_code = 413
    default_code = ErrorCode.TOO_LARGE
    default_detail = "The upload is too large."
