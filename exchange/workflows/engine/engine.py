"""The engine of one interpreter: store, registry, runner and dispatcher wired to a host, plus its lifecycle."""
import threading

from exchange.workflows.engine import debounce, defaults, reloads, schedules
from exchange.workflows.engine.dispatcher import Dispatcher
from exchange.workflows.engine.executions import Executions
from exchange.workflows.engine.queues import QUEUES
from exchange.workflows.engine.registry import REGISTRY
from exchange.workflows.engine.runner import Runner
from exchange.workflows.store.store import Store
from exchange.workflows.store.transitions import NOTIFY_CHANNEL, WAKE_PAYLOAD
from exchange.workflows.util.clock import now_ms
from exchange.workflows.util.errors import ExecutorIdInUse, WorkflowsError
from exchange.workflows.util.jsoncodec import dumps, loads


LOG_FLUSH_MS = 250
PEER_PAYLOAD = "peer@"  # NOTIFY of a gateway that starts: "peer@<kernel instance>"
STEP_START_LOG_AFTER_MS = 500
ID_WATCH_INTERVALS = 2  # heartbeat intervals of the holder to watch before judging its id free
ID_WATCH_MARGIN_MS = 500


class EngineConfig(object):
    """Settings of one gateway (executor). Defaults suit a single Ignition gateway."""

    def __init__(self, executor_id=None, workers=defaults.WORKERS, tick_ms=defaults.TICK_MS,
                 lease_ms=defaults.LEASE_MS, max_recovery_attempts=defaults.MAX_RECOVERY_ATTEMPTS, claim_batch=64,
                 allow_undeclared_queues=False, modules=None, listen=True, migrate=True, own_timer=True,
                 shutdown_grace_s=defaults.SHUTDOWN_GRACE_S):
        self.executor_id = executor_id
        self.workers = int(workers)
        self.tick_ms = int(tick_ms)
        self.lease_ms = int(lease_ms)
        self.max_recovery_attempts = int(max_recovery_attempts)
        self.claim_batch = int(claim_batch)
        self.allow_undeclared_queues = bool(allow_undeclared_queues)
        self.modules = list(modules or [])
        self.listen = listen
        self.migrate = migrate
        self.own_timer = own_timer  # False in Ignition: a gateway timer event calls dispatch()
        self.shutdown_grace_s = shutdown_grace_s


