"""Control flow out of workflow code, and the errors the engine reports to it.

Signals derive from BaseException so that a workflow's own `except Exception:` cannot swallow a STOP, a HOLD
or a cancel: they always unwind to the runner, which records the outcome. The errors reported to workflow code
live in errors.py (imported here too, where older code finds them).
"""
from exchange.workflows.engine.errors import (ChildFailed, NonDeterminismError, RecordedStepError,  # noqa: F401
                                              WaitTimeout, WorkflowRuntimeError)


class EngineSignal(BaseException):
    def __init__(self, reason=None, command=None):
        BaseException.__init__(self, reason)
        self.reason = reason
        self.command = command


class HoldSignal(EngineSignal):
    """Park the run in HELD, freeing its worker thread."""


class StopSignal(EngineSignal):
    """Run the on_stop cleanup and end in STOPPED."""


class CancelSignal(EngineSignal):
    """End in CANCELLED (an operator cancel, or the run's deadline passed when `timeout` is true)."""

    def __init__(self, reason=None, command=None, timeout=False):
        EngineSignal.__init__(self, reason, command)
        self.timeout = timeout


class WaitSignal(EngineSignal):
    """Park the run in WAITING until what it waits for happened (the runs it awaits ended, a tag condition held) or
    its deadline passes, freeing its worker. mode: 'any' or 'all' (awaited runs), 'tag' (`tag_wait` says which
    tag and condition), 'sleep' (only the deadline)."""

    def __init__(self, reason, function_id, awaited, mode, deadline, description, tag_wait=None):
        EngineSignal.__init__(self, reason)
        self.tag_wait = tag_wait
        self.function_id = function_id
        self.awaited = awaited
        self.mode = mode
        self.deadline = deadline
        self.description = description


class HandBack(EngineSignal):
    """Give the run back between steps (script reload or shutdown); it continues from its checkpoints."""


class LostOwnership(EngineSignal):
    """Another executor recorded this run's progress first; this execution stops without writing."""


class NotInWorkflow(WorkflowRuntimeError):
    """A run-context call made outside a running workflow."""
