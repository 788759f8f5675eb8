"""The state of one execution of a run, bound to its worker thread, and the API workflow code sees.

`getWorkflows()` returns the handle workflow code uses (setEvent, writeStream, progress, recvCommand,
checkCommands, checkCancelled, send/recv, sleep, waitForTag, startChild and the awaits). Every call made outside a step is an operation with its own
position in the run (its function id), recorded once, so replaying the run never repeats it.
"""
import threading
import time
import traceback

from exchange.workflows.engine import boundary, children, outage, tagconditions, tagwaits
from exchange.workflows.engine import patches
from exchange.workflows.engine.errors import LibraryError, NonDeterminismError, restore
from exchange.workflows.engine.signals import HandBack, LostOwnership, NotInWorkflow, RecordedStepError, WaitSignal
from exchange.workflows.store import records as entries
from exchange.workflows.store.records import LOG_KEY, Records
from exchange.workflows.store.statuses import STEP_SUCCESS
from exchange.workflows.store.transitions import Fence
from exchange.workflows.util.clock import now_ms
from exchange.workflows.util.compat import is_number, string_types
from exchange.workflows.util.errors import InvalidArgument
from exchange.workflows.util.jsoncodec import dumps, loads, to_json_native

_local = threading.local()
PARK_SLEEP_MS = 1000  # a sleep this long or longer parks the run (no worker thread); a shorter one waits on it


def current():
    return getattr(_local, "ctx", None)


def activate(ctx):
    _local.ctx = ctx


def deactivate():
    _local.ctx = None


def describe_error(exc_info):
    """{"type", "message", "traceback"} for a Python or a Java exception."""
    exc_type, exc, tb = exc_info
    name = getattr(exc_type, "__name__", None) or str(exc_type)
    if isinstance(exc, RecordedStepError):
        name, message = exc.error_type, exc.error_message
    else:
        message = getattr(exc, "message", None) if hasattr(exc, "getMessage") else None
        if hasattr(exc, "getMessage"):
            try:
                message = exc.getMessage()
            except Exception:
                message = None
        if not message:
            args = getattr(exc, "args", None)
            if args and len(args) == 1 and isinstance(args[0], string_types):
                message = args[0]  # str() of a non-ASCII message fails under Python 2
            else:
                try:
                    message = str(exc)
                except Exception:
                    message = repr(exc)
    try:
        text = "".join(traceback.format_exception(exc_type, exc, tb))
    except Exception:
        text = "%s: %s" % (name, message)
    if isinstance(exc, LibraryError):  # its fields go with it, so a replay raises the same class again
        described = exc.as_error()
        described["traceback"] = text
        return described
    return {"type": name, "message": message or "", "traceback": text}


