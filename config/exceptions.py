"""The API's one error shape, and the one place domain errors become HTTP.

Every 4xx/5xx body is drf-standardized-errors' shape:
``{"type": "validation_error"|"client_error"|"server_error",
   "errors": [{"code": str, "detail": str, "attr": str|null}]}``
plus, for a conflict, the fields that tell the client what it collided with
(for example ``existing_id``). The domain errors live in config.errors and are
re-exported here, so ``from config.exceptions import DomainError`` keeps working."""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.utils.log import log_response
from drf_standardized_errors.formatter import ExceptionFormatter
from drf_standardized_errors.handler import ExceptionHandler
from rest_framework import exceptions
from rest_framework.exceptions import ErrorDetail

from config.errors import Conflict, DomainError, ErrorCode, Invalid, NotFound, PayloadTooLarge

__all__ = [
    "Conflict",
    "DomainError",
    "ErrorCode",
    "Invalid",
    "NotFound",
    "PayloadTooLarge",
    "ServiceUnavailable",
    "TallyExceptionFormatter",
    "TallyExceptionHandler",
    "as_api_exception",
    "request_error_as_api_exception",
]


class _DomainAPIError(exceptions.APIException):
    pass


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_code = str(ErrorCode.TOO_LARGE)
    default_detail = "The request body is too large."


class TooManyFields(exceptions.APIException):
    status_code = 400
    default_code = "too_many_fields"
    default_detail = "The request has too many fields or files."


def request_error_as_api_exception(exc: Exception) -> exceptions.APIException | None:
    """Django's refusals of an oversized request body (raised while it is read) as API errors."""
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return TooManyFields()
    return None


def as_api_exception(exc: DomainError) -> exceptions.APIException:
    """The DRF exception carrying the same status, message, code and field."""
    if exc.errors is not None:
        # A message may carry its own code (an ErrorDetail), e.g. one per path of an invalid rule.
        detail = {
            key: [ErrorDetail(m, getattr(m, "code", None) or exc.code) for m in messages]
            for key, messages in exc.errors.items()
        }
    elif exc.attr:
        detail = {exc.attr: [ErrorDetail(exc.detail, exc.code)]}
    else:
        detail = ErrorDetail(exc.detail, exc.code)
    if isinstance(exc, Invalid):
        converted = exceptions.ValidationError(detail if isinstance(detail, dict) else [detail])
    else:
        converted = _DomainAPIError(detail)
    converted.status_code = exc.status_code
    return converted


class ServiceUnavailable(exceptions.APIException):
    """503 with Retry-After: a service the view depends on is down and the view fails closed
    (login without its counters). An answer we chose, not a crash: logged as a warning, never
    reported as a server error (no got_request_exception, so no Sentry event)."""

    status_code = 503
    default_code = "service_unavailable"
    default_detail = "The service is unavailable right now; try again shortly."

    def __init__(self, detail=None, wait: int | None = None):
        super().__init__(detail)
        self.wait = wait


class TallyExceptionHandler(ExceptionHandler):
    def report_exception(self, exc, response) -> None:
        if isinstance(exc, ServiceUnavailable):
            request = getattr(self.context.get("request"), "_request", None)
            log_response(
                "%s: %s", exc.detail, getattr(request, "path", ""), response=response, request=request, level="warning"
            )
            return
        super().report_exception(exc, response)

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, DomainError):
            return as_api_exception(exc)
        request_error = request_error_as_api_exception(exc)
        if request_error is not None:
            return request_error
        return super().convert_known_exceptions(exc)


class TallyExceptionFormatter(ExceptionFormatter):
    def format_error_response(self, error_response):
        body = super().format_error_response(error_response)
        body.update(getattr(self.original_exc, "extra", None) or getattr(self.exc, "extra", None) or {})
        return body
