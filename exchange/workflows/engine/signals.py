"""Control flow out of workflow code, and the errors the engine reports to it.

Signals derive from BaseException so that a workflow's own `except Exception:` cannot swallow a STOP, a HOLD
or a cancel: they always unwind to the runner, which records the outcome.
"""


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


class HandBack(EngineSignal):
    """Give the run back between steps (script reload or shutdown); it continues from its checkpoints."""


class LostOwnership(EngineSignal):
    """Another executor recorded this run's progress first; this execution stops without writing."""


class WorkflowRuntimeError(Exception):
    """Base class of errors the engine raises into workflow code."""


class NonDeterminismError(WorkflowRuntimeError):
    """A replayed run called a different step at a recorded position: the workflow code changed under it."""


class RecordedStepError(WorkflowRuntimeError):
    """A step's recorded failure, raised again on replay without running the step."""

    def __init__(self, error_type, message, step_name=None):
        WorkflowRuntimeError.__init__(self, "%s: %s" % (error_type, message))
        self.error_type = error_type
        self.error_message = message
        self.step_name = step_name


class NotInWorkflow(WorkflowRuntimeError):
    """A run-context call made outside a running workflow."""