class RunContext(object):
    """One execution of one run on this executor."""

    def __init__(self, engine, run, definition, recorded, generation):
        self.engine = engine
        self.store = engine.store
        self.workflow_uuid = run["workflow_uuid"]
        self.name = run["name"]
        self.queue_name = run.get("queue_name")
        self.definition = definition
        self.inputs = run["inputs_obj"]
        self.params = run["params"]
        self.deadline_at = run.get("deadline_at")
        self.run_count = int(run.get("run_count") or 1)  # this execution's fencing token
        self.fence = Fence(engine.executor_id, self.run_count)
        self.transitions = engine.store.transitions
        self.recorded = dict([(r["function_id"], r) for r in recorded])
        self.generation = generation
        self.function_id = 0
        self.in_step = False
        self.cleaning_up = False  # running the on_stop cleanup: commands wait
        self.verify_ownership = False  # set when this gateway went silent past the lease
        self.check_commands = False
        self.inbox = []  # delivered commands (RESET, custom) waiting for recvCommand
        self.carry = Records()  # boundary records (phases, outcomes) for the next write
        self.pending_log = []  # step log entries not yet written (records.step_started/step_finished tuples)
        self.lock = threading.Lock()  # pending_log, step_started and carry against the log flusher: memory only
        self.write_lock = threading.Lock()  # writes that carry log entries go out one at a time, in order
        self.step_started = None  # [function_id, name, started_at, log_written]
        self.wake = threading.Event()
        self.phase = run.get("phase")
        self.phase_dirty = False
        self.started_at_correction = run.get("started_at_correction")  # a first execution that a claim began
        self._origin = None  # parent, root and creator, read when a child is started or a run awaited
        self._ancestors = None
        self.deprecated_at = {}  # position -> patch: where deprecatePatch let a run's old branch through
        self.handed_back = False  # set when the run was handed back between steps (a reload, a shutdown)

    # -- positions and replay ---------------------------------------------------------------------------------------

    def next_function_id(self):
        self.function_id += 1
        return self.function_id

    def replayed(self, function_id, name, kind):
        """The recorded checkpoint at this position (checked against the name), or None when it must run."""
        rec = self.recorded.get(function_id)
        if rec is None:
            return None
        if rec["function_name"] != name or rec["kind"] != kind:
            raise self.divergence(function_id, rec, kind, name)
        return rec

    def divergence(self, function_id, rec, kind, name):
        """NonDeterminismError for a recorded `rec` where the code now calls `kind` `name`, naming the patch whose
        old branch this run took when deprecatePatch removed it there."""
        patch = self.deprecated_at.get(function_id)
        text = (u"run %s diverged from its record at position %d: it recorded %s %r, the workflow code now calls %s "
                u"%r" % (self.workflow_uuid, function_id, rec["kind"], rec["function_name"], kind, name))
        if patch:
            text += (u" (the run took the old branch of patch %r, which deprecatePatch removed from the code)"
                     % patch)
        text += (u". Continue it with continueWithCurrentCode (it keeps the records before position %d and runs the "
                 u"current code from there), retry it from an earlier step, or restore the code" % function_id)
        return NonDeterminismError(text, functionId=function_id, recordedKind=rec["kind"],
                                   recordedName=rec["function_name"], calledKind=kind, calledName=name, patch=patch)

    @staticmethod
    def recorded_result(rec):
        if rec["status"] == STEP_SUCCESS:
            return loads(rec["output"])
        raise restore(loads(rec["error"]) or {}, rec["function_name"], rec["kind"])

    # -- the run's place in a tree ------------------------------------------------------------------------------

    def origin(self):
        if self._origin is None:
            self._origin = self.retrying(self.store.origin, self.workflow_uuid) or {}
        return self._origin

    def lineage(self):
        """(parent id, root id) of this run."""
        origin = self.origin()
        return origin.get("parent_uuid"), origin.get("root_uuid")

    @property
    def created_by(self):
        return self.origin().get("created_by")

    def partitions_held(self):
        """(queue, partition key) of this run and of its root: a child in one of them would never be claimed while
        they wait for it."""
        held = []
        origin = self.origin()
        if origin.get("partition_key") is not None:
            held.append((origin.get("queue_name"), origin.get("partition_key")))
        root = origin.get("root_uuid")
        if root:
            found = self.retrying(self.store.origin, root) or {}
            if found.get("partition_key") is not None:
                held.append((found.get("queue_name"), found.get("partition_key")))
        return held

    def ancestors(self):
        if self._ancestors is None:
            self._ancestors = self.retrying(self.store.ancestors, self.workflow_uuid)
        return self._ancestors

    # -- writes -----------------------------------------------------------------------------------------------------

    def take_waiting(self):
        """What waits for this run's next write (step log entries, then boundary records), as one Records; hold
        self.lock (and self.write_lock until it is written)."""
        carry, self.carry = self.carry, Records()
        pending, self.pending_log = self.pending_log, []
        if pending:
            streams = []
            for entry in pending:
                text, at = entries.encode_waiting(entry)
                streams.append((LOG_KEY, text, at))
            carry.streams[0:0] = streams
        return carry

    def commit(self, change, own=None, same_as=None):
        """Write a change of this run, `change(records)` (a transition given the records to write with it: what
        waited in memory, then `own`), retrying while the database is unreachable; returns what it returned.

        `same_as()` tells, after a retried write that did not match, whether an earlier attempt had in fact been
        committed (its answer was lost), so a retry is never mistaken for a lost run.
        """
        with self.write_lock:
            with self.lock:
                waiting = self.take_waiting()
            records = own.put_first(waiting) if own is not None else waiting
            attempts = [0]

            def attempt():
                attempts[0] += 1
                matched = change(records)
                if not matched and attempts[0] > 1 and same_as is not None and same_as():
                    return True
                return matched
            return self.retrying(attempt)

    def commit_once(self, change):
        """One attempt at a change with what waits in memory, no retry (a hand-back: when it fails the run stays
        RUNNING here and is adopted again)."""
        with self.write_lock:
            with self.lock:
                waiting = self.take_waiting()
            return change(waiting)

    def attach(self, records):
        """Write records that change nothing in the run's row (with what waits in memory)."""
        wid = self.workflow_uuid
        return self.commit(lambda recs: self.transitions.attach(wid, recs), own=records)

    def flush_log(self, now, step_start_after_ms):
        """Called by the log flusher: write buffered log entries (and a long step's 'started' entry).

        The entries are taken out under the memory lock and written outside it, so the run's steps never wait
        for this write; a failed write puts them back in front, for the run's next write."""
        if not self.write_lock.acquire(False):
            return 0  # the run is writing: its write carries them
        try:
            with self.lock:
                started = self.step_started
                if started is not None and not started[3] and now - started[2] >= step_start_after_ms:
                    self.pending_log.append(entries.step_started(started[1], started[0], started[2]))
                    started[3] = True
                pending, self.pending_log = self.pending_log, []
            if not pending:
                return 0
            records = Records()
            for entry in pending:
                text, at = entries.encode_waiting(entry)
                records.log(text, at)
            try:
                self.transitions.attach(self.workflow_uuid, records)
            except BaseException:
                with self.lock:
                    self.pending_log[0:0] = pending
                raise
            return len(pending)
        finally:
            self.write_lock.release()

    def retrying(self, fn, *args):
        """Call a store method, waiting out database outages (backoff up to 2 s) until it answers; a gateway that
        stops meanwhile hands the run back."""
        return outage.retrying(self.engine, fn, args, self.sleep_quietly, _stopping_while_unreachable)

    def sleep_quietly(self, seconds):
        try:
            self.wake.wait(seconds)
        finally:
            self.wake.clear()

    def record(self, function_id, name, kind, status, output_json, error_json, attempts, started_at, records=None):
        """Write one operation's checkpoint (and the records that go with it) in one round trip; LostOwnership if
        another executor recorded this position first."""
        completed = now_ms()
        wid = self.workflow_uuid
        fence = self.fence
        transitions = self.transitions

        def change(recs):
            return transitions.record_operation(wid, fence, function_id, name, kind, status, output_json, error_json,
                                                attempts, started_at, completed, recs)

        def same_as():
            rec = self.store.get_checkpoint(wid, function_id)
            return rec is not None and rec["function_name"] == name and rec["started_at"] == started_at and \
                rec["completed_at"] == completed

        if not self.commit(change, own=records, same_as=same_as):
            raise LostOwnership("checkpoint %d of %s was recorded by another executor" % (function_id, wid))
        self.recorded[function_id] = {"workflow_uuid": wid, "function_id": function_id, "function_name": name,
                                      "kind": kind, "status": status, "output": output_json, "error": error_json,
                                      "attempts": attempts, "started_at": started_at, "completed_at": completed}
        return completed

    def record_step(self, function_id, name, status, output_json, error_json, attempts, started_at):
        """The hot path: the step's checkpoint alone (one INSERT); its log entries wait in pending_log and go out
        with the run's next write or the log flusher (a few hundred milliseconds later)."""
        completed = now_ms()
        if not self.retrying(self.transitions.record_step, self.workflow_uuid, function_id, name, status, output_json,
                             error_json, attempts, started_at, completed, self.run_count):
            raise LostOwnership("checkpoint %d of %s was recorded by another executor" % (function_id, self.workflow_uuid))
        # not added to self.recorded: positions only grow, so this execution never replays what it just ran
        with self.lock:
            running, self.step_started = self.step_started, None
            if running is None or not running[3]:  # the flusher has not written a 'started' entry for a long step
                self.pending_log.append(entries.step_started(name, function_id, started_at))
            self.pending_log.append(entries.step_finished(name, function_id, completed, status, attempts, started_at))

    # -- boundaries -------------------------------------------------------------------------------------------------

    def boundary(self):
        boundary.at_boundary(self)

    def poke(self):
        self.check_commands = True
        self.wake.set()

    def wait(self, seconds, interruptible=True):
        """Wait up to `seconds`, applying commands as they arrive (STOP, cancel and HOLD interrupt the wait)."""
        deadline = time.time() + max(0.0, seconds)
        while True:
            remaining = deadline - time.time()
            if remaining <= 0:
                return
            self.sleep_quietly(min(remaining, 0.25))
            if interruptible:
                self.boundary()


