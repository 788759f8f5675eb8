"""Exceptions shared by every layer; each maps to one envelope code."""


class WorkflowsError(Exception):
    """Base class: carries the envelope code the facade answers with."""

    code = "INTERNAL_ERROR"

    def __init__(self, message, code=None, data=None):
        Exception.__init__(self, message)
        self.message = message
        if code:
            self.code = code
        self.data = data or {}


class InvalidArgument(WorkflowsError):
    code = "INVALID_ARGUMENT"

    def __init__(self, message, field=None, data=None):
        data = dict(data or {})
        if field:
            data["field"] = field
        WorkflowsError.__init__(self, message, data=data)
        self.field = field


class NotFound(WorkflowsError):
    code = "NOT_FOUND"


class DatabaseError(WorkflowsError):
    """Raised by a host database adapter for any driver failure.

    `unavailable` is true when the database could not be reached (connection refused or dropped), so callers
    can pause and retry; `conflict` is true for a unique-key violation.
    """

    code = "DB_ERROR"

    def __init__(self, message, unavailable=False, conflict=False, sqlstate=None):
        WorkflowsError.__init__(self, message, code="DB_UNAVAILABLE" if unavailable else "DB_ERROR")
        self.unavailable = unavailable
        self.conflict = conflict
        self.sqlstate = sqlstate


class NotConfigured(WorkflowsError):
    code = "NOT_CONFIGURED"


class ExecutorIdInUse(WorkflowsError):
    """Another live gateway (its heartbeat advancing) holds the executor id this one was started with."""

    code = "EXECUTOR_ID_IN_USE"
