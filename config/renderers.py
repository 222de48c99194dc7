"""The API's JSON renderer: DRF's JSONRenderer through orjson.

orjson renders a 50-row transactions page in ~0.02 ms where json.dumps with
DRF's encoder takes ~0.35 ms (bench/request_cost.py). The bytes are the
same: compact, UTF-8, and every type orjson does not render exactly as DRF
does (datetimes and times, which DRF cuts to milliseconds and writes with
"Z"; Decimal; lazy strings; querysets) goes through DRF's own encoder.
Whatever orjson refuses (an integer past 64 bits, a key that is not a
string) and an ``indent`` asked for in the Accept header fall back to DRF's
renderer. One difference: a float NaN or infinity renders as null, where
DRF's strict JSON refused to render the answer at all (a 500)."""

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

# Dates and datetimes (and dataclasses, which DRF refuses) go to DRF's encoder.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class RawJSON:
    """JSON text built elsewhere (a report PostgreSQL rendered), answered as it
    is: orjson writes it in place; DRF's encoder (an indent asked for) parses it."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


class _Encoder(JSONEncoder):
    def default(self, obj):
        if isinstance(obj, RawJSON):
            return orjson.loads(obj.text)
        return super().default(obj)


_encoder = _Encoder()


def _default(obj):
    if isinstance(obj, RawJSON):
        return orjson.Fragment(obj.text)
    return _encoder.default(obj)


class FastJSONRenderer(JSONRenderer):
    encoder_class = _Encoder

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            return orjson.dumps(data, default=_default, option=_OPTIONS)
        except (orjson.JSONEncodeError, TypeError, ValueError):
            return super().render(data, accepted_media_type, renderer_context)
