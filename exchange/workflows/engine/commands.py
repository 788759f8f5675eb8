"""Sending operator commands and cancels, and retrying finished runs (the write side of policy.py)."""
from exchange.workflows.engine import policy
from exchange.workflows.engine.starts import find_definition, insert
from exchange.workflows.store.records import LOG_KEY, command_entry
from exchange.workflows.store.statuses import (CANCELLED, CMD_APPLIED, CMD_PENDING, DELAYED, ENQUEUED, ERROR, HELD,
                                               MAX_RECOVERY_ATTEMPTS_EXCEEDED, STEP_SUCCESS, STOPPED, SUCCESS,
                                               TERMINAL, WAITING)
from exchange.workflows.util import ids
from exchange.workflows.util.clock import now_ms
from exchange.workflows.util.compat import is_integer, string_types
from exchange.workflows.util.errors import InvalidArgument, NotFound, WorkflowsError
from exchange.workflows.util.jsoncodec import dumps, loads, to_json_native

RETRYABLE = (ERROR, STOPPED, CANCELLED, MAX_RECOVERY_ATTEMPTS_EXCEEDED)
CONTINUABLE = (ERROR,)  # and only with a NonDeterminismError: see divergence()


def divergence(status, error):
    """The position at which a run's replay diverged from its record (an ERROR with NonDeterminismError and its
    functionId: the runs continue_with_current_code takes), or None."""
    if status not in CONTINUABLE or not isinstance(error, dict) or error.get("type") != "NonDeterminismError":
        return None
    position = error.get("functionId")
    return int(position) if is_integer(position) else None


class CommandRecord(object):
    def __init__(self, cmd, payload, actor, reason, verdict, cause_id=None):
        self.id = None
        self.cause_id = cause_id
        self.cmd = cmd
        self.topic = "cmd"
        self.payload = payload
        self.actor = actor.name
        self.actor_roles = dumps(actor.roles) if actor.roles else None
        self.reason = reason
        self.verdict = verdict
        self.state = verdict.state
        self.outcome_reason = None if verdict.state == CMD_PENDING else verdict.reason
        self.then = None
        self.applied_at_once = False


def command_roles(engine):
    """The role table: the `commandRoles` setting when present, else policy.DEFAULT_COMMAND_ROLES."""
    text = engine.store.get_setting("commandRoles")
    if not text:
        return policy.DEFAULT_COMMAND_ROLES
    table = dict(policy.DEFAULT_COMMAND_ROLES)
    table.update(dict([(k.upper(), tuple(v)) for k, v in loads(text).items()]))
    return table


def send_command(engine, workflow_uuid, cmd, reason=None, actor=None, payload=None, cause_id=None):
    """Record a command and answer at once; returns (record, run). See policy.py for the rules.

    `cause_id`: the command of a parent that this one passes on to its child."""
    wid = ids.normalize(workflow_uuid)
    if wid is None:
        raise InvalidArgument("workflowId must be a UUID", field="workflowId")
    if not isinstance(cmd, string_types) or not cmd.strip():
        raise InvalidArgument("cmd is required (HOLD, RESUME, STOP, RESET or a command the workflow declares)",
                              field="cmd")
    if reason is not None and not isinstance(reason, string_types):
        raise InvalidArgument("reason must be text", field="reason")
    cmd = cmd.strip().upper()
    who = policy.actor_from(actor)
    payload_text = dumps(to_json_native(payload, "payload")) if payload is not None else None
    roles = command_roles(engine)
    store = engine.store

    def judge(run, pending):
        declared = ()
        if run is not None:
            definition = engine.registry.get(run["name"])
            declared = definition.commands if definition else ()
        verdict = policy.judge(cmd, run, pending, who, declared, roles)
        if verdict.state is None:
            return None
        record = CommandRecord(cmd, payload_text, who, reason, verdict, cause_id)
        if verdict.state != CMD_PENDING:
            record.then = lambda r: _log_decision(store, wid, r, r.state, r.outcome_reason)
        elif _applies_at_once(cmd, run["status"], pending):
            record.state = CMD_APPLIED
            record.outcome_reason = "applied at once: the run was %s" % run["status"]
            record.applied_at_once = True
            record.then = lambda r: _apply_at_once(store, r, run)
        return record

    record, run = store.submit_command(wid, judge, now_ms())
    if record is None:
        raise NotFound("no run with id %s" % wid, data={"workflowId": wid})
    if record.state == CMD_PENDING:
        engine.hint(wid)
        if store.dialect.supports_notify:
            store.notify("cmd:" + wid)
        if run["status"] == HELD:
            engine.kernel.set_flag("heldCommand", True)
            engine.wake(new_work=False)
        elif run["status"] == WAITING and cmd in policy.WAKES_WAITING:
            store.transitions.wake(wid, now_ms())  # a gateway executes it to apply the command at its boundary
    if cmd in policy.CASCADES and (record.state == CMD_PENDING or record.applied_at_once):
        _pass_on_to_children(engine, wid, record, who)
    return record, run


