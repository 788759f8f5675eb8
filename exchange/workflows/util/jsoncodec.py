"""JSON values in and out of storage.

Every input, output, event and stream value must be JSON-native. `to_json_native` turns dict/list-like values
(including Java maps and lists handed over by Ignition) into plain Python and rejects anything else with the path
of the offending value, so a bad value is refused before it reaches the database.
"""
import json
import math
import re

from exchange.workflows.util.compat import integer_types, string_types, text_type, to_text
from exchange.workflows.util.errors import InvalidArgument

_SCALARS = (bool, float) + integer_types + string_types
_TEXT = frozenset(string_types)
_INTEGER = frozenset(integer_types)


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


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
for _code in range(0x20):
    _ESCAPES.setdefault(chr(_code), "\\u%04x" % _code)
_NEEDS_ESCAPE = re.compile(u'[\\x00-\\x1f"\\\\\u2028\u2029]')
_ESCAPES[u"\u2028"] = "\\u2028"
_ESCAPES[u"\u2029"] = "\\u2029"


def quote(text):
    """A JSON string literal (for hand-built JSON of fixed shape on hot paths)."""
    return _quote(text)


_QUOTED = {}  # short strings seen before (keys, statuses, step and executor names) -> their literal
_QUOTED_MAX_LENGTH = 32  # ids (36 characters) are one-offs: not worth keeping
_QUOTED_MAX_ENTRIES = 4096


def _quote(text):
    quoted = _QUOTED.get(text)
    if quoted is not None:
        return quoted
    if _NEEDS_ESCAPE.search(text) is None:
        quoted = '"' + text + '"'
    else:
        quoted = '"' + _NEEDS_ESCAPE.sub(lambda m: _ESCAPES[m.group(0)], text) + '"'
    if len(text) <= _QUOTED_MAX_LENGTH:
        # the regular expression is the costly part under Jython, and the same few words are quoted all day
        if len(_QUOTED) >= _QUOTED_MAX_ENTRIES:
            _QUOTED.clear()
        _QUOTED[text] = quoted
    return quoted


def _encode(value, out):
    kind = type(value)
    if kind in _TEXT:
        out.append(_quote(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind in _INTEGER:
        out.append(str(int(value)))
    elif kind is float:
        if math.isnan(value) or math.isinf(value):
            raise ValueError("%r is not JSON" % value)
        out.append(repr(value))
    elif kind is dict:
        out.append("{")
        first = True
        for key in value:
            if not first:
                out.append(",")
            first = False
            if type(key) not in _TEXT:
                raise ValueError("non-string key %r" % (key,))
            out.append(_quote(key))
            out.append(":")
            _encode(value[key], out)
        out.append("}")
    elif kind is list or kind is tuple:
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        out.append(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def dumps(value):
    """Compact JSON text of a JSON-native value.

    A small encoder of our own: Jython's stdlib json is pure Python and several times slower, and every
    status change, event and in-memory start encodes something. Output is standard JSON (UTF-8 text).
    """
    if value is None:
        return "null"
    out = []
    _encode(value, out)
    return "".join(out)


def dumps_checked(value, path="value"):
    return dumps(to_json_native(value, path))


def loads(text):
    if text is None:
        return None
    if not isinstance(text, text_type):
        text = to_text(text)
    return json.loads(text)
