"""The OpenAPI schema's central rules (config.openapi.TallyAutoSchema is DRF's
DEFAULT_SCHEMA_CLASS): every operation documents the one error shape for each
status it can answer, query bounds, the media types a client should send, and
one tag for its area. Views only add what is theirs (a 409 they raise, an
example)."""

from decimal import Decimal
from http import HTTPStatus

from django.core.validators import RegexValidator
from drf_spectacular.plumbing import is_patched_serializer
from drf_spectacular.utils import PolymorphicProxySerializer
from drf_standardized_errors.openapi import AutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum, ServerErrorEnum, ValidationErrorEnum
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation

from config.fields import BoundedDateField, BoundedDateTimeField, JSONInFormMixin


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable and stable, e.g. required, invalid, not_found.")
    detail = serializers.CharField(help_text="The message for a person.")
    attr = serializers.CharField(allow_null=True, help_text="The field it is about (dotted for nested), or null.")


def _error_response(name: str, error_type, doc: str, **extra_fields):
    fields = {
        "type": serializers.ChoiceField(choices=error_type.choices),
        "errors": ErrorSerializer(many=True),
        **extra_fields,
        "Meta": type("Meta", (), {"ref_name": name}),
        "__doc__": doc,
    }
    return type(f"{name}Serializer", (serializers.Serializer,), fields)


ValidationErrorResponseSerializer = _error_response(
    "ValidationErrorResponse", ValidationErrorEnum, "The request's data broke a rule: one entry per problem."
)
ClientErrorResponseSerializer = _error_response(
    "ClientErrorResponse", ClientErrorEnum, "The request cannot be served as sent (see the status and code)."
)
ConflictErrorResponseSerializer = _error_response(
    "ConflictErrorResponse",
    ClientErrorEnum,
    "The request collides with the current state.",
    existing_id=serializers.CharField(required=False, help_text="The id of the object the request collided with."),
    transaction_ids=serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="The transactions the request collided with (e.g. reconciled rows; at most 100).",
    ),
    reconciled_count=serializers.IntegerField(required=False, help_text="How many of them are reconciled."),
    reconciled_through=serializers.DateField(
        required=False, help_text="The date the account is reconciled to: no new row on or before it."
    ),
    rows=serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="The import rows (file row numbers) the request collided with; at most 100.",
    ),
)
ServerErrorResponseSerializer = _error_response("ServerErrorResponse", ServerErrorEnum, "Our fault; retry later.")
ServiceUnavailableErrorResponseSerializer = _error_response(
    "ServiceUnavailableErrorResponse", ServerErrorEnum, "A service we depend on is down; retry after Retry-After."
)
# Kept for views that name them (same shape as ClientErrorResponse).
PayloadTooLargeErrorResponseSerializer = ClientErrorResponseSerializer
ThrottledErrorResponseSerializer = ClientErrorResponseSerializer

BadRequestResponseSerializer = PolymorphicProxySerializer(
    component_name="BadRequestResponse",
    serializers={
        "validation_error": ValidationErrorResponseSerializer,
        "client_error": ClientErrorResponseSerializer,
    },
    resource_type_field_name="type",
)

# What each error status is documented with (drf-standardized-errors' ERROR_SCHEMAS).
ERROR_SCHEMAS = {
    "400": BadRequestResponseSerializer,
    "401": ClientErrorResponseSerializer,
    "403": ClientErrorResponseSerializer,
    "404": ClientErrorResponseSerializer,
    "405": ClientErrorResponseSerializer,
    "406": ClientErrorResponseSerializer,
    "409": ConflictErrorResponseSerializer,
    "413": ClientErrorResponseSerializer,
    "415": ClientErrorResponseSerializer,
    "429": ClientErrorResponseSerializer,
    "500": ServerErrorResponseSerializer,
}
ERROR_STATUS_CODES = list(ERROR_SCHEMAS)


# The first path segment after /api/v1/ names the area, except these.
_TAG_OF_SEGMENT = {
    "rates": "currency",
    "currencies": "currency",
    "import-profiles": "imports",
    "categories": "merchants",
    "notifications": "realtime",
    "tags": "transactions",
    "attachments": "transactions",
}
_TAG_OF_PREFIX = {"transactions/import": "imports"}


def tag_for_path(path: str) -> str:
    """The area an API path belongs to (its one OpenAPI tag)."""
    rest = path.removeprefix("/api/v1/").strip("/")
    for prefix, tag in _TAG_OF_PREFIX.items():
        if rest == prefix or rest.startswith(prefix + "/"):
            return tag
    segment = rest.split("/", 1)[0]
    return _TAG_OF_SEGMENT.get(segment, segment)


def _mentions_uuid(schema) -> bool:
    if not isinstance(schema, dict):
        return False
    return schema.get("format") == "uuid" or _mentions_uuid(schema.get("items"))


