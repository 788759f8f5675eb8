"""The ISA-88 command policy, in one place: which command is allowed in which state, by whom, and in what order.

| command | allowed while (after pending commands)   | applied by                            | default roles              |
|---------|------------------------------------------|---------------------------------------|----------------------------|
| STOP    | DELAYED, ENQUEUED, PENDING, RUNNING, HELD, WAITING | next step boundary (delayed, queued: at once) | supervisor, admin |
| HOLD    | DELAYED, ENQUEUED, PENDING, RUNNING, WAITING | next step boundary (delayed, queued: its first) | operator, supervisor, admin |
| RESUME  | HELD                                     | a gateway picks the held run up       | operator, supervisor, admin|
| RESET   | PENDING, RUNNING, HELD, WAITING          | delivered to the workflow (recvCommand)| operator, supervisor, admin|
| CANCEL  | DELAYED, ENQUEUED, PENDING, RUNNING, HELD, WAITING | next boundary (delayed/queued/held/waiting: at once) | supervisor, admin |
| custom  | PENDING, RUNNING, HELD, WAITING (declared)| delivered to the workflow (recvCommand)| operator, supervisor, admin|

A delayed run (DELAYED: a delayed start or a debounced burst, not claimed before its time) takes a STOP or cancel
at once; a HOLD sent to it parks it before its first step once its time comes. A waiting run (WAITING: parked until the runs it awaits have ended) is woken by a STOP or a HOLD, so that a gateway
applies them at its boundary. HOLD, RESUME, STOP and CANCEL sent to a run go on to its active children, each as a
command of its own that names the parent's as its cause; a RESUME goes only to children held by such a HOLD.

Priority STOP > HOLD > RESUME > RESET: pending commands apply in the order received, but a STOP (or a cancel)
never waits: it applies to a held run without a RESUME, a HOLD before it does not park the run, and anything
sent after it is rejected because the run will be stopped. Scripts and gateway events are a trusted system actor.
"""
from exchange.workflows.store.statuses import (CMD_FORBIDDEN, CMD_PENDING, CMD_REJECTED, DELAYED, ENQUEUED, HELD, PENDING,
                                               RUNNING, TERMINAL, WAITING)
from exchange.workflows.util.compat import string_types

STOP = "STOP"
HOLD = "HOLD"
RESUME = "RESUME"
RESET = "RESET"
CANCEL = "CANCEL"
RETRY = "RETRY"
CONTINUE = "CONTINUE"  # continueWithCurrentCode: a run whose replay diverged goes on under the current code

ENGINE_COMMANDS = (STOP, HOLD, RESUME, RESET)
PRIORITY = {STOP: 4, HOLD: 3, RESUME: 2, RESET: 1}
ROLES = ("viewer", "operator", "supervisor", "admin")

ALLOWED_STATES = {
    STOP: (DELAYED, ENQUEUED, PENDING, RUNNING, HELD, WAITING),
    HOLD: (DELAYED, ENQUEUED, PENDING, RUNNING, WAITING),
    RESUME: (HELD,),
    RESET: (PENDING, RUNNING, HELD, WAITING),
    CANCEL: (DELAYED, ENQUEUED, PENDING, RUNNING, HELD, WAITING),
}
CUSTOM_ALLOWED_STATES = (PENDING, RUNNING, HELD, WAITING)

DEFAULT_COMMAND_ROLES = {
    HOLD: ("operator", "supervisor", "admin"),
    RESUME: ("operator", "supervisor", "admin"),
    RESET: ("operator", "supervisor", "admin"),
    STOP: ("supervisor", "admin"),
    CANCEL: ("supervisor", "admin"),
    RETRY: ("supervisor", "admin"),
    CONTINUE: ("supervisor", "admin"),
    "*": ("operator", "supervisor", "admin"),
}

# who may change schedules (console and admin API; scripts are trusted)
SCHEDULE_ROLES = {
    "create": ("admin",),
    "backfill": ("admin",),
    "pause": ("supervisor", "admin"),
    "resume": ("supervisor", "admin"),
    "trigger": ("supervisor", "admin"),
    "delete": ("supervisor", "admin"),
}

# commands that wake a HELD run (a gateway must pick it up to apply them)
WAKES_HELD = (RESUME, STOP)
# commands that wake a WAITING run
WAKES_WAITING = (HOLD, STOP)
# commands a parent passes on to its active children
CASCADES = (HOLD, RESUME, STOP, CANCEL)
# commands handed to workflow code instead of being applied by the engine
DELIVERED = "delivered"