BUTTONS = (policy.HOLD, policy.RESUME, policy.STOP, policy.RESET, policy.CANCEL)
CONTINUE_ONLY = ("only a run that ended in ERROR because its replay diverged from its record (NonDeterminismError) "
                 "can continue with the current code")


def command_choices(engine, name, status, error, pending, actor):
    """Which commands this actor may send to a run now, and why the others are off: (allowed, choices), choices a
    list of {"cmd", "allowed", "reason", "declared"} for HOLD, RESUME, STOP, RESET, CANCEL, the commands the
    workflow declares, RETRY and CONTINUE. What every operator UI shows (the web console, Perspective views); the
    engine judges each command again when it is sent."""
    definition = find_definition(engine, name)
    declared = tuple(definition.commands) if definition is not None else ()
    roles = command_roles(engine)
    who = policy.actor_from(actor)
    choices = []
    for cmd in list(BUTTONS) + [c for c in declared if c not in BUTTONS]:
        verdict = policy.judge(cmd, {"status": status, "name": name}, pending, who, declared, roles)
        ok = verdict.state == CMD_PENDING
        choices.append({"cmd": cmd, "allowed": ok, "reason": None if ok else verdict.reason,
                        "declared": cmd in declared})
    choices.append(_ended_run_choice(policy.RETRY, status in RETRYABLE, who, roles, "retry runs",
                                     "only a run that ended in %s can be retried" % ", ".join(RETRYABLE)))
    choices.append(_ended_run_choice(policy.CONTINUE, divergence(status, error) is not None, who, roles,
                                     "continue runs with the current code", CONTINUE_ONLY))
    return [c["cmd"] for c in choices if c["allowed"]], choices


def _ended_run_choice(cmd, fits, who, roles, action, unfit):
    """RETRY or CONTINUE: allowed when the run's end fits and the actor's roles may."""
    may = policy.may(who, cmd, roles)
    return {"cmd": cmd, "allowed": fits and may, "declared": False,
            "reason": None if (fits and may) else ("%s may not %s" % (who.describe(), action) if not may else unfit)}


def _pass_on_to_children(engine, wid, record, who):
    """The parent's HOLD, RESUME, STOP or cancel, sent to each of its active children as a command of its own
    (judged with the same roles, naming the parent's as its cause); a RESUME only to children held by such a
    HOLD. A child that refuses it records why; that changes nothing for the parent or the other children."""
    store = engine.store
    for child_id, _ in store.active_children(wid):
        if record.cmd == policy.RESUME and not store.held_by_cause(child_id):
            continue  # held on its own: an operator resumes it
        try:
            send_command(engine, child_id, record.cmd, record.reason, who, cause_id=record.id)
        except WorkflowsError as exc:
            engine.logger("commands").warn("%s of %s not passed on to child %s: %s" % (
                record.cmd, wid, child_id, exc.message))