def _has_uuid_field(serializer, depth: int = 0) -> bool:
    for field in getattr(serializer, "fields", {}).values():
        while isinstance(field, serializers.ListField | serializers.ListSerializer):
            field = field.child
        if isinstance(field, serializers.UUIDField | serializers.RelatedField) and not field.read_only:
            return True
        if isinstance(field, serializers.Serializer) and depth < 5 and _has_uuid_field(field, depth + 1):
            return True
    return False


def _has_file_field(serializer) -> bool:
    fields = getattr(serializer, "fields", None)
    if fields is None:
        return False
    return any(isinstance(field, serializers.FileField) for field in fields.values())


# config.fields' date bounds (1900-01-01 .. 2100-12-31) as a pattern next to format: date.
DATE_PATTERN = r"^(?:19\d\d|20\d\d|2100)-\d\d-\d\d$"
# A timestamp's date in the same bounds (an offset that moves it past them is still refused).
DATETIME_PATTERN = r"^(?:19\d\d|20\d\d|2100)-\d\d-\d\d"
MONTH_PATTERN = r"^(?:19\d\d|20\d\d|2100)-(?:0[1-9]|1[0-2])$"
_ANY_BUT_NULL = [{"type": t} for t in ("object", "array", "string", "number", "boolean")]


def _exact_field_schema(field, direction: str, schema: dict) -> dict:
    """What a field accepts, as the field checks it (drf-spectacular's defaults are looser)."""
    if not isinstance(schema, dict):
        return schema
    if isinstance(field, BoundedDateField) and list(getattr(field, "input_formats", None) or []) == ["%Y-%m"]:
        schema.pop("format", None)  # a month, YYYY-MM
        schema["pattern"] = MONTH_PATTERN
    elif isinstance(field, BoundedDateField) and schema.get("format") == "date":
        schema["pattern"] = DATE_PATTERN
    elif isinstance(field, BoundedDateTimeField) and schema.get("format") == "date-time":
        schema["pattern"] = DATETIME_PATTERN
    elif isinstance(field, serializers.DecimalField) and schema.get("type") == "string":
        schema["pattern"] = decimal_pattern(field)
    elif isinstance(field, serializers.JSONField) and not field.allow_null and direction == "request":
        # Any JSON value but null (the field refuses null).
        return {"anyOf": _ANY_BUT_NULL, **{k: v for k, v in schema.items() if k not in ("type", "nullable")}}
    elif isinstance(field, serializers.CharField) and direction == "request":
        if schema.get("format") in ("email", "uri") and field.allow_blank:
            schema.pop("format")  # "" is valid too
        if "pattern" not in schema and "format" not in schema and "enum" not in schema and not _has_regex(field):
            schema["pattern"] = r"^[^\u0000]*$"  # DRF refuses NUL characters in any text
    elif isinstance(field, serializers.EmailField | serializers.URLField) and direction == "response":
        if getattr(field, "allow_blank", False) or _model_field_is_blank(field):
            schema.pop("format", None)  # "" is answered too
    return schema


def _has_regex(field) -> bool:
    # Its RegexValidator's pattern goes into the schema (in _insert_field_validators) instead.
    return any(isinstance(v, RegexValidator) for v in field.validators)


def decimal_pattern(field) -> str:
    """A decimal string as the field takes it: ASCII digits, at least one ("" and "-" are not
    numbers; spectacular's pattern admits them), no more whole or fractional digits than the field
    holds, no sign when min_value is 0, and not zero either when min_value is the smallest step."""
    whole = (field.max_digits - field.decimal_places) if field.max_digits is not None else None
    # Leading zeros are not digits the field counts ("007.5" is 7.5); trailing ones are.
    whole_part = f"0*[0-9]{{1,{whole}}}" if whole else "[0-9]+"
    places = field.decimal_places
    frac_q = f"{{1,{places}}}" if places is not None else "+"
    frac_q0 = f"{{0,{places}}}" if places is not None else "*"
    number = rf"(?:{whole_part}(?:\.[0-9]{frac_q0})?|\.[0-9]{frac_q})"
    minimum = field.min_value
    if getattr(field, "non_zero", False) and (minimum is None or minimum < 0):
        return rf"^(?![-0.]*$)-?{number}$"  # anything but zeros (and the point and sign)
    if minimum is None or minimum < 0:
        return rf"^-?{number}$"
    if minimum == 0:
        return rf"^{number}$"
    if places is not None and minimum <= Decimal(1).scaleb(-places):
        return rf"^(?![0.]*$){number}$"  # positive: anything but zeros (and the point)
    raise ValueError(f"min_value {minimum} has no pattern here: document it by hand")


def _model_field_is_blank(field) -> bool:
    model = getattr(getattr(getattr(field, "parent", None), "Meta", None), "model", None)
    try:
        return bool(model and model._meta.get_field(field.source).blank)
    except Exception:  # not a model field (a property, a method): nothing to learn
        return False


