"""@workflow and @step: what integrators write.

    from exchange.workflows.engine.decorators import workflow, step
    from exchange.workflows.engine.context import getWorkflows

    @step(name="dose", retries_allowed=True, max_attempts=3)
    def dose(amount): ...

    @workflow(name="site.batch", templates={"default": {"recipe": "R-1"}})
    def batch(recipe, amount=10): ...

Importing the module registers the workflow; no central list to edit.
"""
from exchange.workflows.engine.registry import REGISTRY, WorkflowDef
from exchange.workflows.engine.steps import StepDef, call_step
from exchange.workflows.util.compat import string_types
from exchange.workflows.util.errors import InvalidArgument


def workflow(name=None, params=None, description=None, commands=None, templates=None, on_stop=None, queue=None,
             max_recovery_attempts=None, schedule=None, version=None):
    """Register a function as a durable workflow.

    params: {"paramOne": {"type": "str", "label": "Batch", "choices": [...]}} refines what the signature says.
    commands: custom commands operators may send, delivered through recvCommand (RESET is always delivered).
    templates: {"default": {...}} named parameter sets shown by the console.
    on_stop: a function run as the cleanup step when an operator STOPs the run.
    schedule: {"cron": "0 6 * * *", "timezone": "Europe/Berlin", ...} starts it on a timetable (the keys of
    admin.createSchedule: name, inputs, queueName, partitionKey, missedPolicy, catchUpLimit).
    version: the version runs record when they start (default: a digest of the function's source).
    """
    def register(fn):
        wf_name = name or "%s.%s" % (fn.__module__, fn.__name__)
        if not isinstance(wf_name, string_types):
            raise InvalidArgument("workflow name must be a string", field="name")
        REGISTRY.register(WorkflowDef(wf_name, fn, params=params, description=description, commands=commands,
                                      templates=templates, on_stop=on_stop, queue=queue,
                                      max_recovery_attempts=max_recovery_attempts, schedule=schedule,
                                      version=version))
        fn.workflow_name = wf_name
        return fn

    if callable(name) and params is None:  # bare @workflow
        fn, name = name, None
        return register(fn)
    return register


def step(name=None, retries_allowed=False, max_attempts=3, interval_seconds=1.0, backoff_rate=2.0):
    """Make a function a checkpointed step: inside a workflow its result is recorded once and replayed after."""
    def wrap(fn):
        definition = StepDef(name or fn.__name__, fn, retries_allowed=retries_allowed, max_attempts=max_attempts,
                             interval_seconds=interval_seconds, backoff_rate=backoff_rate)

        def run_step(*args, **kwargs):
            return call_step(definition, args, kwargs)

        run_step.__name__ = fn.__name__
        run_step.__doc__ = fn.__doc__
        run_step.step = definition
        return run_step

    if callable(name):  # bare @step
        fn, name = name, None
        return wrap(fn)
    return wrap