def _applies_at_once(cmd, status, pending):
    """A run no executor holds takes a cancel at once (queued or held), and a STOP at once when queued with no
    other command before it. Everything else waits for a step boundary, so commands keep their order and a held
    run's STOP runs its on_stop cleanup."""
    if cmd == policy.CANCEL:
        return status in (DELAYED, ENQUEUED, HELD, WAITING)
    return cmd == policy.STOP and status in (DELAYED, ENQUEUED) and not pending


def _as_row(record, wid):
    return {"id": record.id, "cmd": record.cmd, "actor": record.actor, "reason": record.reason,
            "workflow_uuid": wid, "cause_id": record.cause_id}


def _log_decision(store, wid, record, state, why):
    """The `log` entry of a command decided when it was received (refused, forbidden, or a RETRY)."""
    now = now_ms()
    store.append_stream(wid, LOG_KEY, command_entry(_as_row(record, wid), state, why, now), now)


def _apply_at_once(store, record, run):
    """Commands to a run no executor holds (queued, or held for CANCEL) end it in the same transaction."""
    if record.cmd == policy.STOP:
        status, error = STOPPED, None
    else:
        status = CANCELLED
        error = {"type": "WorkflowCancelled", "message": "cancelled by %s: %s" % (record.actor, record.reason or ""),
                 "traceback": ""}
    store.transitions.end_at_once(run["workflow_uuid"], run["status"], status, now_ms(),
                                  _as_row(record, run["workflow_uuid"]), record.outcome_reason, error)


def retry(engine, workflow_uuid, from_step=None, actor=None, reason=None):
    """Start a new run with the same inputs that reuses the original's checkpoints before the failed step.

    from_step: a step name (its first position) or a function id; by default the first step that did not succeed.
    Returns (new workflow id, the position it re-executes from).
    """
    run, who = _ended_run(engine, workflow_uuid, policy.RETRY, actor, reason)
    if run["status"] not in RETRYABLE:
        raise WorkflowsError("only a run that ended in %s can be retried; this one is %s"
                             % (", ".join(RETRYABLE), run["status"]), code="COMMAND_REJECTED",
                             data={"status": run["status"]})
    checkpoints = engine.store.load_checkpoints(run["workflow_uuid"])
    return _run_again(engine, run, who, reason, checkpoints, _cutoff(checkpoints, from_step), policy.RETRY,
                      "retried as %s from position %d")


def continue_with_current_code(engine, workflow_uuid, actor=None, reason=None):
    """A run whose replay diverged from its record (the code changed under it: NonDeterminismError) goes on under
    the current code: a new linked run that keeps the original's records before the divergence and runs the
    current code from there. Returns (new workflow id, the position of the divergence)."""
    run, who = _ended_run(engine, workflow_uuid, policy.CONTINUE, actor, reason)
    error = loads(run["error"]) if run["error"] else {}
    position = divergence(run["status"], error)
    if position is None:
        kind = error.get("type") if isinstance(error, dict) else None
        raise WorkflowsError("%s; this one is %s%s" % (CONTINUE_ONLY, run["status"], (" (%s)" % kind) if kind else ""),
                             code="COMMAND_REJECTED", data={"status": run["status"]})
    checkpoints = engine.store.load_checkpoints(run["workflow_uuid"])
    return _run_again(engine, run, who, reason, checkpoints, position, policy.CONTINUE,
                      "continued under the current code as %s from position %d")


def _ended_run(engine, workflow_uuid, cmd, actor, reason):
    """(run row, actor) of a run a RETRY or CONTINUE is for, after the role check (a denial is recorded)."""
    wid = ids.normalize(workflow_uuid)
    if wid is None:
        raise InvalidArgument("workflowId must be a UUID", field="workflowId")
    run = engine.store.get_run(wid)
    if run is None:
        raise NotFound("no run with id %s" % wid, data={"workflowId": wid})
    who = policy.actor_from(actor)
    if not policy.may(who, cmd, command_roles(engine)):
        _record_outcome(engine, wid, cmd, who, reason, "FORBIDDEN", "%s may not %s" % (who.describe(), cmd.lower()))
        raise WorkflowsError("%s may not %s runs" % (who.describe(), "retry" if cmd == policy.RETRY else
                                                     "continue"), code="COMMAND_FORBIDDEN")
    return run, who