class TallyAutoSchema(AutoSchema):
    """drf-standardized-errors' schema (an error response per status) with our rules on top."""

    def get_tags(self) -> list[str]:
        return [tag_for_path(self.path)]

    def get_examples(self):
        from config.openapi_examples import OPERATION_EXAMPLES

        return [*super().get_examples(), *OPERATION_EXAMPLES.get(self.get_operation_id(), [])]

    def map_parsers(self) -> list:
        # A JSON API: clients send JSON, or multipart where a file is uploaded. Form
        # encoding is parsed too but not offered (nested and decimal fields lose their types in it).
        media_types = super().map_parsers()
        wanted = "multipart/form-data" if _has_file_field(self._request_serializer_instance()) else "application/json"
        return [wanted] if wanted in media_types else media_types

    def _request_serializer_instance(self):
        serializer = self.get_request_serializer()
        if isinstance(serializer, dict):  # {media type: serializer}: one serializer for all of them
            serializer = next(iter(serializer.values()), None)
        if isinstance(serializer, type):
            try:
                return serializer()
            except TypeError:
                return None
        return serializer

    def _should_add_error_response(self, responses: dict, status_code: str) -> bool:
        if status_code in responses:
            return False
        has_body = self.method in ("PUT", "PATCH", "POST") and bool(self.map_parsers())
        if status_code == "400":
            return True
        if status_code == "409":
            return False  # only where the view says it raises one
        if status_code in ("413", "415"):
            return has_body
        if status_code == "404" and self._names_objects_by_id():
            return True  # an id that is not one of the caller's objects is a 404
        return super()._should_add_error_response(responses, status_code)

    def _names_objects_by_id(self) -> bool:
        """Whether a query parameter or a request body field is an object's id (a UUID)."""
        if any(p.get("in") == "query" and _mentions_uuid(p.get("schema")) for p in self._get_parameters()):
            return True
        serializer = self._request_serializer_instance() if self.method in ("PUT", "PATCH", "POST") else None
        return serializer is not None and _has_uuid_field(serializer)

    def _get_allowed_error_status_codes(self) -> list[str]:
        return ERROR_STATUS_CODES

    def _get_error_response_serializer(self, status_code: str):
        return ERROR_SCHEMAS[status_code]

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        return _exact_field_schema(field, direction, schema)

    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        if not body:
            return body
        # A list or object in a multipart body is one part holding JSON (config.fields.JSONInFormMixin).
        serializer = self._request_serializer_instance()
        json_parts = [
            name for name, field in getattr(serializer, "fields", {}).items() if isinstance(field, JSONInFormMixin)
        ]
        for media_type, content in body.get("content", {}).items():
            if media_type.startswith("multipart/") and json_parts:
                content.setdefault("encoding", {}).update(
                    {name: {"contentType": "application/json"} for name in json_parts}
                )
        return body

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        # A serializer that needs one of several fields says so: required_any_of = ("a", "b").
        any_of = getattr(serializer, "required_any_of", None)
        if any_of and direction == "request" and not is_patched_serializer(serializer, direction):
            schema["anyOf"] = [{"required": [name]} for name in any_of]
        return schema

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        if field.read_only and "pattern" in schema and _model_field_is_blank(field):
            # A model's blank-able slug (an import profile's key) is answered as "" too.
            inner = {k: schema.pop(k) for k in ("type", "pattern", "maxLength", "minLength") if k in schema}
            schema["oneOf"] = [inner, {"type": "string", "maxLength": 0}]
        # Validators add formats back (EmailValidator -> email): a blank-able field answers "" too.
        if schema.get("format") in ("email", "uri") and (
            getattr(field, "allow_blank", False) or _model_field_is_blank(field)
        ):
            schema.pop("format")

    def _get_parameters(self):
        # An optional query parameter sent empty (?since=) counts as not sent: django-filter and
        # DRF's serializers both read it so. Say it, or a client (or fuzzer) cannot know.
        parameters = [
            {**p, "allowEmptyValue": True} if p.get("in") == "query" and not p.get("required") else p
            for p in super()._get_parameters()
        ]
        for parameter in parameters:
            schema = parameter.get("schema") or {}
            if schema.get("format") == "date" and "pattern" not in schema:
                # Date filters are bounded like every date input (config.fields.BoundedDateFilter).
                parameter["schema"] = {**schema, "pattern": DATE_PATTERN}
        return parameters


def add_reason_phrases(result, generator, request, public):
    """Postprocessing hook: a response without a description gets its status's
    reason phrase ("Too Many Requests"), so Swagger UI never shows "Unknown
    Status" and every documented status says what it is."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for code, response in (operation.get("responses") or {}).items():
                if isinstance(response, dict) and not response.get("description"):
                    try:
                        response["description"] = HTTPStatus(int(code)).phrase
                    except ValueError:  # "default" or a code HTTPStatus does not know
                        response["description"] = str(code)
    return result


class SchemaFormatNegotiation(DefaultContentNegotiation):
    """/api/schema/?format=json (or yaml) picks the schema's rendering, as drf-spectacular documents:
    DRF's ?format override is off for the API (URL_FORMAT_OVERRIDE), where `format` is a view's own."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return super().select_renderer(request, renderers, format_suffix or request.query_params.get("format"))