class Engine(object):
    def __init__(self, host, config=None, registry=None, queues=None):
        self.host = host
        self.kernel = host.kernel
        self.config = config or EngineConfig()
        self.store = Store(host.db)
        self.registry = registry or REGISTRY
        self.queues = queues or QUEUES
        self.executor_id = self.config.executor_id or "%s-%s" % (host.kind, host.hostname)
        self.generation = self.kernel.new_generation() if host.executes else self.kernel.generation()
        self.pool_size = 0
        self.executions = Executions()
        self._log = host.logger("engine")
        self.runner = Runner(self)
        self.dispatcher = Dispatcher(self)
        self._light_tick = self._light_tick  # one bound method, so the kernel can reuse its Runnable
        self._listener_stop = threading.Event()
        self._outage = [False]
        self.started = False
        self.peers = True  # other live gateways on this database (a start NOTIFYs them); each full tick updates it
        self.module_errors = {}
        self.names_json = None  # the registered workflows as a JSON array: claims take only runs of these
        self.last_heartbeat_ms = now_ms()
        transitions = self.store.transitions
        transitions.on_woken = self._waits_woken if host.executes else None
        # a gateway alone on its database claims what it woke itself; anyone else must tell the gateways
        transitions.notify_wakes = lambda: self.peers or not self.host.executes

    def logger(self, area):
        return self.host.logger(area)

    # -- lifecycle --------------------------------------------------------------------------------------------------

    def prepare(self):
        """Schema and workflow modules: what every scope needs before it can start runs."""
        if self.config.migrate:
            applied = self.store.migrate(now_ms())
            if applied:
                self._log.info("schema migrated to version %d" % applied[-1])
        self.module_errors = self.registry.load_modules(self.config.modules)
        for name, error in sorted(self.module_errors.items()):
            self._log.error("workflow module %s failed to import: %s" % (name, error))

    def start(self):
        """Prepare, then (gateway scope only) register the executor, start workers, ticks and the listener."""
        self.prepare()
        if not self.host.executes:
            return self
        self.check_executor_id()
        self.kernel.set_flag("stopping", False)
        if self.generation > 1:
            self.kernel.retire_threads()  # the previous generation's threads finish and end; this one gets new ones
        self.pool_size = self.kernel.ensure_workers(self.config.workers)
        previous = self.store.executor_workflows(self.executor_id)  # what this gateway had before this start
        self.register()
        if self.store.dialect.supports_notify:
            self.store.notify(PEER_PAYLOAD + self.kernel.instance)  # gateways that thought they were alone: not now
        self.publish_definitions()
        self._log_code(previous)
        if self.config.own_timer:
            self.kernel.start_ticks(self.dispatch, self.config.tick_ms)
        self.kernel.schedule_repeating("logFlush", self.flush_logs, LOG_FLUSH_MS)
        if self.config.listen and self.host.can_listen():
            self._listener_stop.clear()
            self.host.start_thread("workflows-listener", self._listen)
        self.started = True
        self.dispatch()
        return self

    def check_executor_id(self):
        """Refuse to start under an id a live gateway holds: ExecutorIdInUse.

        A holder that stopped cleanly, or whose heartbeat is older than the lease, is gone. One that heartbeat
        within the lease is either alive or crashed a moment ago (a restart after kill -9 or a power loss): watch
        its heartbeat for two of its intervals; if it advances the id is in use, otherwise the id is taken over at
        once (and with it, on the first tick, the runs the crashed process left)."""
        holder = self.store.executor_holder(self.executor_id)
        if not self._may_be_live(holder, now_ms()):
            return
        interval = holder["heartbeat_ms"] or defaults.TICK_MS
        watch_until = now_ms() + min(self.config.lease_ms, ID_WATCH_INTERVALS * interval + ID_WATCH_MARGIN_MS)
        while now_ms() < watch_until:
            self.host.sleep(min(0.25, max(0.0, (watch_until - now_ms()) / 1000.0)))
            seen = self.store.executor_holder(self.executor_id)
            if seen is None or seen["state"] == "stopped":
                return
            if seen["instance"] != holder["instance"] or seen["heartbeat_at"] > holder["heartbeat_at"]:
                raise ExecutorIdInUse(
                    "executor id %s is in use by a live gateway on %s (heartbeat %d ms ago): give this gateway its "
                    "own id (./gateway run --executor-id ID; in Ignition: startGateway(executorId=...))"
                    % (self.executor_id, seen["host"], max(0, now_ms() - seen["heartbeat_at"])),
                    data={"executorId": self.executor_id, "host": seen["host"]})
        self._log.info("executor id %s: the heartbeat of its previous process (on %s) has stopped: taking the id "
                       "over" % (self.executor_id, holder["host"]))

    def _may_be_live(self, holder, now):
        return (holder is not None and holder["instance"] != self.kernel.instance and holder["state"] != "stopped"
                and holder["heartbeat_at"] >= now - self.config.lease_ms)

    def register(self):
        """Take this executor id (a restart takes it back at once and adopts its own runs on the first tick)."""
        self.kernel.set_flag("usurped", False)
        now = now_ms()
        self.store.register_executor(self.executor_id, self.kernel.instance, self.host.hostname, self.host.kind,
                                     self.generation, self.pool_size, self.config.tick_ms, now)
        self.last_heartbeat_ms = now

    def lost_executor_id(self):
        """The heartbeat found another process registered under our id: stop claiming and adopting; our running
        executions are fenced by run_count and record nothing more."""
        holder = self.store.executor_instance(self.executor_id)
        if holder is None:
            self.register()  # the row was deleted: take it again
            return
        if not self.usurped():
            self.kernel.set_flag("usurped", True)
            self._log.error("another gateway process registered executor id %s: this one stops dispatching. Give "
                            "every gateway its own id (--executor-id / executorId)." % self.executor_id)

    def usurped(self):
        return self.kernel.flag("usurped")

    def publish_definitions(self):
        """Write the registered workflows and declared queues to the database, for UIs and other scopes, and which
        workflows (and versions) this executor has; claims take only runs of those from now on."""
        now = now_ms()
        definitions = self.registry.all()
        self.names_json = dumps([d.name for d in definitions])
        self.store.publish_definitions("workflow_definitions", [
            {"name": d.name, "definition": dumps(d.as_dict()), "module": d.module, "description": d.description}
            for d in definitions], self.executor_id, now)
        if self.host.executes:
            self.store.set_executor_workflows(self.executor_id, self.kernel.instance, dumps(self.registry.versions()))
        self.store.publish_definitions("queues", [{"name": q.name, "definition": dumps(q.as_dict())}
                                                  for q in self.queues.all()], self.executor_id, now)
        schedules.sync_declared(self, now)

    def _log_code(self, previous):
        """At a start (in Ignition also the start of a project save's new scripts): the modules loaded and what
        changed in the registry since this gateway's previous start."""
        changes = reloads.compare(loads(previous) if previous else {}, self.registry.versions())
        changes.update({"modules": list(self.registry.modules), "errors": self.module_errors,
                        "generation": self.generation if self.generation > 1 else None})
        self._log.info(reloads.describe(changes, "generation %d loaded" % self.generation))

    def reload_code(self, modules=None, folders=None):
        """Load workflow modules again (SIGHUP of the standalone gateway, admin.loadModules): see reloads.py.
        Returns what changed; the gateway log names the modules and the registry's changes."""
        changes = reloads.reload_modules(self, modules, folders)
        self._log.info(reloads.describe(changes))
        self.module_errors.update(changes["errors"])
        return changes

    def code_reloaded(self):
        """After modules were loaded again in this interpreter: a new generation when executing (each running run
        hands itself back at its next step boundary and is continued here under the new code), and the
        definitions published; the new generation's number, or None."""
        generation = None
        if self.host.executes and self.started:
            self.generation = self.kernel.new_generation()
            generation = self.generation
        if self.host.executes:
            self.publish_definitions()
        return generation

    def handed_back(self):
        """A run of this gateway was handed back between steps (a reload): continue it here at once, not at the
        next full tick."""
        if self.host.executes and not self.stopping():
            self.kernel.set_flag("adoptOwn", True)
            self.wake(new_work=False)

    def stop(self, grace_s=None):
        """Stop claiming, let running steps finish and hand their runs back, flush the in-memory queue."""
        grace_s = self.config.shutdown_grace_s if grace_s is None else grace_s
        self.kernel.set_flag("stopping", True)
        self._listener_stop.set()
        for ctx in self.executions.all():
            ctx.wake.set()
        try:
            self.dispatcher.flush_memory_queue(now_ms())
            written = debounce.write_open_bursts(self, now_ms())
            if written:
                self._log.info("%d open in-memory debounce burst(s) written as delayed runs" % written)
        except WorkflowsError as exc:
            self._log.error("in-memory starts could not be flushed at shutdown: %s" % exc.message)
        self.kernel.shutdown(grace_s)
        try:
            self.store.mark_executor_stopped(self.executor_id, self.kernel.instance, now_ms())
        except WorkflowsError:
            pass
        self.started = False

    # -- dispatch -----------------------------------------------------------------------------------------------------

    def dispatch(self):
        """One full tick (the timer)."""
        return self.dispatcher.tick(full=True)

    def superseded(self):
        """True in an interpreter whose scripts a reload replaced: it must not claim or stop anything."""
        return self.host.executes and self.kernel.generation() != self.generation

    def wake(self, new_work=True, delay_ms=0):
        """Ask for a light tick soon (or after delay_ms); coalesced.

        new_work: runs may have been added to queues we cannot name, so the tick asks which queues have work;
        otherwise it revisits the queues it was told about (work_added, run_finished) and those with a backlog.
        """
        if self.host.executes and not self.stopping() and not self.superseded():
            if new_work:
                self.kernel.set_flag("newWork", True)
            self.kernel.wake(self._light_tick, delay_ms)

    def _light_tick(self):
        self.dispatcher.tick(full=False)

    def work_added(self, queue_name):
        """A run was queued on `queue_name` (a start here, or a NOTIFY from another process): claim it now."""
        if self.host.executes:
            self.dispatcher.revisit(queue_name)
            self.wake(new_work=False)

    def run_finished(self, queue_name=None):
        """A worker is free again: claim the next run of its queue (and of queues with a backlog) now."""
        if queue_name is not None:
            self.dispatcher.revisit(queue_name)
            self.wake(new_work=False)
        elif self.dispatcher.backlog:
            self.wake(new_work=False)

    def flush_logs(self):
        """Write step log entries that wait in memory, and the 'started' entry of steps that run long.

        Steps leave their log entries in memory so that a step costs one INSERT; this runs every LOG_FLUSH_MS on
        the kernel scheduler, so the console sees them well within a second.
        """
        now = now_ms()
        for ctx in self.executions.all():
            try:
                ctx.flush_log(now, STEP_START_LOG_AFTER_MS)
            except WorkflowsError:
                pass  # the database is away: the entries stay in memory and go with the next write

    def timed_work_added(self, at_ms=None):
        """A delayed run, a debounce burst or a schedule fire is due at `at_ms` (None: look in the database)."""
        if self.host.executes and not self.stopping() and not self.superseded():
            self.dispatcher.timed.added(at_ms)

    def schedules_changed(self):
        self.timed_work_added(None)

    def _waits_woken(self, workflow_uuids):
        """Waiting runs became ready: claim them now."""
        self.kernel.set_flag("waitsWoken", True)
        self.wake(new_work=False)

    def hint(self, workflow_uuid):
        """A command is waiting for this run: the next boundary reads it (and a waiting run wakes up)."""
        self.kernel.hints.add(workflow_uuid)
        ctx = self.executions.get(workflow_uuid)
        if ctx is not None:
            ctx.poke()

    def stopping(self):
        return self.kernel.flag("stopping")

    def draining(self):
        return self.kernel.flag("draining")

    def state(self):
        if self.stopping():
            return "stopping"
        if self.usurped():
            return "usurped"
        return "draining" if self.draining() else "running"

    def sleep(self, seconds):
        self.host.sleep(seconds)

    def note_db_outage(self, exc):
        self.kernel.set_flag("outageSeen", True)
        if not self._outage[0]:
            self._outage[0] = True
            self._log.error("database unreachable, retrying: %s" % exc.message)

    def take_outage_seen(self):
        """True once after any thread of this gateway met the database unreachable."""
        return self.kernel.take_flag("outageSeen")

    def note_db_back(self):
        self._outage[0] = False

    # -- notifications ----------------------------------------------------------------------------------------------

    def _listen(self):
        self.host.db.listen(NOTIFY_CHANNEL, self.on_notification, self._listener_stop)

    def on_notification(self, payload):
        payload = payload or ""
        if payload.startswith("cmd:"):
            self.hint(payload[4:])
            self.kernel.set_flag("heldCommand", True)
            self.wake(new_work=False)
        elif payload.startswith("start@"):
            origin, _, queue_name = payload[6:].partition(":")
            if origin != self.kernel.instance:  # our own starts woke this dispatcher already
                self.work_added(queue_name)
        elif payload.startswith("delayed@"):
            origin, _, at = payload[8:].partition(":")
            if origin != self.kernel.instance:
                self.timed_work_added(int(at) if at.isdigit() else None)
        elif payload == WAKE_PAYLOAD:
            self.kernel.set_flag("waitsWoken", True)
            self.wake(new_work=False)
        elif payload.startswith(PEER_PAYLOAD):
            if payload[len(PEER_PAYLOAD):] != self.kernel.instance:
                self.peers = True
        elif payload.startswith("start:"):  # a gateway of an earlier version
            self.work_added(payload[6:])
        else:
            self.wake()