def _run_again(engine, run, who, reason, checkpoints, cutoff, cmd, outcome):
    """The new linked run of a retry or a continue: the original's inputs, queue and partition, its checkpoints
    before `cutoff`, and the current code's version."""
    store = engine.store
    wid = run["workflow_uuid"]
    unsuccessful_children = _children_to_start_again(store, checkpoints, cutoff)
    definition = find_definition(engine, run["name"])
    new_id = ids.new_id()
    now = now_ms()
    row = {"workflow_uuid": new_id, "name": run["name"], "status": ENQUEUED, "phase": "IDLE",
           "queue_name": run["queue_name"], "partition_key": run["partition_key"], "priority": run["priority"],
           "deduplication_id": None, "inputs": run["inputs"], "application_version": run["application_version"],
           "workflow_version": definition.version if definition is not None else None,
           "created_by": who.name, "created_at": now, "updated_at": now, "timeout_ms": run["timeout_ms"]}
    with store.transaction():
        inserted, _ = insert(engine, row, retry_of=wid, retry_from=cutoff)
        if inserted != "inserted":
            raise WorkflowsError("the new run could not be created (%s)" % inserted, code="RETRY_FAILED")
        store.copy_checkpoints(wid, new_id, cutoff, unsuccessful_children)
        _record_outcome(engine, wid, cmd, who, reason, CMD_APPLIED, outcome % (new_id, cutoff))
    engine.work_added(run["queue_name"])
    return new_id, cutoff


def _children_to_start_again(store, checkpoints, cutoff):
    """Positions before the cutoff where the run started a child that ended without success: the retry starts a
    new child there (children that succeeded, or still run, are the retry's children too)."""
    started = dict([(rec["function_id"], loads(rec["output"])) for rec in checkpoints
                    if rec["kind"] == "child" and rec["status"] == STEP_SUCCESS and rec["function_id"] < cutoff])
    if not started:
        return []
    outcomes = store.outcomes(list(started.values()))
    again = []
    for fid, child_id in sorted(started.items()):
        status = outcomes.get(child_id, (None,))[0]
        if status is None or (status in TERMINAL and status != SUCCESS):
            again.append(fid)
    return again


def _cutoff(checkpoints, from_step):
    if from_step is None:
        for rec in checkpoints:
            if rec["status"] != STEP_SUCCESS or (rec["kind"] == "step" and rec["function_name"] == "on_stop"):
                return rec["function_id"]
        return (checkpoints[-1]["function_id"] + 1) if checkpoints else 1
    if is_integer(from_step):
        if from_step < 1:
            raise InvalidArgument("fromStep must be a position >= 1 or a step name", field="fromStep")
        return int(from_step)
    if isinstance(from_step, string_types):
        for rec in checkpoints:
            if rec["kind"] == "step" and rec["function_name"] == from_step:
                return rec["function_id"]
        raise InvalidArgument("the run has no recorded step named %r" % from_step, field="fromStep")
    raise InvalidArgument("fromStep must be a step name or a position", field="fromStep")


def _record_outcome(engine, wid, cmd, who, reason, state, outcome_reason):
    """Audit a decision taken outside the pending-command flow (RETRY, CONTINUE)."""
    store = engine.store

    def judge(run, pending):
        verdict = policy.Verdict(state, "", outcome_reason)
        record = CommandRecord(cmd, None, who, reason, verdict)
        record.state = state
        record.outcome_reason = outcome_reason
        record.then = lambda r: _log_decision(store, wid, r, state, outcome_reason)
        return record
    store.submit_command(wid, judge, now_ms())

