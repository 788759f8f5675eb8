"""The words stored in status, phase and command-state columns (shared by the store and the engine)."""

ENQUEUED = "ENQUEUED"
DELAYED = "DELAYED"  # durable, not claimed before its time (a delayed start, a debounced burst)
PENDING = "PENDING"
RUNNING = "RUNNING"
HELD = "HELD"
WAITING = "WAITING"
SUCCESS = "SUCCESS"
ERROR = "ERROR"
CANCELLED = "CANCELLED"
STOPPED = "STOPPED"
MAX_RECOVERY_ATTEMPTS_EXCEEDED = "MAX_RECOVERY_ATTEMPTS_EXCEEDED"

TERMINAL = (SUCCESS, ERROR, CANCELLED, STOPPED, MAX_RECOVERY_ATTEMPTS_EXCEEDED)
# runs that occupy an executor slot (queue concurrency, worker concurrency)
EXECUTING = (PENDING, RUNNING)
# runs that keep their partition: a held batch keeps its reactor, and so does one waiting for other runs
PARTITION_HOLDING = (PENDING, RUNNING, HELD, WAITING)
# runs that block a second start with the same deduplication id
DEDUP_ACTIVE = (DELAYED, ENQUEUED, PENDING, RUNNING, HELD, WAITING)
# runs that have not ended
ACTIVE = (DELAYED, ENQUEUED, PENDING, RUNNING, HELD, WAITING)
ALL = ACTIVE + TERMINAL

# ISA-88 phases shown to operators
PHASE_IDLE = "IDLE"
PHASE_RUNNING = "RUNNING"
PHASE_HOLDING = "HOLDING"
PHASE_HELD = "HELD"
PHASE_RESUMING = "RESUMING"
PHASE_WAITING = "WAITING"
PHASE_STOPPING = "STOPPING"
PHASE_STOPPED = "STOPPED"
PHASE_COMPLETE = "COMPLETE"
PHASE_ABORTED = "ABORTED"

# command outcomes
CMD_PENDING = "PENDING"
CMD_APPLIED = "APPLIED"
CMD_DELIVERED = "DELIVERED"
CMD_SUPERSEDED = "SUPERSEDED"
CMD_REJECTED = "REJECTED"
CMD_FORBIDDEN = "FORBIDDEN"

# checkpoint rows
STEP_SUCCESS = "SUCCESS"
STEP_ERROR = "ERROR"
STEP_CANCELLED = "CANCELLED"


def sql_list(values):
    """A literal IN-list of fixed vocabulary words (never user input)."""
    return "(" + ", ".join(["'%s'" % v for v in values]) + ")"
