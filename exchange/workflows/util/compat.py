"""Names that differ between Python 2.7 (Jython) and Python 3."""
import sys

PY2 = sys.version_info[0] == 2

if PY2:  # pragma: no cover - exercised under Jython
    string_types = (str, unicode)  # noqa: F821
    text_type = unicode  # noqa: F821
    integer_types = (int, long)  # noqa: F821
else:
    string_types = (str,)
    text_type = str
    integer_types = (int,)


def is_integer(value):
    """True for ints and longs, false for bools (a bool is an int in Python)."""
    return isinstance(value, integer_types) and not isinstance(value, bool)


def is_number(value):
    """True for ints, longs and floats, false for bools."""
    return isinstance(value, (float,) + integer_types) and not isinstance(value, bool)


def to_text(value):
    """Coerce bytes/str/unicode to text; Java strings already arrive as unicode."""
    if value is None or isinstance(value, text_type):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return text_type(value)
