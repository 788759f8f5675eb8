"""Tag steps: read, write, and write-then-confirm, on Ignition's tags or the standalone gateway's memory tags.

    from exchange.workflows.steps import tags

    level = tags.read("[default]Line1/Reactor1/Level")["value"]
    tags.write(["[default]Line1/Reactor1/Setpoint", "[default]Line1/Reactor1/Mode"], [500, "AUTO"])
    tags.writeConfirm("[default]Line1/Reactor1/Setpoint", 500, confirmPath="[default]Line1/Reactor1/SetpointFb")

read and write are steps (one recorded result, the usual retry options as keyword arguments: retries_allowed,
max_attempts, interval_seconds, backoff_rate). writeConfirm is a write step followed by a durable wait
(getWorkflows().waitForTag): while it waits for the confirmation the run holds no worker thread.

The names of the source project (read(path), write(path, value), write_confirm(...)) are here too.
"""
from exchange.workflows.engine.context import getWorkflows
from exchange.workflows.engine.errors import (ConfirmTimeout, TagQualityBad, TagWriteFailed,  # noqa: F401
                                              WaitTimeout)
from exchange.workflows.engine import tagconditions, tagwaits
from exchange.workflows.steps.base import host, in_workflow, path_list, poll_pause, run_step
from exchange.workflows.util.clock import seconds_text
from exchange.workflows.util.errors import InvalidArgument


def read(paths, requireGood=False, **retry):
    """The value, quality and timestamp of one tag ({"path", "value", "quality", "good", "timestamp"}) or of each
    of a list of tags (a list, in order), read in one batch. A bad or missing quality is reported in the output
    ("good": false); with requireGood=True it raises TagQualityBad instead."""
    items, single = path_list(paths)
    if not isinstance(requireGood, bool):
        raise InvalidArgument("requireGood must be True or False", field="requireGood")
    readings = run_step("tags.read", _read, (items, requireGood), retry)
    return readings[0] if single else readings


def _read(items, require_good):
    readings = host().tags.read(items)
    if require_good:
        for current in readings:
            if not current["good"]:
                raise tagwaits.quality_error(current["path"], current)
    return readings


def write(paths, values, **retry):
    """Write one value to one tag, or values[i] to paths[i] (one batched write); the write quality of each
    ({"path", "quality", "good"}). The first bad write quality raises TagWriteFailed with its path and quality."""
    items, single = path_list(paths)
    if single:
        values = [values]
    elif hasattr(values, "__iter__") and not isinstance(values, dict):
        values = list(values)  # read once: a generator gives its values a single time
    if isinstance(values, dict) or not isinstance(values, list) or len(values) != len(items):
        raise InvalidArgument("write needs one value per path (%d paths)" % len(items), field="values")
    results = run_step("tags.write", _write, (items, values), retry)
    return results[0] if single else results


def _write(items, values):
    results = host().tags.write(items, values)
    for result in results:
        if not result["good"]:
            raise TagWriteFailed(u"writing tag %s failed: %s" % (result["path"], result["quality"]),
                                 path=result["path"], quality=result["quality"])
    return results


def writeConfirm(path, value, confirmPath=None, timeoutSeconds=10, tolerance=None, pollSeconds=None,
                 requireGood=True, **retry):
    """Write `value` to `path`, then wait until `confirmPath` (default: the same tag) reads it, within
    `tolerance` for numbers. Returns the confirming reading; ConfirmTimeout past timeoutSeconds, with the last
    value read. In a workflow the wait is durable and holds no worker thread."""
    target = tagconditions.checked_path(confirmPath if confirmPath is not None else path, "confirmPath")
    condition = tagconditions.build(equals=value, tolerance=tolerance, require_good=requireGood)
    timeout = tagconditions.checked_seconds(timeoutSeconds, "timeoutSeconds")
    write(path, value, **retry)
    try:
        if in_workflow():
            return getWorkflows().waitForTag(target, equals=value, timeoutSeconds=timeout, pollSeconds=pollSeconds,
                                             tolerance=tolerance, requireGood=requireGood)
        return tagwaits.poll_until(host().tags, target, condition, timeout, pollSeconds, poll_pause())
    except ConfirmTimeout:
        raise
    except WaitTimeout as late:
        raise ConfirmTimeout(u"tag %s did not confirm %s within %ss (last value %s, %s)" % (
            target, tagconditions.describe(condition)[len("equals "):], seconds_text(timeout), late.lastValue,
            late.lastQuality), path=target, value=condition["value"], lastValue=late.lastValue,
            lastQuality=late.lastQuality)


# -- the source project's names -------------------------------------------------------------------------------------

def write_confirm(path, value, confirm_path=None, timeout_ms=10000, poll_ms=250):
    """writeConfirm with the source project's arguments (milliseconds); as in the source project, a confirm tag of
    bad quality only means "not confirmed yet" (requireGood=False)."""
    return writeConfirm(path, value, confirmPath=confirm_path,
                        timeoutSeconds=None if timeout_ms is None else timeout_ms / 1000.0,
                        pollSeconds=None if poll_ms is None else poll_ms / 1000.0, requireGood=False)