class WorkflowsHandle(object):
    """What `getWorkflows()` returns inside a workflow or a step."""

    def _ctx(self):
        ctx = current()
        if ctx is None:
            raise NotInWorkflow("getWorkflows() is only usable while a workflow runs")
        return ctx

    @property
    def workflowId(self):
        return self._ctx().workflow_uuid

    @property
    def workflowName(self):
        return self._ctx().name

    @property
    def inputs(self):
        return self._ctx().inputs

    def _operation(self, name, kind, live):
        """Run `live()` once as a recorded operation (outside steps); inside a step, just run it."""
        ctx = self._ctx()
        if ctx.in_step:
            return live(ctx, None)
        ctx.boundary()
        fid = ctx.next_function_id()
        rec = ctx.replayed(fid, name, kind)
        if rec is not None:
            return ctx.recorded_result(rec)
        return live(ctx, fid)

    def setEvent(self, key, value):
        """Publish the latest value of `key` (history kept); readable by UIs and getEvent."""
        _check_key(key)
        text = dumps(to_json_native(value, "value"))

        def live(ctx, fid):
            now = now_ms()
            records = Records().event(key, text, now)
            if fid is None:
                ctx.attach(records)
            else:
                ctx.record(fid, key, "event", STEP_SUCCESS, "null", None, 1, now, records)
        return self._operation(key, "event", live)

    def writeStream(self, key, value):
        """Append `value` to the run's stream `key` (offsets 0, 1, 2, ...)."""
        _check_key(key)
        text = dumps(to_json_native(value, "value"))

        def live(ctx, fid):
            now = now_ms()
            records = Records().stream(key, text, now)
            if fid is None:
                ctx.attach(records)
            else:
                ctx.record(fid, key, "stream", STEP_SUCCESS, "null", None, 1, now, records)
        return self._operation(key, "stream", live)

    def progress(self, message, extra=None):
        """Operator-facing progress: the `progress` event and a `log` entry."""
        value = {"message": message, "extra": to_json_native(extra, "extra"), "at": now_ms()}
        text = dumps(value)
        entry = entries.progress_entry(message, value["extra"], value["at"])

        def live(ctx, fid):
            now = now_ms()
            records = Records().event("progress", text, now).log(entry, now)
            if fid is None:
                ctx.attach(records)
            else:
                ctx.record(fid, "progress", "progress", STEP_SUCCESS, "null", None, 1, now, records)
        return self._operation("progress", "progress", live)

    def checkCancelled(self):
        """Inside a long step: raise at once if the run was cancelled, stopped or timed out."""
        boundary.check_inside_step(self._ctx())

    def checkCommands(self):
        """Inside a long step: apply pending commands now (STOP and HOLD interrupt the step at this safe point)."""
        self._ctx().boundary()

    def recvCommand(self, topic="cmd", timeoutSeconds=0):
        """The next delivered command (RESET or one the workflow declares) as a dict, or None after the timeout."""
        def live(ctx, fid):
            return boundary.receive_command(ctx, fid, topic, timeoutSeconds)
        return self._operation("recvCommand:%s" % topic, "recv", live)

    def send(self, destinationId, message, topic="message"):
        """Send a JSON message to another run's recv(topic)."""
        text = dumps(to_json_native(message, "message"))

        def live(ctx, fid):
            ctx.retrying(ctx.engine.store.send_message, destinationId, topic, text, now_ms())
            if fid is not None:
                ctx.record(fid, "send:%s" % topic, "send", STEP_SUCCESS, "null", None, 1, now_ms())
        return self._operation("send:%s" % topic, "send", live)

    def recv(self, topic="message", timeoutSeconds=60):
        """The next message sent to this run on `topic`, or None after the timeout."""
        def live(ctx, fid):
            deadline = time.time() + max(0, timeoutSeconds)
            started = now_ms()
            while True:
                text = ctx.retrying(ctx.engine.store.take_message, ctx.workflow_uuid, topic, now_ms())
                if text is not None or time.time() >= deadline:
                    break
                ctx.wait(min(0.25, max(0.0, deadline - time.time())))
            if fid is not None:
                ctx.record(fid, "recv:%s" % topic, "recv", STEP_SUCCESS, text if text is not None else "null", None, 1,
                           started)
            return loads(text) if text is not None else None
        return self._operation("recv:%s" % topic, "recv", live)

    def sleep(self, seconds):
        """A durable sleep: after a restart the run wakes at the originally planned time. A sleep of a second or
        more parks the run in WAITING, holding no worker thread; HOLD, STOP and cancel apply to it at once."""
        ctx = self._ctx()
        if not is_number(seconds) or seconds < 0:
            raise InvalidArgument("sleep takes a number of seconds >= 0", field="seconds")
        if ctx.in_step:
            ctx.wait(seconds)
            return
        ctx.boundary()
        fid = ctx.next_function_id()
        rec = ctx.replayed(fid, "sleep", "sleep")
        if rec is not None:
            wake_at = loads(rec["output"])
        else:
            wake_at = now_ms() + int(seconds * 1000)
            ctx.record(fid, "sleep", "sleep", STEP_SUCCESS, dumps(wake_at), None, 1, now_ms())
        remaining = wake_at - now_ms()
        if remaining >= PARK_SLEEP_MS:
            raise WaitSignal("sleeping for %.1f s" % (remaining / 1000.0), fid, [], "sleep", wake_at,
                             {"operation": "sleep", "until": wake_at, "deadline": wake_at, "functionId": fid})
        ctx.wait(max(0, remaining) / 1000.0)

    def waitForTag(self, path, equals=None, above=None, below=None, changes=False, timeoutSeconds=None,
                   pollSeconds=None, tolerance=None, requireGood=True):
        """Wait, durably and holding no worker thread, until a tag equals a value (within `tolerance` for numbers),
        is above or below a number, or changes from the value it had when the wait began (exactly one condition).

        Returns the reading that released the wait ({"path", "value", "quality", "timestamp", "condition",
        "releasedAt"}), recorded so a replay takes the same branch. WaitTimeout past timeoutSeconds (with the last
        value read); TagQualityBad when the tag's quality is bad and requireGood (the default). pollSeconds
        (at least 0.1) makes the dispatcher read the tag more often than once per tick."""
        ctx = self._ctx()
        path = tagconditions.checked_path(path)
        condition = tagconditions.build(equals, above, below, changes, tolerance, requireGood)
        timeout = tagconditions.checked_seconds(timeoutSeconds, "timeoutSeconds")
        poll = tagconditions.checked_seconds(pollSeconds, "pollSeconds")
        if poll is not None:
            poll = max(poll, tagconditions.SHORTEST_POLL_S)
        return tagwaits.wait_for_tag(ctx, path, condition, timeout, poll)

    def patched(self, patchName):
        """True where the code after a change runs for this run: a run that reaches this point after the patch
        exists takes the new branch (True, recorded); a run that passed this point before, under the old code,
        replays the old branch (False). See docs/writing-workflows.md (Changing code under running runs)."""
        return patches.patched(self._ctx(), patchName)

    def deprecatePatch(self, patchName):
        """In place of patched() once no run can still take the old branch: always True, records nothing; a run
        that took the old branch fails its replay here with a message naming the patch."""
        return patches.deprecate(self._ctx(), patchName)

    def startChild(self, workflowName, inputs=None, queueName=None, partitionKey=None, priority=None,
                   timeoutSeconds=None, delaySeconds=None):
        """Start a child run (its parameters as start() takes `inputs`, or a plain dict of them); returns its id.
        Recorded: a replay returns the same id and never starts a second child. delaySeconds: the child is
        durable at once and not claimed before then."""
        return children.start_child(self._ctx(), workflowName, inputs, queueName, partitionKey, priority,
                                    timeoutSeconds, delaySeconds)

    def scheduled(self):
        """What started this run when a schedule did: {"scheduleName", "scheduledAt" (epoch ms), "trigger"
        ("schedule", "manual" or "backfill")}; None otherwise."""
        supplied = (self._ctx().inputs or {}).get("supplied")
        return dict(supplied) if isinstance(supplied, dict) and supplied.get("scheduledAt") is not None else None

    def awaitResult(self, workflowId, timeoutSeconds=None):
        """The output of a run once it ended SUCCESS; ChildFailed when it ended otherwise, WaitTimeout past the
        timeout. Waits without holding a worker thread."""
        return children.await_runs(self._ctx(), [workflowId], "one", timeoutSeconds, "awaitResult")

    def awaitAll(self, workflowIds, timeoutSeconds=None):
        """The outputs of all these runs, in the order given; the first one that fails raises ChildFailed."""
        return children.await_runs(self._ctx(), workflowIds, "all", timeoutSeconds, "awaitAll")

    def awaitFirst(self, workflowIds, timeoutSeconds=None):
        """(id, output) of the first of these runs to end (ChildFailed when that one failed)."""
        return children.await_runs(self._ctx(), workflowIds, "first", timeoutSeconds, "awaitFirst")

    def getEvent(self, workflowId, key):
        """Latest value of another run's event (None if unset)."""
        ctx = self._ctx()
        row = ctx.retrying(ctx.engine.store.get_event, workflowId, key)
        return loads(row[0]) if row else None


def _stopping_while_unreachable():
    return HandBack("gateway stopping while the database is unreachable")


def _check_key(key):
    if not isinstance(key, string_types) or not key:
        raise InvalidArgument("key must be a non-empty string", field="key")


_HANDLE = WorkflowsHandle()


def getWorkflows():
    """The run context of the workflow executing on this thread."""
    return _HANDLE

