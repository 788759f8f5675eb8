"""What happens between two steps: reload and shutdown hand-back, the deadline, and operator commands.

Nothing here touches the database unless a command is known to be waiting: the dispatcher, an in-process
sendCommand or a PostgreSQL NOTIFY sets a hint for the run, and only then are its pending commands read.
"""
from exchange.workflows.engine import policy
from exchange.workflows.engine.signals import CancelSignal, HandBack, HoldSignal, LostOwnership, StopSignal
from exchange.workflows.store.records import Records
from exchange.workflows.store.statuses import (CMD_APPLIED, CMD_DELIVERED, CMD_SUPERSEDED, PHASE_HELD,
                                               PHASE_HOLDING, PHASE_RESUMING, PHASE_RUNNING, STEP_SUCCESS)
from exchange.workflows.util.clock import now_ms
from exchange.workflows.util.jsoncodec import dumps, loads


def at_boundary(ctx):
    if ctx.cleaning_up:
        return  # the on_stop cleanup runs to its end: the STOP being applied is still pending in the database
    check_ending(ctx)
    if ctx.engine.kernel.hints.take(ctx.workflow_uuid):
        ctx.check_commands = True
    if ctx.check_commands:
        ctx.check_commands = False
        apply_commands(ctx, ctx.retrying(ctx.store.pending_commands, ctx.workflow_uuid))


def check_ending(ctx):
    """Raise HandBack on reload/shutdown, CancelSignal past the deadline, LostOwnership when the run was taken
    over while this gateway was silent; memory only unless the heartbeat went stale."""
    engine = ctx.engine
    if engine.kernel.generation() != ctx.generation:
        raise HandBack("project scripts reloaded: continuing under the new code")
    if engine.stopping():
        raise HandBack("gateway shutting down")
    now = now_ms()
    if ctx.deadline_at is not None and now >= ctx.deadline_at:
        raise CancelSignal("the run passed its deadline (timeoutSeconds)", timeout=True)
    if ctx.verify_ownership or now - engine.last_heartbeat_ms > engine.config.lease_ms // 2:
        _verify_ownership(ctx)


def _verify_ownership(ctx):
    """This gateway went without a heartbeat for half a lease (paused, or cut off from the database): another one
    may have taken the run over. Read who owns it before starting anything more."""
    owner = ctx.retrying(ctx.store.run_owner, ctx.workflow_uuid)
    ctx.verify_ownership = False
    if owner is None or owner[0] != "RUNNING" or owner[1] != ctx.engine.executor_id or owner[2] != ctx.run_count:
        raise LostOwnership("run %s was taken over while this gateway was silent (now %s on %s)"
                            % (ctx.workflow_uuid, owner[0] if owner else "gone", owner[1] if owner else "-"))


def check_inside_step(ctx):
    """checkCancelled(): also end the step for a STOP or cancel that arrived; other commands wait for the boundary."""
    if ctx.cleaning_up:
        return
    check_ending(ctx)
    if ctx.engine.kernel.hints.take(ctx.workflow_uuid):
        ctx.check_commands = True
        for command in ctx.retrying(ctx.store.pending_commands, ctx.workflow_uuid):
            if command["cmd"] == policy.STOP:
                raise StopSignal(command["reason"], command)
            if command["cmd"] == policy.CANCEL:
                raise CancelSignal(command["reason"], command)


def phase_change(ctx, phase, at):
    ctx.phase = phase
    ctx.phase_dirty = True
    ctx.carry.phase_changed(phase, at)


def apply_commands(ctx, pending):
    """Apply pending commands in the order received (see policy.py); raise the signal that ends or parks the run."""
    held = False
    for command in pending:
        cmd = command["cmd"]
        now = now_ms()
        if cmd in (policy.STOP, policy.CANCEL):
            flush_carry(ctx)
            raise (StopSignal if cmd == policy.STOP else CancelSignal)(command["reason"], command)
        if cmd == policy.HOLD:
            if held:
                _outcome(ctx, command, CMD_SUPERSEDED, "the run was already held", now)
                continue
            phase_change(ctx, PHASE_HOLDING, now)
            phase_change(ctx, PHASE_HELD, now)
            _outcome(ctx, command, CMD_APPLIED, "held at a step boundary", now)
            held = True
        elif cmd == policy.RESUME:
            if not held and ctx.phase != PHASE_HELD:
                _outcome(ctx, command, CMD_SUPERSEDED, "the run was not held", now)
                continue
            phase_change(ctx, PHASE_RESUMING, now)
            phase_change(ctx, PHASE_RUNNING, now)
            _outcome(ctx, command, CMD_APPLIED, "resumed", now)
            held = False
        else:
            if command not in ctx.inbox and command["id"] not in [c["id"] for c in ctx.inbox]:
                ctx.inbox.append(command)
    if held:
        raise HoldSignal("held by an operator")
    flush_carry(ctx)


def _outcome(ctx, command, state, reason, now):
    ctx.carry.command_decided(command, state, reason, now)


def flush_carry(ctx):
    """Write what boundary processing queued (phase changes, command outcomes) on its own, now."""
    if ctx.phase_dirty:
        ctx.phase_dirty = False
        phase, now, wid, fence, transitions = ctx.phase, now_ms(), ctx.workflow_uuid, ctx.fence, ctx.transitions
        ctx.commit(lambda records: transitions.change_phase(wid, fence, phase, now, records))
    elif not ctx.carry.empty() or ctx.pending_log:
        ctx.attach(None)


def receive_command(ctx, function_id, topic, timeout_s):
    """recvCommand: take the oldest delivered command, record it as this operation's output."""
    import time

    started = now_ms()
    deadline = time.time() + max(0.0, timeout_s or 0)
    while True:
        at_boundary(ctx)
        chosen = None
        for command in ctx.inbox:
            if command["topic"] == topic:
                chosen = command
                break
        if chosen is not None or time.time() >= deadline:
            break
        ctx.wait(min(0.25, max(0.0, deadline - time.time())), interruptible=False)
    value = None
    records = Records()
    if chosen is not None:
        ctx.inbox.remove(chosen)
        value = {"id": chosen["id"], "cmd": chosen["cmd"], "payload": loads(chosen["payload"]),
                 "actor": chosen["actor"], "reason": chosen["reason"], "receivedAt": chosen["received_at"]}
        records.command_decided(chosen, CMD_DELIVERED, "received by the workflow", now_ms())
    if function_id is not None:
        ctx.record(function_id, "recvCommand:%s" % topic, "recv", STEP_SUCCESS, dumps(value), None, 1, started,
                   records)
    elif not records.empty():
        ctx.attach(records)
    return value
