"""exchange.workflows.api.service: start, command and read workflow runs from any Ignition scope.

Every function returns the envelope {"ok", "code", "message", "data", "meta"} and never raises for bad input
or a database failure. Outside the gateway (Designer script console, Vision client, ./gateway console) calls
only write rows; a gateway executes them.
"""
import datetime

from exchange.workflows.api import shapes
from exchange.workflows.engine import commands, debounce, policy, starts
from exchange.workflows.host import runtime
from exchange.workflows.store import statuses, views
from exchange.workflows.util import ids
from exchange.workflows.util.clock import now_ms
from exchange.workflows.util.compat import integer_types, string_types
from exchange.workflows.util.envelope import failure, guarded, success
from exchange.workflows.util.errors import InvalidArgument
from exchange.workflows.util.jsoncodec import dumps, loads, to_json_native

MAX_PAGE = 500
MAX_CHILDREN = 500  # getWorkflow lists this many children (childrenCount tells them all; listRuns pages them)
MEMORY_FLUSH_LINGER_MS = 10  # enqueueInMemory: how long a flush waits for more starts to write with it
DEFAULT_TAGS = 500  # listTags: tags answered when no limit is given
MAX_TAGS = 5000  # listTags: the largest limit
MAX_READ_TAGS = 1000  # readTags: paths read in one call


def _engine():
    return runtime.engine()


def _wid(value, field="workflowId"):
    wid = ids.normalize(value)
    if wid is None:
        raise InvalidArgument("%s must be a UUID, got %r" % (field, value), field=field)
    return wid


def _where(engine):
    if engine.host.executes:
        return "this gateway executes it"
    return "a running gateway will execute it (this scope only writes rows)"


@guarded
def start(workflowName=None, inputs=None, queueName=None, partitionKey=None, priority=None, deduplicationId=None,
          timeoutSeconds=None, applicationVersion=None, workflowId=None, actor=None, delaySeconds=None):
    """Start a run durably; data.workflowId identifies it. delaySeconds: durable now, not claimed before then
    (data.startsAt)."""
    engine = _engine()
    who = policy.actor_from(actor)
    row = starts.prepare(engine, workflowName, inputs, queueName, partitionKey, priority, deduplicationId,
                         timeoutSeconds, applicationVersion, workflowId, who.name,
                         templates=_stored_templates(engine, workflowName, inputs), delaySeconds=delaySeconds)
    outcome, existing = starts.insert(engine, row)
    data = {"workflowId": existing or row["workflow_uuid"], "workflowName": row["name"], "queueName": row["queue_name"],
            "executesHere": engine.host.executes}
    delayed = row["status"] == statuses.DELAYED
    if delayed:
        data["startsAt"] = row["wake_at"]
    if outcome == "inserted":
        if delayed:
            engine.timed_work_added(row["wake_at"])
            return success("WORKFLOW_DELAYED", "run %s starts at %s on %s; %s" % (
                row["workflow_uuid"], _iso(row["wake_at"]), row["queue_name"], _where(engine)), data)
        engine.work_added(row["queue_name"])
        return success("WORKFLOW_ENQUEUED", "run %s enqueued on %s; %s" % (row["workflow_uuid"], row["queue_name"],
                                                                        _where(engine)), data)
    if outcome == "exists":
        data.pop("startsAt", None)
        return success("WORKFLOW_EXISTS", "a run with id %s already exists (starts are idempotent by id)" % existing,
                       data)
    data["deduplicationId"] = row["deduplication_id"]
    return failure("WORKFLOW_DUPLICATE", "run %s with deduplicationId %r is still active on queue %s"
                   % (existing, row["deduplication_id"], row["queue_name"]), data)


