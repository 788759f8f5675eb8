"""The source project's decorators (`from exchange.workflows.engine.runtime import workflow, step`).

Its @step took the retry settings in one dict, @step(name=..., options={"retries_allowed": True, "max_attempts": 3,
"interval_seconds": 2, "backoff_rate": 2.0}); here they become the keyword arguments of
exchange.workflows.engine.decorators.step. @workflow is the same decorator (an `options` dict is read the same way).
"""
from exchange.workflows.engine import decorators
from exchange.workflows.util.errors import InvalidArgument

STEP_OPTIONS = ("retries_allowed", "max_attempts", "interval_seconds", "backoff_rate")
WORKFLOW_OPTIONS = ("params", "description", "commands", "templates", "on_stop", "queue", "max_recovery_attempts",
                    "schedule", "version")


def _merged(options, kwargs, known, what):
    merged = dict(kwargs)
    for key, value in (options or {}).items():
        if key not in known:
            raise InvalidArgument("%s option %r is not known here (known: %s)" % (what, key, ", ".join(known)),
                                  field=key)
        merged.setdefault(key, value)
    return merged


def step(name=None, options=None, **kwargs):
    if callable(name):
        return decorators.step(name)
    return decorators.step(name=name, **_merged(options, kwargs, STEP_OPTIONS, "step"))


def workflow(name=None, options=None, **kwargs):
    if callable(name):
        return decorators.workflow(name)
    return decorators.workflow(name=name, **_merged(options, kwargs, WORKFLOW_OPTIONS, "workflow"))
