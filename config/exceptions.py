"""The API's one error shape and the domain errors services raise.

Every 4xx/5xx body is drf-standardized-errors' shape:
``{"type": "validation_error"|"client_error"|"server_error",
   "errors": [{"code": str, "detail": str, "attr": str|null}]}``
plus, for a conflict, the fields that tell the client what it collided with
(for example ``existing_id``)."""

from drf_standardized_errors.formatter import ExceptionFormatter
from rest_framework import status
from rest_framework.exceptions import APIException


class DomainError(APIException):
    """Base for rule violations raised by services; carries optional extra
    fields that are merged into the error body."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"
    default_detail = "The request breaks a rule."

    def __init__(self, detail=None, code=None, **extra):
        super().__init__(detail=detail, code=code)
        self.extra = extra


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with the current state."


class PayloadTooLarge(DomainError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The upload is too large."


class TallyExceptionFormatter(ExceptionFormatter):
    def format_error_response(self, error_response):
        body = super().format_error_response(error_response)
        body.update(getattr(self.exc, "extra", None) or {})
        return body
