"""The records that go with a run's state changes: the shapes of its `log` entries, and the bundle of event
values, stream entries and command outcomes that one write carries.

The console and the service read these entries back, so each shape is defined once, here. The entries of a
status change and of a step are formatted directly (one goes out with every status change and two with every
step; a generic encoder costs several times more under Jython). SQL that builds the same shapes in the database
says which function here it mirrors, and tests/test_transitions.py checks that both give the same text.
"""
from exchange.workflows.util.jsoncodec import dumps, quote

LOG_KEY = "log"


# -- log entry shapes ------------------------------------------------------------------------------------------------

def status_entry(status, at, **extra):
    """{"kind":"status","status":...,"at":...} and any extra keys in sorted order (by, queue, executor, reason)."""
    text = '{"kind":"status","status":%s,"at":%d' % (quote(status), at)
    if extra:
        text += "".join([",%s:%s" % (quote(key), dumps(extra[key])) for key in sorted(extra)])
    return text + "}"


def phase_entry(phase, at):
    return '{"kind":"phase","phase":%s,"at":%d}' % (quote(phase), at)


def command_entry(command, outcome, why, at):
    """A command's outcome; `command` is its row (id, cmd, actor, reason, and cause_id when a parent's command
    caused it)."""
    entry = {"kind": "command", "cmd": command["cmd"], "actor": command["actor"], "reason": command["reason"],
             "outcome": outcome, "why": why, "commandId": command["id"], "at": at}
    if command.get("cause_id") is not None:
        entry["causeId"] = command["cause_id"]
    return dumps(entry)


def step_started_entry(name, function_id, at):
    return '{"kind":"step","event":"started","step":%s,"functionId":%d,"at":%d}' % (quote(name), function_id, at)


def step_finished_entry(name, function_id, at, status, attempts, started_at):
    return ('{"kind":"step","event":"finished","step":%s,"functionId":%d,"at":%d,"status":%s,"attempts":%d,'
            '"durationMs":%d}' % (quote(name), function_id, at, quote(status), attempts, at - started_at))


def step_retrying_entry(name, function_id, at, attempt, error_text, delay_s):
    return dumps({"kind": "step", "event": "retrying", "step": name, "functionId": function_id, "at": at,
                  "attempt": attempt, "error": error_text, "delaySeconds": delay_s})


def progress_entry(message, extra, at):
    return dumps({"kind": "progress", "message": message, "extra": extra, "at": at})


# -- step entries waiting in memory ------------------------------------------------------------------------------------

def step_started(name, function_id, at):
    """A step's 'started' entry as it waits in memory (a tuple: formatted only when written)."""
    return ("started", name, function_id, at)


def step_finished(name, function_id, at, status, attempts, started_at):
    return ("finished", name, function_id, at, status, attempts, started_at)


def encode_waiting(entry):
    """(text, at) of an entry waiting in memory."""
    if entry[0] == "started":
        _, name, fid, at = entry
        return step_started_entry(name, fid, at), at
    _, name, fid, at, status, attempts, started = entry
    return step_finished_entry(name, fid, at, status, attempts, started), at


# -- the bundle that goes with a write ---------------------------------------------------------------------------------

class Records(object):
    """Event values, stream entries and command outcomes that must be written if and only if the change they go
    with is: each transition writes them in the same round trip as the run's row.

    events: (key, value_json, at); streams: (key, value_json, at), the `log` among them; outcomes:
    (command_id, state, reason, at) of commands decided by this change."""

    __slots__ = ("events", "streams", "outcomes")

    def __init__(self):
        self.events = []
        self.streams = []
        self.outcomes = []

    def event(self, key, value_json, at):
        self.events.append((key, value_json, at))
        return self

    def stream(self, key, value_json, at):
        self.streams.append((key, value_json, at))
        return self

    def log(self, entry_text, at):
        self.streams.append((LOG_KEY, entry_text, at))
        return self

    def outcome(self, command_id, state, reason, at):
        self.outcomes.append((command_id, state, reason, at))
        return self

    def command_decided(self, command, state, why, at):
        """A command's outcome with its `log` entry."""
        self.outcomes.append((command["id"], state, why, at))
        self.streams.append((LOG_KEY, command_entry(command, state, why, at), at))
        return self

    def phase_changed(self, phase, at):
        """The `phase` event and its `log` entry."""
        self.events.append(("phase", quote(phase), at))
        self.streams.append((LOG_KEY, phase_entry(phase, at), at))
        return self

    def put_first(self, other):
        """Put `other`'s records in front of these (what waited in memory goes out before what this write adds)."""
        self.events[0:0] = other.events
        self.streams[0:0] = other.streams
        self.outcomes[0:0] = other.outcomes
        return self

    def empty(self):
        return not (self.events or self.streams or self.outcomes)
