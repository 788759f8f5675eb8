"""Errors the engine and the library steps raise into workflow code, which keep their class across a replay.

A workflow that catches `ConfirmTimeout` or `TagQualityBad` and takes another branch must take the same branch when
it replays: the recorded error carries its fields and a marker, and `restore()` raises the same class again (any
other recorded error comes back as RecordedStepError, with its type name and message).
"""
RESTORE_MARK = "restorable"
_CLASSES = {}


class WorkflowRuntimeError(Exception):
    """Base class of errors the engine raises into workflow code."""


class RecordedStepError(WorkflowRuntimeError):
    """A step's recorded failure, raised again on replay without running the step."""

    def __init__(self, error_type, message, step_name=None):
        WorkflowRuntimeError.__init__(self, "%s: %s" % (error_type, message))
        self.error_type = error_type
        self.error_message = message
        self.step_name = step_name


def restorable(cls):
    """Register an error class whose recorded form raises it again on replay."""
    _CLASSES[cls.__name__] = cls
    return cls


class LibraryError(WorkflowRuntimeError):
    """An error with named fields, recorded as {"type", "message", <fields>} and raised again as itself."""

    FIELDS = ()

    def __init__(self, message, **fields):
        WorkflowRuntimeError.__init__(self, message)
        self.text = message
        for name in self.FIELDS:
            setattr(self, name, fields.get(name))

    def as_error(self):
        out = {"type": type(self).__name__, "message": self.text, "traceback": "", RESTORE_MARK: True}
        for name in self.FIELDS:
            out[name] = getattr(self, name)
        return out

    @classmethod
    def from_error(cls, error):
        return cls(error.get("message", ""), **dict([(name, error.get(name)) for name in cls.FIELDS]))


@restorable
class ChildFailed(LibraryError):
    """An awaited run ended ERROR, CANCELLED, STOPPED or MAX_RECOVERY_ATTEMPTS_EXCEEDED."""

    FIELDS = ("workflowId", "status", "errorType", "errorMessage")

    def __init__(self, workflow_id=None, status=None, error_type=None, error_message=None):
        text = u"run %s ended %s%s" % (workflow_id, status,
                                        (u": %s: %s" % (error_type, error_message)) if error_type else u"")
        LibraryError.__init__(self, text, workflowId=workflow_id, status=status, errorType=error_type,
                              errorMessage=error_message)

    @classmethod
    def from_error(cls, error):
        return cls(error.get("workflowId"), error.get("status"), error.get("errorType"), error.get("errorMessage"))


@restorable
class WaitTimeout(LibraryError):
    """A wait passed its timeout before what it waited for happened (awaited runs, or a tag condition: then `path`,
    `lastValue` and `lastQuality` say what was read last)."""

    FIELDS = ("workflowIds", "path", "lastValue", "lastQuality")

    def __init__(self, message, workflow_ids=(), **fields):
        fields["workflowIds"] = list(workflow_ids or fields.get("workflowIds") or ())
        LibraryError.__init__(self, message, **fields)


@restorable
class ConfirmTimeout(WaitTimeout):
    """writeConfirm: the confirm path did not read the written value within the timeout (`lastValue` is what it
    read last)."""

    FIELDS = WaitTimeout.FIELDS + ("value",)


@restorable
class TagQualityBad(LibraryError):
    """A tag read had bad (or missing) quality where good quality was asked for."""

    FIELDS = ("path", "quality", "value")


@restorable
class TagWriteFailed(LibraryError):
    """A tag write answered a bad quality (the tag does not exist, is read-only, the value did not convert, ...)."""

    FIELDS = ("path", "quality")


@restorable
class HttpError(LibraryError):
    """An HTTP request answered a status outside 2xx (with raiseForStatus, the default)."""

    FIELDS = ("status", "url", "method", "body")


@restorable
class HttpNoResponse(LibraryError):
    """An HTTP request got no response: refused, unknown host, reset, or no answer within its timeout."""

    FIELDS = ("url", "method", "reason")


@restorable
class DbError(LibraryError):
    """A statement on a named site database failed, or its database could not be reached (`unavailable`). Not the
    engine's DatabaseError, which means the workflows database itself went away."""

    FIELDS = ("connection", "sqlstate", "unavailable")


class NonDeterminismError(LibraryError):
    """A replayed run called a different operation at a recorded position: the workflow code changed under it.
    Its fields say where (functionId), what the run recorded there and what the code called instead, and the patch
    whose old branch the run took when deprecatePatch removed that branch; continueWithCurrentCode reads them."""

    FIELDS = ("functionId", "recordedKind", "recordedName", "calledKind", "calledName", "patch")


def restore(error, step_name=None, kind=None):
    """The exception to raise again for a recorded error dict (an await's ChildFailed and WaitTimeout were recorded
    without the marker before it existed)."""
    cls = _CLASSES.get(error.get("type"))
    if cls is not None and (error.get(RESTORE_MARK) or (kind == "await" and cls in (ChildFailed, WaitTimeout))):
        return cls.from_error(error)
    return RecordedStepError(error.get("type", "Error"), error.get("message", ""), step_name)
