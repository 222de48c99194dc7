"""Request parsers every API view uses."""

import re

from rest_framework.exceptions import ErrorDetail, ParseError, ValidationError
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


# JSON can spell what no UTF-8 text holds: lone surrogates ("\\ud800"); PostgreSQL cannot store them.
SURROGATE = re.compile("[\ud800-\udfff]")
NUL = re.compile("\x00")


def json_text_matching(value, pattern: re.Pattern) -> tuple[str, str] | None:
    """(path, character) of the first key or string in ``value`` that ``pattern`` finds, the path
    dotted as the error shape's attr (``conditions.all.0.value``; a key's is its object's)."""
    stack = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            found = pattern.search(item)
            if found:
                return path, found.group()
        elif isinstance(item, dict):
            for key, child in item.items():
                found = pattern.search(key)
                if found:
                    return path, found.group()
                stack.append((child, f"{path}.{key}" if path else str(key)))
        elif isinstance(item, list):
            stack.extend((child, f"{path}.{i}" if path else str(i)) for i, child in enumerate(item))
    return None


def surrogate_error(path: str, char: str) -> ValidationError:
    text = f"Surrogate characters are not allowed: U+{ord(char):X}."
    message = ErrorDetail(text, code="surrogate_characters_not_allowed")
    return ValidationError({path or "non_field_errors": [message]})


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with a nesting bound: a body nested thousands deep is a 400
    (the stdlib decoder would raise RecursionError, a 500). A lone surrogate anywhere (a key, a
    string inside a free-form object such as a rule's conditions or a bulk filter) is a 400 naming
    where it is, as DRF's text fields say it: the database driver would refuse it (a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        if json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        surrogate = json_text_matching(data, SURROGATE)
        if surrogate:
            raise surrogate_error(*surrogate)
        return data
