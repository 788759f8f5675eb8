"""The condition of a tag wait: checked once when the wait is asked for, evaluated against each reading.

A condition is a small JSON-native dict, stored with the parked run, so that the worker that parks a run and the
dispatcher that later releases it (maybe on another gateway, after a restart) judge a reading the same way:

    {"op": "equals", "value": 80, "tolerance": 0.5, "requireGood": true}
    {"op": "above" | "below", "value": 500.0, "requireGood": true}
    {"op": "changes", "value": <the value read when the wait began>, "requireGood": true}
"""
from exchange.workflows.util.compat import integer_types, is_number, string_types
from exchange.workflows.util.errors import InvalidArgument
from exchange.workflows.util.jsoncodec import to_json_native

HOLDS = "holds"
WAITING = "waiting"
BAD_QUALITY = "bad quality"

OPERATORS = ("equals", "above", "below", "changes")
SHORTEST_POLL_S = 0.1
_NUMBERS = (float,) + integer_types


def checked_path(path, field="path"):
    if not isinstance(path, string_types) or not path.strip():
        raise InvalidArgument("%s must be a tag path such as [default]Line1/Reactor1/Temp" % field, field=field)
    return path.strip()


def checked_seconds(value, field, smallest=0.0):
    """None, or a number of seconds >= smallest."""
    if value is None:
        return None
    if not is_number(value) or value < smallest:
        raise InvalidArgument("%s must be a number of seconds >= %g, or None" % (field, smallest), field=field)
    return float(value)


def build(equals=None, above=None, below=None, changes=False, tolerance=None, require_good=True):
    """The condition dict of waitForTag's arguments; exactly one of equals, above, below, changes=True.

    For `changes` the baseline (the value read when the wait begins) is filled in by the caller."""
    given = [name for name, value in (("equals", equals), ("above", above), ("below", below)) if value is not None]
    if changes is True:
        given.append("changes")
    elif changes not in (False, None):
        raise InvalidArgument("changes must be True or False", field="changes")
    if len(given) != 1:
        raise InvalidArgument("waitForTag needs exactly one condition: equals=, above=, below= or changes=True "
                              "(got %s)" % (", ".join(given) or "none"), field="condition")
    op = given[0]
    condition = {"op": op, "requireGood": bool(require_good)}
    if op == "equals":
        condition["value"] = to_json_native(equals, "equals")
    elif op in ("above", "below"):
        value = above if op == "above" else below
        if not is_number(value):
            raise InvalidArgument("%s must be a number" % op, field=op)
        condition["value"] = value
    if tolerance is not None:
        if op != "equals" or not is_number(tolerance) or tolerance < 0:
            raise InvalidArgument("tolerance is a number >= 0, and only goes with equals=", field="tolerance")
        if not is_number(condition["value"]):
            raise InvalidArgument("tolerance needs a number to compare with (equals=%r)" % (equals,),
                                  field="tolerance")
        condition["tolerance"] = tolerance
    if not isinstance(require_good, bool):
        raise InvalidArgument("requireGood must be True or False", field="requireGood")
    return condition


def evaluate(condition, reading):
    """HOLDS, WAITING or BAD_QUALITY (a reading of bad quality when good quality is required) for one reading
    ({"value", "good", ...}). A reading of bad quality never holds."""
    if not reading.get("good"):
        return BAD_QUALITY if condition.get("requireGood", True) else WAITING
    value = reading.get("value")
    op = condition["op"]
    target = condition.get("value")
    if op == "equals":
        tolerance = condition.get("tolerance")
        if tolerance is not None and is_number(value) and is_number(target):
            return HOLDS if abs(value - target) <= tolerance else WAITING
        return HOLDS if _same(value, target) else WAITING
    if op == "changes":
        return WAITING if _same(value, target) else HOLDS
    if not is_number(value) and not isinstance(value, bool):
        return WAITING
    if op == "above":
        return HOLDS if value > target else WAITING
    return HOLDS if value < target else WAITING


def first_verdict(condition, reading):
    """(condition, verdict) for a wait's first reading: a `changes` wait without a baseline takes this reading's
    value as the one a change is measured from (and waits), unless its quality is bad when good is required."""
    if condition["op"] == "changes" and "value" not in condition:
        if not reading.get("good") and condition.get("requireGood", True):
            return condition, BAD_QUALITY
        return dict(condition, value=reading.get("value")), WAITING
    return condition, evaluate(condition, reading)


def _same(a, b):
    """Equal as tag values: numbers and booleans by value (a boolean tag equals 1 when true), text as text,
    anything else (None, lists, dicts) as JSON values."""
    if isinstance(a, _NUMBERS) and isinstance(b, _NUMBERS):
        return a == b
    if isinstance(a, string_types) or isinstance(b, string_types):
        return isinstance(a, string_types) and isinstance(b, string_types) and a == b
    return a == b


def describe(condition):
    """The condition in words, for operators: 'above 500', 'equals 80 (within 0.5)', 'changes from 3'."""
    op = condition["op"]
    value = condition.get("value")
    if op == "changes":
        return "changes from %s" % _shown(value)
    text = "%s %s" % (op, _shown(value))
    if condition.get("tolerance") is not None:
        text += " (within %s)" % _shown(condition["tolerance"])
    return text


def _shown(value):
    if isinstance(value, string_types):
        return '"%s"' % value
    if value is True or value is False:
        return "true" if value else "false"
    if value is None:
        return "null"
    return "%s" % (value,)
