"""What the library steps share: running a function as a step with the usual retry options, and the host of the
engine in use (its tags, its HTTP client, its named databases).

Inside a workflow a library step is a checkpointed step like one of your own (one recorded result, replayed after
a restart); called from a script outside any workflow it simply runs.
"""
from exchange.workflows.engine import context, tagwaits
from exchange.workflows.engine.steps import StepDef, call_step
from exchange.workflows.util.compat import string_types
from exchange.workflows.util.errors import InvalidArgument

RETRY_OPTIONS = ("retries_allowed", "max_attempts", "interval_seconds", "backoff_rate")


def run_step(name, fn, args, retry=None):
    """Call fn(*args) as the step `name` with retry options ({"retries_allowed": True, "max_attempts": 5, ...})."""
    options = dict(retry or {})
    unknown = [k for k in options if k not in RETRY_OPTIONS]
    if unknown:
        raise InvalidArgument("unknown step option %s (the options are %s)" % (unknown[0], ", ".join(RETRY_OPTIONS)),
                              field=unknown[0])
    return call_step(StepDef(name, fn, **options), tuple(args), {})


def engine():
    """The engine of the running workflow, or of this interpreter (a script outside any workflow)."""
    ctx = context.current()
    if ctx is not None:
        return ctx.engine
    from exchange.workflows.host import runtime

    return runtime.engine()


def host():
    return engine().host


def in_workflow():
    """True in the workflow function itself (not inside a step, not in a plain script)."""
    ctx = context.current()
    return ctx is not None and not ctx.in_step


def path_list(paths, field="paths"):
    """(list of tag paths, whether one path was given) of a path or a list of paths."""
    single = isinstance(paths, string_types)
    items = [paths] if single else (list(paths) if hasattr(paths, "__iter__") and not isinstance(paths, dict)
                                    else None)
    if not items or not all([isinstance(p, string_types) and p.strip() for p in items]):
        raise InvalidArgument("%s must be a tag path or a non-empty list of tag paths" % field, field=field)
    return [p.strip() for p in items], single


def poll_pause():
    """tagwaits.poll_pause for the caller's context: inside a step, a pause STOP and cancel end; else a sleep."""
    return tagwaits.poll_pause(context.current())