SYSTEM_ACTOR = "system"


class Actor(object):
    """Who sends a command: a trusted script/system actor, or a user with roles (console, Perspective)."""

    def __init__(self, name, roles=None, trusted=False):
        self.name = name
        self.roles = list(roles or [])
        self.trusted = trusted

    def describe(self):
        return self.name if self.trusted else "%s [%s]" % (self.name, ",".join(self.roles))


_SYSTEM = Actor(SYSTEM_ACTOR, trusted=True)  # shared: actors are never changed once made


def actor_from(value):
    """None or a string: trusted script actor. A dict {"name"/"user", "roles"}: a user checked against the policy."""
    if value is None:
        return _SYSTEM
    if isinstance(value, Actor):
        return value
    if isinstance(value, string_types):
        return Actor(value, trusted=True)
    if hasattr(value, "get"):
        name = value.get("name") or value.get("user") or value.get("username")
        roles = value.get("roles") or []
        if isinstance(roles, string_types):
            roles = [roles]
        return Actor(name or "anonymous", [str(r).lower() for r in roles], trusted=bool(value.get("trusted", False)))
    raise ValueError("actor must be None, a name, or {'name': ..., 'roles': [...]}")


def may(actor, command, command_roles=None):
    """True when the actor's roles allow the command (trusted actors always may)."""
    if actor.trusted:
        return True
    table = command_roles or DEFAULT_COMMAND_ROLES
    allowed = table.get(command, table.get("*", DEFAULT_COMMAND_ROLES["*"]))
    return bool(set(actor.roles) & set(allowed))


def may_change_schedule(actor, action):
    """True when the actor may do this to a schedule (SCHEDULE_ROLES; trusted actors always may)."""
    return actor.trusted or bool(set(actor.roles) & set(SCHEDULE_ROLES[action]))


def effective_state(status, pending):
    """The state a run will be in once its pending commands have applied."""
    state = status
    for command in pending:
        cmd = command["cmd"]
        if cmd == STOP:
            return "STOPPING"
        if cmd == CANCEL:
            return "CANCELLING"
        if cmd == HOLD:
            state = HELD
        elif cmd == RESUME and state == HELD:
            state = RUNNING
    return state


class Verdict(object):
    def __init__(self, state, code, reason, rejection=None):
        self.state = state  # command row state: PENDING, APPLIED, REJECTED, FORBIDDEN
        self.code = code  # envelope code
        self.reason = reason
        self.rejection = rejection  # machine-readable reason for a refusal


def judge(command, run, pending, actor, declared_commands=(), command_roles=None):
    """Decide a command against a run row (or None) and its pending commands; see the table above."""
    if run is None:
        return Verdict(None, "NOT_FOUND", "no run with this id", "UNKNOWN_RUN")
    known = command in ALLOWED_STATES or command in declared_commands
    if not known:
        return Verdict(CMD_REJECTED, "COMMAND_REJECTED", "unknown command %s for workflow %s" % (command, run["name"]),
                       "UNKNOWN_COMMAND")
    if not may(actor, command, command_roles):
        return Verdict(CMD_FORBIDDEN, "COMMAND_FORBIDDEN", "%s may not send %s" % (actor.describe(), command),
                       "FORBIDDEN")
    status = run["status"]
    if status in TERMINAL:
        return Verdict(CMD_REJECTED, "COMMAND_REJECTED", "the run already finished (%s)" % status, "RUN_FINISHED")
    state = effective_state(status, pending)
    if state in ("STOPPING", "CANCELLING"):
        return Verdict(CMD_REJECTED, "COMMAND_REJECTED", "the run is already %s" % state.lower(), "RUN_ENDING")
    allowed = ALLOWED_STATES.get(command, CUSTOM_ALLOWED_STATES)
    if state not in allowed:
        if command == RESUME:
            return Verdict(CMD_REJECTED, "COMMAND_REJECTED", "RESUME needs a held run; this one will be %s" % state,
                           "NOT_HELD")
        return Verdict(CMD_REJECTED, "COMMAND_REJECTED", "%s is not allowed while the run is %s" % (command, state),
                       "NOT_ALLOWED_IN_STATE")
    return Verdict(CMD_PENDING, "COMMAND_ACCEPTED", "%s accepted while the run is %s" % (command, state))
