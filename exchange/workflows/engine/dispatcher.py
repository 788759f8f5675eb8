"""One dispatch tick: make in-memory starts durable, take runs over, start timed work (delayed runs, schedule
fires, debounce bursts, waits whose time came), release tag waits whose condition holds, claim queued work, hand
it to workers.

A full tick (the timer: Ignition's gateway timer event, or the standalone scheduler) also heartbeats, recovers
runs of dead executors, polls for commands and runs the sweeps. A light tick (a wake: a start in this process,
a NOTIFY, a worker freeing a slot) only flushes and claims, so work starts without waiting for the timer.
"""
import sys
import threading

from exchange.workflows.engine import policy, starts
from exchange.workflows.engine.tagwaits import TagWaitWatcher
from exchange.workflows.engine.timed import TimedWork
from exchange.workflows.store.statuses import ENQUEUED, HELD, RUNNING
from exchange.workflows.util.clock import now_ms
from exchange.workflows.util.errors import DatabaseError

FLUSH_BATCH = 500
SWEEP_EVERY_TICKS = 10
OUTAGE_BACKOFF_MS = (250, 10000)


def outage_backoff_ms(previous_ms, lease_ms):
    """The next pause of dispatch during a database outage: doubling, and never more than a third of the lease,
    so that once the database is back this gateway heartbeats again well inside the one lease the others give it."""
    first, most = OUTAGE_BACKOFF_MS
    most = max(first, min(most, lease_ms // 3))
    return min(max(previous_ms * 2, first), most)


class Dispatcher(object):
    def __init__(self, engine):
        self.engine = engine
        self.store = engine.store
        self.kernel = engine.kernel
        self.transitions = engine.store.transitions
        self.log = engine.logger("dispatcher")
        self.ticks = 0
        self.backlog = False
        self.backlog_queues = set()
        self._revisit = set()
        self._revisit_lock = threading.Lock()
        self._resubmit = {}  # run id -> resumed: claimed here while its previous execution still held its worker
        self._again = False
        self._backoff_ms = 0
        self._paused_until = 0
        self._judge_others_after = 0  # after an outage, other gateways get one lease to heartbeat again
        self.timed = TimedWork(engine, self)
        self.tag_waits = TagWaitWatcher(engine, self)

    # -- entry points ---------------------------------------------------------------------------------------------

    def tick(self, full=True):
        """Run one tick unless another thread is in one; that thread then runs it after its own.

        A full tick that finds a light one running is not dropped: its request stays in the kernel until a tick
        takes it, so a gateway whose dispatcher is woken all the time (a busy queue) still heartbeats and recovers
        every timer period."""
        if not self.engine.host.executes or self.engine.superseded():
            return False
        if full:
            self.kernel.set_flag("fullTickWanted", True)
        if not self.kernel.try_dispatch_lock():
            self._again = True
            return False
        try:
            while True:
                self._again = False
                self._guarded(self.kernel.take_flag("fullTickWanted"))
                if not self._again or self.engine.stopping():
                    break
        finally:
            self.kernel.release_dispatch_lock()
        return True

    def _guarded(self, full):
        now = now_ms()
        if now < self._paused_until:
            return
        try:
            self._tick(full, now)
            if self._backoff_ms:
                self.log.info("database reachable again: dispatch resumed")
                self.engine.note_db_back()
            self._backoff_ms = 0
        except DatabaseError as exc:
            if not exc.unavailable:
                self.log.error("dispatch failed: %s" % exc.message)
                return
            self._backoff_ms = outage_backoff_ms(self._backoff_ms, self.engine.config.lease_ms)
            self._paused_until = now_ms() + self._backoff_ms
            self.engine.note_db_outage(exc)
        except (KeyboardInterrupt, SystemExit):
            raise
        except:  # noqa: E722 - a tick must never kill the timer thread
            from exchange.workflows.engine.context import describe_error

            self.log.error("dispatch failed: %s" % describe_error(sys.exc_info())["traceback"])

    # -- the tick ---------------------------------------------------------------------------------------------------

    def _tick(self, full, now):
        engine = self.engine
        if full:
            self.ticks += 1
            if now - engine.last_heartbeat_ms > engine.config.lease_ms:
                # silent past the lease (paused, or cut off): others may have taken our runs; each running
                # execution checks before its next step (set before the heartbeat refreshes the clock)
                for ctx in engine.executions.all():
                    ctx.verify_ownership = True
            if not self.store.heartbeat(engine.executor_id, self.kernel.instance, engine.generation,
                                        self.kernel.active.size(), engine.state(), now):
                engine.lost_executor_id()
            else:
                engine.last_heartbeat_ms = now
            if self.store.dialect.supports_notify:
                engine.peers = self.store.live_peers(engine.executor_id, now - engine.config.lease_ms) > 0
        self.flush_memory_queue(now)
        if engine.stopping() or engine.usurped():
            return
        if full or self.kernel.take_flag("adoptOwn"):
            self.adopt_own(now)
        if full:
            self.recover_dead(now)
        self.timed.run(now, full)
        self.tag_waits.run(now, full)
        if not engine.draining():
            self.claim(now, full)
        if full:
            for workflow_uuid in self.store.runs_with_pending_commands(engine.executor_id):
                engine.hint(workflow_uuid)
            self.engine.flush_logs()
            if self.ticks % SWEEP_EVERY_TICKS == 1:
                self.sweep(now)

    def judge_others_after(self):
        """Until then (one lease after a database outage) other gateways are not judged dead by their heartbeat."""
        return self._judge_others_after

    def free_slots(self):
        return self.engine.pool_size - self.kernel.active.size()

    def submit(self, workflow_uuid, resumed=False, begun=None, woken=False):
        """Hand a run to a worker: one claimed PENDING (begun by the worker), or one that claim_and_begin began."""
        engine = self.engine
        generation = engine.generation
        if not self.kernel.active.put_if_absent(workflow_uuid, generation):
            if begun is None:
                # the run's last execution here has not quite left its worker (a waiting run woken by what it
                # awaited while it parked): it is submitted again once that worker is free
                with self._revisit_lock:
                    self._resubmit[workflow_uuid] = resumed
            return False
        runner = engine.runner

        def run():
            runner.execute(workflow_uuid, generation, resumed, begun)
        try:
            self.kernel.submit(run)
        except:  # noqa: E722 - a rejected submit (pool shut down) is a Java exception under Jython
            self.kernel.active.remove(workflow_uuid)
            if begun is not None:
                self.transitions.release_begun(begun, engine.executor_id, now_ms(),
                                               "released by %s: no worker could take it" % engine.executor_id)
            elif not woken:  # a woken run stays PENDING here: this executor (or a recovery) takes it up again
                self.transitions.release_claim(workflow_uuid, engine.executor_id, now_ms(), HELD if resumed else ENQUEUED)
            self.log.warn("run %s could not be started here; its claim was released" % workflow_uuid)
            return False
        return True

    # -- in-memory queue ----------------------------------------------------------------------------------------------

    def flush_memory_queue(self, now):
        """Insert what enqueueInMemory accepted; on a database error the entries go back to the queue."""
        total = 0
        while True:
            texts = self.kernel.memory_queue.drain(FLUSH_BATCH)
            if not texts:
                return total
            batch = []
            for text in texts:
                try:
                    batch.append(starts.repack(text))
                except (ValueError, IndexError, KeyError, TypeError):  # not one of ours, or a damaged one
                    self.log.error("dropped an unreadable in-memory start: %r" % (text[:200],))
            try:
                inserted = self.transitions.enqueue_packed(batch, now)
            except DatabaseError:
                for text in texts:
                    self.kernel.memory_queue.offer(text)
                raise
            for queue_name in set([queue for _, queue in inserted]):
                self.revisit(queue_name)
            if len(inserted) < len(batch):
                self._report_not_inserted(batch, set([wid for wid, _ in inserted]))
            total += len(texts)

    def _report_not_inserted(self, batch, inserted):
        for text in batch:
            row = starts.unpack(text)
            if row["workflow_uuid"] not in inserted:
                outcome, existing = self.store.why_not_inserted(row)
                self.log.warn("in-memory start %s was not inserted: %s %s" % (row["workflow_uuid"], outcome,
                                                                            existing or ""))

    # -- recovery ---------------------------------------------------------------------------------------------------

    def adopt_own(self, now):
        """Runs assigned to this executor that no thread here is executing: handed back, or left by a restart. A
        run of a workflow this gateway no longer has (its module reloaded without it) goes back to its queue, for a
        gateway that has it."""
        engine = self.engine
        for workflow_uuid, status, name in self.store.executing_on(engine.executor_id):
            if self.kernel.active.contains(workflow_uuid):
                continue
            if engine.registry.get(name) is None:
                self._give_back(workflow_uuid, status, name, now)
                continue
            if self.free_slots() <= 0:
                continue
            adopted = self.transitions.adopt(workflow_uuid, engine.executor_id, engine.generation, engine.executor_id,
                                             now, recovery=(status == RUNNING))
            self._start_adopted(workflow_uuid, adopted, now)

    def _give_back(self, workflow_uuid, status, name, now):
        engine = self.engine
        if status == RUNNING and self.transitions.adopt(workflow_uuid, engine.executor_id, engine.generation,
                                                        engine.executor_id, now, recovery=False) is None:
            return
        if self.transitions.release_claim(workflow_uuid, engine.executor_id, now, ENQUEUED):
            self.log.warn("run %s of workflow %s went back to its queue: it is not registered on this gateway"
                          % (workflow_uuid, name))

    def recover_dead(self, now):
        """Runs of executors whose heartbeat is older than the lease (or that stopped cleanly).

        A run found RUNNING was interrupted mid-execution and counts as a recovery attempt; one found PENDING
        (claimed but not begun, or handed back by a clean stop) does not. Taken runs count against this gateway's
        workerConcurrency like its own claims.
        """
        engine = self.engine
        if engine.take_outage_seen():
            # every gateway's heartbeat went stale during the outage, not only the dead ones': give the others
            # one lease to heartbeat again before judging them
            self._judge_others_after = now + engine.config.lease_ms
        free = self.free_slots()
        if free <= 0 or now < self._judge_others_after:
            return
        stale_before = now - engine.config.lease_ms
        orphans = self.store.orphans_of_dead_executors(engine.executor_id, stale_before, free, engine.names_json)
        if not orphans:
            return
        here = self.store.executing_per_queue(engine.executor_id)
        for workflow_uuid, old_executor, status, queue_name in orphans:
            queue = engine.queues.get(queue_name)
            limit = queue.worker_concurrency if queue else None
            if limit is not None and here.get(queue_name, 0) >= limit:
                continue
            adopted = self.transitions.adopt(workflow_uuid, engine.executor_id, engine.generation, old_executor, now,
                                             recovery=(status == RUNNING))
            if adopted is None:
                continue
            here[queue_name] = here.get(queue_name, 0) + 1
            self.log.info("took over run %s from executor %s (%s)" % (
                workflow_uuid, old_executor, "recovery attempt %d" % adopted[0] if status == RUNNING else "not begun"))
            self._start_adopted(workflow_uuid, adopted, now)

    def _start_adopted(self, workflow_uuid, adopted, now):
        if adopted is None:
            return
        attempts, name = adopted
        definition = self.engine.registry.get(name)
        limit = (definition.max_recovery_attempts if definition and definition.max_recovery_attempts is not None
                 else self.engine.config.max_recovery_attempts)
        if attempts > limit:
            self._give_up(workflow_uuid, attempts, limit, now)
            return
        self.submit(workflow_uuid)

    def _give_up(self, workflow_uuid, attempts, limit, now):
        error = {"type": "MaxRecoveryAttemptsExceeded", "traceback": "",
                 "message": "recovered %d times (limit %d): the run keeps crashing its gateway" % (attempts - 1, limit)}
        self.transitions.give_up(workflow_uuid, self.engine.executor_id, now, error)
        self.log.error("run %s: %s" % (workflow_uuid, error["message"]))

    # -- claims -----------------------------------------------------------------------------------------------------

    def claim(self, now, full):
        """Held runs with a command to apply first, then every queue with work.

        A light tick after a run finished only looks at the queues that still had a backlog; a start, a
        notification or the timer makes it ask the database which queues have work.
        """
        engine = self.engine
        free = self.free_slots()
        if free <= 0:
            self.backlog = True
            return
        self._submit_again()
        free = self.free_slots()
        if (full or self.kernel.take_flag("heldCommand")) and free > 0:
            held = self.transitions.claim_held(engine.executor_id, engine.generation, free, now, policy.WAKES_HELD,
                                               engine.names_json)
            for workflow_uuid in held:
                self.submit(workflow_uuid, resumed=True)
            if len(held) == free:
                self.kernel.set_flag("heldCommand", True)  # more may wait: claimed when a worker frees
        flagged = self.kernel.take_flag("waitsWoken")  # taken even on a full tick, which claims them anyway
        if full or flagged:
            if full:
                self.transitions.wake_all_ready(now)  # the fallback for a wake-up lost with a process
            free = self.free_slots()
            woken = self.transitions.claim_woken(engine.executor_id, engine.generation, free, now_ms(),
                                                 engine.names_json)
            for workflow_uuid in woken:
                self.submit(workflow_uuid, woken=True)
            if free <= 0 or len(woken) == free:
                self.kernel.set_flag("waitsWoken", True)
        backlog = set()
        revisit = self._take_revisit() | self.backlog_queues
        if full or self.kernel.take_flag("newWork") or not revisit:
            waiting = self.store.queues_with_work()
        else:
            waiting = dict([(name, engine.config.claim_batch) for name in revisit])
        for name in sorted(waiting):
            free = self.free_slots()
            if free <= 0:
                backlog.update([n for n in waiting if n >= name])
                break
            queue = engine.queues.get(name)
            want = min(free, waiting[name], engine.config.claim_batch)
            claimed = self.transitions.claim_and_begin(
                name, engine.executor_id, engine.generation, want, now_ms(),
                concurrency=queue.concurrency if queue else None,
                worker_concurrency=queue.worker_concurrency if queue else None,
                rate_limit=queue.rate_limit if queue else None,
                rate_period_ms=queue.rate_period_ms if queue else None, names=engine.names_json)
            for begun in claimed:
                self.submit(begun["workflow_uuid"], begun=begun)
            if len(claimed) == want and want < waiting[name]:
                backlog.add(name)  # got all it asked for and more is waiting: come back when a slot frees
        self.backlog_queues = backlog
        self.backlog = bool(backlog)

    def _submit_again(self):
        """Runs claimed here while their previous execution still held its worker: that worker is free now."""
        with self._revisit_lock:
            waiting, self._resubmit = self._resubmit, {}
        for workflow_uuid, resumed in waiting.items():
            self.submit(workflow_uuid, resumed=resumed, woken=True)

    def revisit(self, queue_name):
        """Look at this queue in the next light tick: a run was queued on it, or one of its runs ended."""
        with self._revisit_lock:
            self._revisit.add(queue_name)

    def _take_revisit(self):
        with self._revisit_lock:
            names, self._revisit = self._revisit, set()
        return names

    # -- upkeep -----------------------------------------------------------------------------------------------------

    def sweep(self, now):
        self.store.supersede_commands_of_finished_runs(now)
        self.store.tag_waits.sweep()
        for workflow_uuid in self.store.parked_past_deadline(now):
            error = {"type": "WorkflowTimeout", "message": "the run passed its deadline while parked (held or "
                     "waiting)", "traceback": ""}
            self.transitions.expire_parked(workflow_uuid, now, error)