def _iso(ms):
    """Epoch milliseconds as UTC ISO 8601 text, for messages."""
    when = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (when.microsecond // 1000)


@guarded
def startDebounced(workflowName=None, debounceKey=None, quietSeconds=None, maxWaitSeconds=None, inputs=None,
                   queueName=None, partitionKey=None, priority=None, timeoutSeconds=None, applicationVersion=None,
                   actor=None):
    """Calls with the same workflow and debounceKey collapse into one run, which starts once no call came for
    quietSeconds (or maxWaitSeconds after the burst's first call) with the latest call's inputs. Every call of a
    burst answers the same data.workflowId and the time it will start (data.startsAt)."""
    engine = _engine()
    key, quiet, most = debounce.check(debounceKey, quietSeconds, maxWaitSeconds)
    row = _debounce_row(engine, workflowName, inputs, queueName, partitionKey, priority, timeoutSeconds,
                        applicationVersion, actor, True)
    outcome, wid, at = debounce.start_durable(engine, row, key, quiet, most, now_ms())
    return _debounce_answer(outcome, wid, at, row, key, "durable")


@guarded
def startDebouncedInMemory(workflowName=None, debounceKey=None, quietSeconds=None, maxWaitSeconds=None, inputs=None,
                           queueName=None, partitionKey=None, priority=None, timeoutSeconds=None,
                           applicationVersion=None, actor=None):
    """startDebounced with no database I/O on this thread (for tag-change scripts): the burst is kept in the
    gateway's memory and becomes an in-memory start when it is due. A clean stop writes open bursts to the
    database; a hard crash loses them (the calls of the last quietSeconds)."""
    engine = _engine()
    key, quiet, most = debounce.check(debounceKey, quietSeconds, maxWaitSeconds)
    if not engine.host.executes:
        return startDebounced(workflowName, debounceKey, quietSeconds, maxWaitSeconds, inputs, queueName,
                              partitionKey, priority, timeoutSeconds, applicationVersion, actor)
    row = _debounce_row(engine, workflowName, inputs, queueName, partitionKey, priority, timeoutSeconds,
                        applicationVersion, actor, False)
    outcome, wid, at = debounce.offer_in_memory(engine, row, key, quiet, most, now_ms())
    if outcome == "started":
        engine.timed_work_added(at)
    return _debounce_answer(outcome, wid, at, row, key, "memory")


def _debounce_row(engine, workflowName, inputs, queueName, partitionKey, priority, timeoutSeconds,
                  applicationVersion, actor, use_database):
    who = policy.actor_from(actor)
    return starts.prepare(engine, workflowName, inputs, queueName, partitionKey, priority, None, timeoutSeconds,
                          applicationVersion, None, who.name, use_database=use_database,
                          templates=_stored_templates(engine, workflowName, inputs) if use_database else None)


def _debounce_answer(outcome, wid, at, row, key, where):
    data = {"workflowId": wid, "workflowName": row["name"], "queueName": row["queue_name"], "debounceKey": key,
            "startsAt": at, "joined": outcome == "joined", "kept": where}
    if outcome == "joined":
        return success("DEBOUNCE_JOINED", "joined the burst of run %s; it starts at %s unless more calls come"
                       % (wid, _iso(at)), data)
    return success("DEBOUNCE_STARTED", "run %s starts at %s unless more calls come" % (wid, _iso(at)), data)


def _stored_templates(engine, workflow_name, inputs):
    """Templates saved in the database (api.params), consulted only when the start names a template."""
    if not isinstance(inputs, dict) or "template" not in inputs or "resolved" in inputs:
        return None
    return dict([(r[0], loads(r[1])) for r in engine.store.templates(workflow_name)])


@guarded
def enqueueInMemory(workflowName=None, inputs=None, queueName=None, partitionKey=None, priority=None,
                    deduplicationId=None, timeoutSeconds=None, applicationVersion=None, workflowId=None, actor=None):
    """Accept a start with no database I/O on this thread; the next dispatch makes it durable.

    Until then it lives only in the gateway's memory: a clean shutdown flushes it, a hard crash loses at most the
    starts accepted since the last dispatch. A deduplicationId clash is only detected at the flush (logged).
    """
    engine = _engine()
    who = policy.actor_from(actor)
    row = starts.prepare(engine, workflowName, inputs, queueName, partitionKey, priority, deduplicationId,
                         timeoutSeconds, applicationVersion, workflowId, who.name, use_database=False)
    data = {"workflowId": row["workflow_uuid"], "workflowName": row["name"], "queueName": row["queue_name"],
            "executesHere": engine.host.executes}
    if not engine.host.executes:
        outcome, existing = starts.insert(engine, row)
        if outcome == "duplicate":
            data["workflowId"] = existing
            return failure("WORKFLOW_DUPLICATE", "run %s with the same deduplicationId is still active" % existing, data)
        return success("WORKFLOW_ENQUEUED", "no gateway executes in this scope, so the run was written to the "
                       "database directly; a running gateway will execute it", data)
    engine.kernel.memory_queue.offer(starts.pack(row))
    # one flush for a burst: the tick that writes it waits MEMORY_FLUSH_LINGER_MS, so the calls that follow share it
    engine.wake(new_work=False, delay_ms=MEMORY_FLUSH_LINGER_MS)  # the flush names the queues it filled
    return success("WORKFLOW_ACCEPTED", "run %s accepted in memory; durable at the next dispatch" % row["workflow_uuid"],
                   data)


@guarded
def dispatch():
    """One dispatcher tick (the gateway timer event calls this): flush, claim every queue, submit."""
    engine = _engine()
    if not engine.host.executes:
        return failure("NOT_GATEWAY_SCOPE", "dispatch() only runs in the gateway scope; nothing was done")
    ran = engine.dispatch()
    return success("DISPATCHED" if ran else "DISPATCH_BUSY",
                   "tick done" if ran else "another tick was running; it will run again",
                   {"active": engine.kernel.active.size(), "workers": engine.pool_size,
                    "backlog": engine.dispatcher.backlog})


def _command_answer(record, run):
    data = {"workflowId": run["workflow_uuid"] if run else None, "cmd": record.cmd, "commandId": record.id,
            "state": record.state, "status": run["status"] if run else None}
    verdict = record.verdict
    if record.applied_at_once:
        return success("COMMAND_ACCEPTED", "%s applied at once (%s)" % (record.cmd, record.outcome_reason), data)
    if verdict.state == "PENDING":
        return success("COMMAND_ACCEPTED", verdict.reason + "; applies at the next step boundary", data)
    data["rejection"] = verdict.rejection
    return failure(verdict.code, verdict.reason, data)


@guarded
def sendCommand(workflowId=None, cmd=None, reason=None, actor=None, payload=None):
    """HOLD / RESUME / STOP / RESET (or a command the workflow declares); answers at once whether it was accepted."""
    record, run = commands.send_command(_engine(), _wid(workflowId), cmd, reason, actor, payload)
    return _command_answer(record, run)


@guarded
def resume(workflowId=None, reason=None, actor=None):
    """RESUME a held run."""
    record, run = commands.send_command(_engine(), _wid(workflowId), policy.RESUME, reason, actor)
    return _command_answer(record, run)


@guarded
def cancel(workflowId=None, reason=None, actor=None):
    """Abandon a run: CANCELLED at the next step boundary (at once when queued or held)."""
    record, run = commands.send_command(_engine(), _wid(workflowId), policy.CANCEL, reason, actor)
    return _command_answer(record, run)


@guarded
def retry(workflowId=None, fromStep=None, actor=None, reason=None):
    """Continue a failed or stopped run in a new run that reuses its checkpoints before the failed step."""
    new_id, cutoff = commands.retry(_engine(), _wid(workflowId), fromStep, actor, reason)
    return success("WORKFLOW_ENQUEUED", "retry %s enqueued; it re-executes from position %d" % (new_id, cutoff),
                   {"workflowId": new_id, "retryOf": _wid(workflowId), "fromFunctionId": cutoff})


@guarded
def continueWithCurrentCode(workflowId=None, actor=None, reason=None):
    """A run whose replay diverged from its record (NonDeterminismError: its workflow's code changed under it) goes
    on under the current code, in a new linked run that keeps the records before the divergence."""
    new_id, position = commands.continue_with_current_code(_engine(), _wid(workflowId), actor, reason)
    return success("WORKFLOW_ENQUEUED", "%s enqueued: it keeps the records before position %d and runs the current "
                   "code from there" % (new_id, position),
                   {"workflowId": new_id, "retryOf": _wid(workflowId), "fromFunctionId": position})


@guarded
def getWorkflow(workflowId=None, includeHistory=False):
    """A run: status, phase, inputs, output, error, timestamps, events (and event history when asked)."""
    engine = _engine()
    wid = _wid(workflowId)
    row = views.run(engine.store.db, wid)
    if row is None:
        return failure("NOT_FOUND", "no run with id %s" % wid, {"workflowId": wid})
    data = shapes.run(row, now_ms())
    data["events"] = shapes.event_rows(views.events(engine.store.db, wid))
    data["retries"] = views.retries_of(engine.store.db, wid)
    children = views.children(engine.store.db, wid)
    data["childrenCount"] = len(children)
    data["children"] = [shapes.child(c, now_ms()) for c in children[:MAX_CHILDREN]]
    if includeHistory:
        data["eventHistory"] = shapes.history_rows(views.event_history(engine.store.db, wid))
    return success("OK", "run %s is %s" % (wid, row["status"]), data)


@guarded
def getResult(workflowId=None):
    """A run's outcome, never waiting: status, done, output or error (a Perspective binding or a tag script may
    poll it)."""
    engine = _engine()
    wid = _wid(workflowId)
    found = engine.store.outcomes([wid]).get(wid)
    if found is None:
        return failure("NOT_FOUND", "no run with id %s" % wid, {"workflowId": wid})
    status, output, error, completed_at = found
    done = status in statuses.TERMINAL
    data = {"workflowId": wid, "status": status, "done": done, "succeeded": status == statuses.SUCCESS,
            "output": loads(output) if output is not None else None,
            "error": loads(error) if error is not None else None,
            "completedAt": int(completed_at) if completed_at is not None else None}
    return success("OK", "run %s %s" % (wid, "ended %s" % status if done else "is %s" % status), data)


@guarded
def getEvent(workflowId=None, key=None):
    """The latest value of one event of a run (value None when never set)."""
    engine = _engine()
    wid = _wid(workflowId)
    if not isinstance(key, string_types) or not key:
        raise InvalidArgument("key is required", field="key")
    row = engine.store.get_event(wid, key)
    return success("OK", "event %s" % key, {"workflowId": wid, "key": key,
                                            "value": loads(row[0]) if row else None,
                                            "updatedAt": int(row[1]) if row else None})


@guarded
def listEventHistory(workflowId=None, afterId=0, limit=1000):
    engine = _engine()
    wid = _wid(workflowId)
    rows = shapes.history_rows(views.event_history(engine.store.db, wid, _int(afterId, "afterId", 0),
                                                   _limit(limit, 5000)))
    return success("OK", "%d event changes" % len(rows), {"workflowId": wid, "history": rows,
                                                          "lastId": rows[-1]["id"] if rows else _int(afterId, "afterId", 0)})


@guarded
def readStream(workflowId=None, key="log", afterOffset=-1, limit=1000):
    """Stream entries after `afterOffset` (the live log is key 'log')."""
    engine = _engine()
    wid = _wid(workflowId)
    if not isinstance(key, string_types) or not key:
        raise InvalidArgument("key is required", field="key")
    rows = shapes.stream_rows(views.stream(engine.store.db, wid, key, _int(afterOffset, "afterOffset", -1),
                                           _limit(limit, 5000)))
    return success("OK", "%d entries" % len(rows), {"workflowId": wid, "key": key, "entries": rows,
                                                    "keys": views.stream_keys(engine.store.db, wid)})


@guarded
def listCommands(workflowId=None):
    """The command log of a run: who sent what, when, and what became of it."""
    engine = _engine()
    wid = _wid(workflowId)
    return success("OK", "command log", {"workflowId": wid,
                                         "commands": [shapes.command(c) for c in views.commands(engine.store.db, wid)]})


@guarded
def listSteps(workflowId=None):
    """The run's recorded steps and operations, in call order."""
    engine = _engine()
    wid = _wid(workflowId)
    if views.run(engine.store.db, wid) is None:
        return failure("NOT_FOUND", "no run with id %s" % wid, {"workflowId": wid})
    rows = [shapes.step(r) for r in views.steps(engine.store.db, wid)]
    return success("OK", "%d recorded operations" % len(rows), {"workflowId": wid, "steps": rows})


@guarded
def listRuns(workflowName=None, status=None, queueName=None, partitionKey=None, createdFrom=None, createdTo=None,
             limit=50, cursor=None, parentWorkflowId=None, topLevelOnly=False, workflowVersion=None):
    """Runs, newest first, one page at a time: pass data.nextCursor back as `cursor` for the next page.
    parentWorkflowId: only the runs that run started; topLevelOnly: no child runs; workflowVersion: only the runs
    that started under that version of their workflow's code."""
    engine = _engine()
    wanted = None
    if status:
        wanted = [status] if isinstance(status, string_types) else list(status)
        for s in wanted:
            if s not in statuses.ALL:
                raise InvalidArgument("unknown status %r" % s, field="status")
    parsed_cursor = None
    if cursor:
        try:
            at, wid = str(cursor).split("_", 1)
            parsed_cursor = (int(at), _wid(wid, "cursor"))
        except (ValueError, InvalidArgument):
            raise InvalidArgument("cursor is not one this API returned", field="cursor")
    for field, value in (("workflowName", workflowName), ("queueName", queueName), ("partitionKey", partitionKey),
                         ("workflowVersion", workflowVersion)):
        if value is not None and not isinstance(value, string_types):
            raise InvalidArgument("%s must be text" % field, field=field)
    parent = _wid(parentWorkflowId, "parentWorkflowId") if parentWorkflowId else None
    if not isinstance(topLevelOnly, bool):
        raise InvalidArgument("topLevelOnly must be true or false", field="topLevelOnly")
    rows, more = views.list_runs(engine.store.db, workflowName or None, wanted, queueName or None,
                                 partitionKey or None, _int(createdFrom, "createdFrom", None),
                                 _int(createdTo, "createdTo", None), parsed_cursor, _limit(limit, MAX_PAGE),
                                 parent=parent, top_level=topLevelOnly, version=workflowVersion or None)
    now = now_ms()
    runs = [shapes.run(r, now) for r in rows]
    next_cursor = "%d_%s" % (rows[-1]["created_at"], rows[-1]["workflow_uuid"]) if rows and more else None
    return success("OK", "%d runs" % len(runs), {"runs": runs, "nextCursor": next_cursor})


@guarded
def listWorkflows():
    """Registered workflows with their parameters and templates (for dropdowns and forms)."""
    engine = _engine()
    found = dict([(d.name, d.as_dict()) for d in engine.registry.all()])
    try:
        for name, text in engine.store.definitions("workflow_definitions"):
            if name not in found:
                found[name] = loads(text)
    except Exception:  # the local registry is enough when the table cannot be read
        pass
    items = [found[n] for n in sorted(found)]
    return success("OK", "%d workflows" % len(items), {"workflows": items})


@guarded
def listQueues():
    """Declared queues with their limits, and what is waiting, executing and held in each."""
    engine = _engine()
    declared = dict([(q.name, q.as_dict()) for q in engine.queues.all()])
    for name, text in engine.store.definitions("queues"):
        declared.setdefault(name, loads(text))
    now = now_ms()
    stats = views.queue_stats(engine.store.db, now)
    finished = {}
    for queue, status, count in views.finished_counts(engine.store.db, now - 24 * 3600 * 1000):
        finished.setdefault(queue, {})[status] = int(count)
    out = []
    for name in sorted(set(declared) | set(stats)):
        entry = {"name": name, "declared": name in declared, "limits": declared.get(name)}
        entry.update(stats.get(name, {"counts": {}, "activePartitions": [], "oldestWaitingMs": None}))
        entry["finishedLast24h"] = finished.get(name, {})
        out.append(entry)
    return success("OK", "%d queues" % len(out), {"queues": out})


@guarded
def listTags(folder="", limit=DEFAULT_TAGS):
    """Every tag below a folder ('' is the default provider's root, '[default]Line1' the folder Line1) with its
    reading, in path order: at most `limit` (1 to 5000); data.truncated says there are more. Reads only."""
    engine = _engine()
    folder = _folder(folder)
    most = _int(limit, "limit", DEFAULT_TAGS)
    if most < 1 or most > MAX_TAGS:
        raise InvalidArgument("limit must be between 1 and %d" % MAX_TAGS, field="limit")
    found = list(engine.host.tags.tags_under(folder, most + 1))  # one more than asked: there are more when it comes
    tags = [_tag_reading(r) for r in found[:most]]
    truncated = len(found) > most
    where = folder or "the root"
    return success("OK", "%s%d tags under %s" % ("the first " if truncated else "", len(tags), where),
                   {"tags": tags, "folder": folder, "truncated": truncated})


@guarded
def readTags(paths=None):
    """The reading of each tag path, in order, in one batched read ({"path", "value", "quality", "good",
    "timestamp"}; a path that names no tag answers a bad quality such as Bad_NotFound). Reads only."""
    engine = _engine()
    items = _tag_paths(paths)
    readings = engine.host.tags.read(items) if items else []
    tags = [_tag_reading(r) for r in readings]
    bad = len([t for t in tags if not t["good"]])
    return success("OK", "%d tags read%s" % (len(tags), ", %d not good" % bad if bad else ""), {"tags": tags})


def _folder(value):
    if value is None:
        return ""
    if not isinstance(value, string_types):
        raise InvalidArgument("folder must be a folder path such as [default]Line1 ('' for the root), got %r"
                              % (value,), field="folder")
    if u"\x00" in value:
        raise InvalidArgument("folder cannot contain a NUL character", field="folder")
    return value.strip()


def _tag_paths(value):
    """The paths of readTags as a list of stripped texts: a list (or tuple) of non-empty paths, at most 1000."""
    if value is None:
        raise InvalidArgument("paths is required: a list of tag paths", field="paths")
    if isinstance(value, string_types):
        raise InvalidArgument("paths must be a list of tag paths (put one path in a list: [%r])" % (value,),
                              field="paths")
    if isinstance(value, dict) or not hasattr(value, "__iter__"):
        raise InvalidArgument("paths must be a list of tag paths, got %r" % (value,), field="paths")
    items = list(value)
    if len(items) > MAX_READ_TAGS:
        raise InvalidArgument("paths holds %d paths; read at most %d at once" % (len(items), MAX_READ_TAGS),
                              field="paths")
    out = []
    for index, path in enumerate(items):
        if not isinstance(path, string_types) or not path.strip() or u"\x00" in path:
            raise InvalidArgument("paths[%d] must be a non-empty tag path, got %r" % (index, path), field="paths",
                                  data={"index": index})
        out.append(path.strip())
    return out


def _tag_reading(found):
    return {"path": found.get("path"), "value": found.get("value"), "quality": found.get("quality"),
            "good": bool(found.get("good")), "timestamp": found.get("timestamp")}


@guarded
def sendMessage(destinationId=None, message=None, topic="message"):
    """Send a JSON message to a run's recv(topic) from outside a workflow."""
    engine = _engine()
    wid = _wid(destinationId, "destinationId")
    if not isinstance(topic, string_types) or not topic:
        raise InvalidArgument("topic is required", field="topic")
    engine.store.send_message(wid, topic, dumps(to_json_native(message, "message")), now_ms())
    return success("MESSAGE_SENT", "message sent to %s on %s" % (wid, topic), {"workflowId": wid, "topic": topic})


def _int(value, field, default):
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise InvalidArgument("%s must be an integer" % field, field=field)
    if isinstance(value, integer_types):
        return int(value)
    try:
        return int(str(value))
    except ValueError:
        raise InvalidArgument("%s must be an integer" % field, field=field)


def _limit(value, most):
    value = _int(value, "limit", 50)
    if value < 1 or value > most:
        raise InvalidArgument("limit must be between 1 and %d" % most, field="limit")
    return value
