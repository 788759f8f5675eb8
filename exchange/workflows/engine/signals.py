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


class WaitSignal(EngineSignal):
    """Park the run in WAITING until the runs it awaits have ended (or its deadline passes), freeing its worker."""

    def __init__(self, reason, function_id, awaited, mode, deadline, description):
        EngineSignal.__init__(self, reason)
        self.function_id = function_id
        self.awaited = awaited
        self.mode = mode
        self.deadline = deadline
        self.description = description


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


class ChildFailed(WorkflowRuntimeError):
    """An awaited run ended ERROR, CANCELLED, STOPPED or MAX_RECOVERY_ATTEMPTS_EXCEEDED."""

    def __init__(self, workflow_id, status, error_type=None, error_message=None):
        self.text = u"run %s ended %s%s" % (workflow_id, status,
                                             (u": %s: %s" % (error_type, error_message)) if error_type else u"")
        WorkflowRuntimeError.__init__(self, self.text)
        self.workflowId = workflow_id
        self.status = status
        self.errorType = error_type
        self.errorMessage = error_message

    def as_error(self):
        return {"type": "ChildFailed", "message": self.text, "traceback": "", "workflowId": self.workflowId,
                "status": self.status, "errorType": self.errorType, "errorMessage": self.errorMessage}


class WaitTimeout(WorkflowRuntimeError):
    """An await passed its timeout before what it awaited had happened."""

    def __init__(self, message, workflow_ids=()):
        WorkflowRuntimeError.__init__(self, message)
        self.text = message
        self.workflowIds = list(workflow_ids)

    def as_error(self):
        return {"type": "WaitTimeout", "message": self.text, "traceback": "", "workflowIds": self.workflowIds}


def raise_recorded_wait_error(error):
    """Raise again the ChildFailed or WaitTimeout an await recorded."""
    if error.get("type") == "ChildFailed":
        raise ChildFailed(error.get("workflowId"), error.get("status"), error.get("errorType"), error.get("errorMessage"))
    if error.get("type") == "WaitTimeout":
        raise WaitTimeout(error.get("message", ""), error.get("workflowIds") or ())
    raise RecordedStepError(error.get("type", "Error"), error.get("message", ""))


class NotInWorkflow(WorkflowRuntimeError):
    """A run-context call made outside a running workflow."""
