"""Request parsers every API view uses."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Far deeper than any body the API accepts (rule conditions nest a few levels), far
# shallower than the interpreter's recursion limit, which serializers would hit next.
MAX_JSON_DEPTH = 64


def json_depth_exceeds(value, limit: int) -> bool:
    """True when containers in ``value`` nest deeper than ``limit`` (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with a nesting bound: a body nested thousands deep is a 400
    (the stdlib decoder would raise RecursionError, a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        if json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        return data
