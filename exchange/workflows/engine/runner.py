"""Execute one run on a worker thread: begin, replay and run the workflow function, then decide how it ended.

The writes are the store's transitions (begin, finish, park, hand_back), each fenced by this execution, so that a
terminal status is never overwritten and a run taken over by another executor is never written by this one.
"""
import sys

from exchange.workflows.engine import boundary, context, outage
from exchange.workflows.engine.signals import (CancelSignal, HandBack, HoldSignal, LostOwnership, StopSignal,
                                               WaitSignal)
from exchange.workflows.engine.steps import StepDef, call_step
from exchange.workflows.store.records import command_entry
from exchange.workflows.store.statuses import (CANCELLED, CMD_APPLIED, ERROR, HELD, PHASE_ABORTED, PHASE_COMPLETE,
                                               PHASE_HELD, PHASE_STOPPED, PHASE_STOPPING, PHASE_WAITING, STOPPED,
                                               SUCCESS, WAITING)
from exchange.workflows.util.clock import now_ms
from exchange.workflows.util.errors import DatabaseError, InvalidArgument
from exchange.workflows.util.jsoncodec import dumps, loads, to_json_native


class Runner(object):
    def __init__(self, engine):
        self.engine = engine
        self.store = engine.store
        self.log = engine.logger("runner")

    # -- entry point ------------------------------------------------------------------------------------------------

    def execute(self, workflow_uuid, generation, resumed=False, begun=None):
        """Run (or continue) one claimed run; never raises. `begun`: the row of a run claim_and_begin began."""
        engine = self.engine
        ctx = None
        queue_name = None
        try:
            ctx = self._begin(workflow_uuid, generation, resumed, begun)
            if ctx is None:
                return
            queue_name = ctx.queue_name
            engine.executions.started(ctx)
            context.activate(ctx)
            self._run(ctx)
        except (KeyboardInterrupt, HandBack, LostOwnership):
            pass  # before a context existed: the run stays PENDING on this executor and is picked up again
        except:  # noqa: E722
            self.log.error("run %s could not execute: %s" % (workflow_uuid, context.describe_error(sys.exc_info())
                                                            ["traceback"]))
        finally:
            context.deactivate()
            engine.executions.ended(workflow_uuid)
            engine.kernel.active.remove(workflow_uuid)
            engine.run_finished(queue_name)
            if ctx is not None and ctx.handed_back:
                engine.handed_back()  # once its worker is free: this gateway continues it at once

    def _begin(self, workflow_uuid, generation, resumed, begun=None):
        engine = self.engine
        if begun is not None:
            run = dict(begun)
            picked_up = now_ms()
        else:
            run = self._begin_write(workflow_uuid, generation, resumed)
            if run is None:
                return None
        run["workflow_uuid"] = workflow_uuid
        definition = engine.registry.get(run["name"])
        inputs = loads(run["inputs"]) or {}
        run["inputs_obj"] = inputs
        run["params"] = inputs.get("resolved") or {}
        if resumed:
            run["phase"] = PHASE_HELD
        recorded = []
        if int(run["run_count"]) > 1 or run["retry_of"]:
            recorded = self._retrying(self.store.load_checkpoints, workflow_uuid)
        if begun is not None and int(run["run_count"]) == 1:
            # the claim stamped started_at (and the deadline) with the claimer's clock before its statement reached
            # the database; the worker's clock now is after the claim, so after the end of any run whose slot or
            # partition it took. The run keeps this time, written with its first status change.
            run["started_at_correction"] = picked_up
            if run["timeout_ms"] is not None:
                run["deadline_at"] = picked_up + int(run["timeout_ms"])
        ctx = context.RunContext(engine, run, definition, recorded, generation)
        ctx.check_commands = resumed or int(run["run_count"]) > 1
        return ctx

    def _begin_write(self, workflow_uuid, generation, resumed):
        """PENDING -> RUNNING here (a run adopted, recovered or resumed); the row, or None if it is not ours."""
        return self._retrying(self.store.transitions.begin, workflow_uuid, self.engine.executor_id, generation,
                              resumed, now_ms())

    def _retrying(self, fn, *args):
        return outage.retrying(self.engine, fn, args)

    # -- the run ----------------------------------------------------------------------------------------------------

    def _run(self, ctx):
        try:
            if ctx.definition is None:
                raise InvalidArgument("workflow %r is not registered on gateway %s" % (ctx.name, self.engine.executor_id))
            if ctx.check_commands:
                ctx.boundary()
            result = ctx.definition.fn(**ctx.params)
            output = dumps(to_json_native(result, "workflow output"))
        except HoldSignal as signal:
            self._park(ctx, signal)
        except WaitSignal as signal:
            self._wait(ctx, signal)
        except StopSignal as signal:
            self._stop(ctx, signal)
        except CancelSignal as signal:
            self._cancel(ctx, signal)
        except HandBack as signal:
            self._hand_back(ctx, signal)
        except LostOwnership as signal:
            self.log.warn("run %s: %s" % (ctx.workflow_uuid, signal.reason))
        except KeyboardInterrupt:
            self._hand_back(ctx, HandBack("worker interrupted"))
        except DatabaseError as exc:
            if not exc.unavailable:
                self._finish(ctx, ERROR, PHASE_ABORTED, error=context.describe_error(sys.exc_info()))
            # otherwise the database went away under engine code: the run stays RUNNING here and is adopted
            # again (from its checkpoints) once the database answers
        except:  # noqa: E722 - Python or Java exception from workflow code
            self._finish(ctx, ERROR, PHASE_ABORTED, error=context.describe_error(sys.exc_info()))
        else:
            self._finish(ctx, SUCCESS, PHASE_COMPLETE, output=output)

    def _end(self, ctx, status, phase, reason, output=None, error=None):
        """The run's end (SUCCESS, ERROR, CANCELLED, STOPPED), with what waits in memory."""
        now = now_ms()
        previous, ctx.phase = ctx.phase, phase
        first_start = _first_start(ctx)
        transitions = self.store.transitions

        def change(records):
            return transitions.finish(ctx.workflow_uuid, ctx.fence, status, phase, now, reason, records, previous,
                                      output=output, error=error, first_start=first_start)
        self._commit(ctx, change, status)

    def _commit(self, ctx, change, status):
        try:
            matched = ctx.commit(change, same_as=lambda: self.store.run_status(ctx.workflow_uuid) == status)
        except HandBack:
            return False
        if not matched:
            self.log.warn("run %s: could not record %s (the run is no longer RUNNING on this executor)"
                          % (ctx.workflow_uuid, status))
        return matched

    def _finish(self, ctx, status, phase, output=None, error=None):
        self._end(ctx, status, phase, error["type"] + ": " + error["message"] if error else None, output=output,
                  error=error)

    def _park(self, ctx, signal):
        """HELD: leave the worker pool; a RESUME, STOP or cancel brings the run back."""
        now = now_ms()
        previous, ctx.phase = ctx.phase, PHASE_HELD
        first_start = _first_start(ctx)
        transitions = self.store.transitions

        def change(records):
            return transitions.park(ctx.workflow_uuid, ctx.fence, now, signal.reason, records, previous, first_start)
        self._commit(ctx, change, HELD)

    def _wait(self, ctx, signal):
        """WAITING: leave the worker pool until what the run waits for happened (awaited runs ended, a tag
        condition held) or the wait's deadline passes."""
        now = now_ms()
        previous, ctx.phase = ctx.phase, PHASE_WAITING
        first_start = _first_start(ctx)
        transitions = self.store.transitions

        def change(records):
            return transitions.wait(ctx.workflow_uuid, ctx.fence, now, signal.function_id, signal.awaited,
                                    signal.mode, signal.deadline, signal.description, signal.reason, records,
                                    previous, first_start, tag_wait=signal.tag_wait)
        if self._commit(ctx, change, WAITING):
            if signal.tag_wait is not None:
                self.engine.dispatcher.tag_waits.added(signal.tag_wait[2])  # its poll_ms
            if signal.deadline is not None:
                self.engine.timed_work_added(signal.deadline)  # a timer wakes it at its deadline, not the next tick

    def _stop(self, ctx, signal):
        """STOPPING: run the workflow's on_stop cleanup as a step, then STOPPED."""
        command = signal.command
        now = now_ms()
        boundary.phase_change(ctx, PHASE_STOPPING, now)
        if command is not None:
            ctx.carry.log(command_entry(command, CMD_APPLIED, "stopping at a step boundary", now), now)
        boundary.flush_carry(ctx)
        try:
            self._await_children_stopped(ctx)
        except HandBack as back:
            self._hand_back(ctx, back)
            return
        error = None
        if ctx.definition is not None and ctx.definition.on_stop is not None:
            # the cleanup step goes after everything recorded, even when the STOP came before the replay caught up
            ctx.function_id = max([ctx.function_id] + list(ctx.recorded))
            ctx.cleaning_up = True
            try:
                call_step(StepDef("on_stop", ctx.definition.on_stop), (), {})
            except HandBack as back:
                self._hand_back(ctx, back)
                return
            except LostOwnership:
                return
            except (HoldSignal, StopSignal, CancelSignal):
                pass
            except:  # noqa: E722
                error = context.describe_error(sys.exc_info())
        if command:
            ctx.carry.outcome(command["id"], CMD_APPLIED, "stopped", now_ms())
        reason = "stopped by %s: %s" % (command["actor"], command["reason"]) if command else "stopped"
        if error:
            reason += " (on_stop failed: %s)" % error["message"]
        self._end(ctx, STOPPED, PHASE_STOPPED, reason, error=error)

    def _await_children_stopped(self, ctx):
        """The STOP went on to the run's children too; its on_stop runs once none of them is active."""
        while ctx.retrying(self.store.active_children, ctx.workflow_uuid):
            if self.engine.stopping() or self.engine.kernel.generation() != ctx.generation:
                raise HandBack("gateway stopping while the run's children stop")
            ctx.sleep_quietly(0.1)

    def _cancel(self, ctx, signal):
        command = signal.command
        now = now_ms()
        if signal.timeout:
            error = {"type": "WorkflowTimeout", "message": signal.reason, "traceback": ""}
        else:
            error = {"type": "WorkflowCancelled", "message": "cancelled by %s: %s" % (
                command["actor"] if command else "system", (command or {}).get("reason") or signal.reason or ""),
                "traceback": ""}
        if command:
            ctx.carry.outcome(command["id"], CMD_APPLIED, "cancelled", now)
            ctx.carry.log(command_entry(command, CMD_APPLIED, "cancelled at a step boundary", now), now)
        self._end(ctx, CANCELLED, PHASE_ABORTED, error["message"], error=error)

    def _hand_back(self, ctx, signal):
        """Between steps, give the run back as PENDING on this executor; it continues from its checkpoints."""
        now = now_ms()
        first_start = _first_start(ctx)
        transitions = self.store.transitions
        try:
            handed = ctx.commit_once(lambda records: transitions.hand_back(ctx.workflow_uuid, ctx.fence, now,
                                                                           signal.reason, records, first_start))
        except:  # noqa: E722 - left RUNNING: adopted again as this executor's orphan
            return
        ctx.handed_back = bool(handed)


def _first_start(ctx):
    """The start (and deadline) of a first execution begun by a claim, written with its first status change."""
    if ctx.started_at_correction is None:
        return None
    return ctx.started_at_correction, ctx.deadline_at
