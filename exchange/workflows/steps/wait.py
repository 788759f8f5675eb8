"""Waiting on plant state (the source project's `wait` steps), as durable waits.

until_tag_equals(path, expected, timeout_ms=10000, poll_ms=250) is getWorkflows().waitForTag(path,
equals=expected, timeoutSeconds=timeout_ms / 1000, pollSeconds=poll_ms / 1000, requireGood=False): in a workflow
the run is parked and holds no worker thread while it waits (the source project polled on the worker thread). As
before, a reading of bad quality (a tag not yet created, a device offline) only means "not equal yet". It returns
the reading that matched and raises WaitTimeout when the timeout passes.
"""
from exchange.workflows.engine import tagconditions, tagwaits
from exchange.workflows.engine.context import getWorkflows
from exchange.workflows.engine.errors import TagQualityBad, WaitTimeout  # noqa: F401 - what callers catch
from exchange.workflows.steps.base import host, in_workflow, poll_pause


def until_tag_equals(path, expected, timeout_ms=10000, poll_ms=250):
    timeout = None if timeout_ms is None else timeout_ms / 1000.0
    poll = None if poll_ms is None else poll_ms / 1000.0
    if in_workflow():
        return getWorkflows().waitForTag(path, equals=expected, timeoutSeconds=timeout, pollSeconds=poll,
                                         requireGood=False)
    path = tagconditions.checked_path(path)
    condition = tagconditions.build(equals=expected, require_good=False)
    return tagwaits.poll_until(host().tags, path, condition, tagconditions.checked_seconds(timeout, "timeout_ms"),
                               poll, poll_pause())
