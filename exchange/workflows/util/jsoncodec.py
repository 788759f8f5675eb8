"""JSON values in and out of storage.

Every input, output, event and stream value must be JSON-native. `to_json_native` turns dict/list-like values
(including Java maps and lists handed over by Ignition) into plain Python and rejects anything else with the path
of the offending value, so a bad value is refused before it reaches the database.
"""
import json
import math

from exchange.workflows.util.compat import integer_types, string_types, text_type, to_text
from exchange.workflows.util.errors import InvalidArgument

_SCALARS = (bool, float) + integer_types + string_types


def to_json_native(value, path="value"):
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, string_types):
        return to_text(value)
    if isinstance(value, integer_types):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise InvalidArgument("%s is %r, which JSON cannot represent" % (path, value), field=path)
        return value
    if isinstance(value, dict) or (hasattr(value, "items") and hasattr(value, "keys")):
        out = {}
        for key, item in value.items():
            if not isinstance(key, string_types):
                raise InvalidArgument("%s has a non-string key %r" % (path, key), field=path)
            out[to_text(key)] = to_json_native(item, "%s.%s" % (path, key))
        return out
    if isinstance(value, (list, tuple)) or _is_java_sequence(value):
        return [to_json_native(item, "%s[%d]" % (path, index)) for index, item in enumerate(value)]
    raise InvalidArgument(
        "%s is a %s, which is not JSON-native (dict, list, str, number, bool, None)" % (path, type(value).__name__),
        field=path,
    )


def _is_java_sequence(value):
    # java.util.List / arrays iterate like sequences in Jython; sets and generators are refused on purpose
    return hasattr(value, "__iter__") and hasattr(value, "__len__") and hasattr(value, "__getitem__")


def dumps(value):
    """Compact JSON text; None stays SQL NULL-friendly as the string 'null'."""
    if value is None:
        return "null"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def dumps_checked(value, path="value"):
    return dumps(to_json_native(value, path))


def loads(text):
    if text is None:
        return None
    if not isinstance(text, text_type):
        text = to_text(text)
    return json.loads(text)
