"""The kernel for Jython hosts (standalone and Ignition): what must outlive a script reload (host.kernel.Kernel).

Everything it keeps is a Java object inside one java.util.concurrent.ConcurrentHashMap stored in a globals map
(`system.util.getGlobals()` in Ignition), created once per JVM and project. A reload creates a new interpreter
with new Python modules; it finds the same executors, queues, hints and counters here and starts a new
generation, so workers still running old code hand their runs over at the next step boundary.

    generation      AtomicLong: bumped by each interpreter that executes workflows
    hints           set of run ids with commands waiting (checked at step boundaries, in memory)
    active          run id -> generation, for runs executing on this JVM
    memoryQueue     JSON texts from enqueueInMemory, made durable by the next dispatch
    workers         fixed thread pool (bounded): the runs
    scheduler       one thread: dispatcher wakes (and, standalone, the timer tick)
    flags, counters, dispatchLock, wakePending, instance
"""
import uuid

from java.lang import Boolean, Runnable, Throwable
from java.util.concurrent import (ConcurrentHashMap, ConcurrentLinkedQueue, Executors, ThreadPoolExecutor, TimeUnit,
                                  LinkedBlockingQueue)
from java.util.concurrent.atomic import AtomicBoolean, AtomicLong
from java.util.concurrent.locks import ReentrantLock

from exchange.workflows.host.kernel import Kernel


class _SafeRunnable(Runnable):
    """Runs a Python function and swallows whatever it raises, so a scheduled task is never cancelled by an error."""

    def __init__(self, fn):
        self.fn = fn

    def run(self):
        try:
            self.fn()
        except (Exception, Throwable):
            pass


class _Hints(object):
    """A concurrent set kept as a map to Boolean.TRUE (Jython gives java.util.Set.remove Python's KeyError)."""

    def __init__(self, java_map):
        self._map = java_map

    def add(self, item):
        self._map.put(item, Boolean.TRUE)

    def take(self, item):
        return bool(self._map.remove(item, Boolean.TRUE))

    def peek(self, item):
        return bool(self._map.containsKey(item))


class _Active(object):
    def __init__(self, java_map):
        self._map = java_map

    def put(self, key, value):
        self._map.put(key, AtomicLong(value))

    def put_if_absent(self, key, value):
        return self._map.putIfAbsent(key, AtomicLong(value)) is None

    def remove(self, key):
        self._map.remove(key)

    def contains(self, key):
        return bool(self._map.containsKey(key))

    def get(self, key):
        value = self._map.get(key)
        return None if value is None else value.get()

    def size(self):
        return self._map.size()

    def keys(self):
        return list(self._map.keySet())


class _Texts(object):
    """A map of texts to texts with compare-and-set updates (the in-memory debounce bursts)."""

    def __init__(self, java_map):
        self._map = java_map

    def get(self, key):
        return self._map.get(key)

    def put_if_absent(self, key, value):
        return self._map.putIfAbsent(key, value) is None

    def replace(self, key, old, new):
        return bool(self._map.replace(key, old, new))

    def remove_if(self, key, old):
        return bool(self._map.remove(key, old))

    def size(self):
        return self._map.size()

    def keys(self):
        return list(self._map.keySet())


class _Queue(object):
    def __init__(self, java_queue):
        self._queue = java_queue

    def offer(self, item):
        self._queue.offer(item)

    def drain(self, limit):
        out = []
        while len(out) < limit:
            item = self._queue.poll()
            if item is None:
                break
            out.append(item)
        return out

    def size(self):
        return self._queue.size()


class JavaKernel(Kernel):
    def __init__(self, globals_map, key="exchange.workflows.kernel"):
        store = globals_map.get(key)
        if store is None:
            globals_map.setdefault(key, ConcurrentHashMap())
            store = globals_map.get(key)
        self._store = store
        self._wake_runnables = {}  # per interpreter (never in the globals)
        # made once per gateway and never replaced, so this interpreter may keep them (read at every step boundary)
        self._generation = self._obj("generation", AtomicLong)
        self._obj("instance", lambda: str(uuid.uuid4()))
        self._flags = self._obj("flags", ConcurrentHashMap)
        self._obj("counters", ConcurrentHashMap)
        self._obj("dispatchLock", ReentrantLock)
        self._obj("wakePending", AtomicBoolean)
        self._obj("lingerPending", AtomicBoolean)
        self._obj("scheduler", lambda: Executors.newSingleThreadScheduledExecutor())
        self.instance = self._store.get("instance")
        self.hints = _Hints(self._obj("hints", ConcurrentHashMap))
        self.active = _Active(self._obj("active", ConcurrentHashMap))
        self.memory_queue = _Queue(self._obj("memoryQueue", ConcurrentLinkedQueue))
        self.debounces = _Texts(self._obj("debounces", ConcurrentHashMap))

    def _obj(self, name, make):
        value = self._store.get(name)
        if value is None:
            self._store.putIfAbsent(name, make())
            value = self._store.get(name)
        return value

    def generation(self):
        return self._generation.get()

    def new_generation(self):
        return self._generation.incrementAndGet()

    def flag(self, name):
        value = self._flags.get(name)
        return bool(value) if value is not None else False

    def set_flag(self, name, value):
        self._flags.put(name, Boolean(bool(value)))

    def take_flag(self, name):
        """Read and clear a flag in one step."""
        return bool(self._flags.remove(name, Boolean.TRUE))

    def count(self, name, delta=1):
        counters = self._store.get("counters")
        counter = counters.get(name)
        if counter is None:
            counters.putIfAbsent(name, AtomicLong())
            counter = counters.get(name)
        return counter.addAndGet(delta)

    def counters(self):
        counters = self._store.get("counters")
        return dict([(k, counters.get(k).get()) for k in counters.keySet()])

    def try_dispatch_lock(self):
        return self._store.get("dispatchLock").tryLock()

    def release_dispatch_lock(self):
        self._store.get("dispatchLock").unlock()

    def ensure_workers(self, size):
        pool = self._store.get("workers")
        if pool is None or pool.isShutdown():
            self._store.remove("workers")
            pool = ThreadPoolExecutor(size, size, 60, TimeUnit.SECONDS, LinkedBlockingQueue())
            self._store.putIfAbsent("workers", pool)
            pool = self._store.get("workers")
        return pool.getMaximumPoolSize()

    def retire_threads(self):
        """A new generation begins: the old worker pool and scheduler finish what they run (their runs hand back
        at the next boundary), then their threads end; ensure_workers and the scheduler make fresh ones, so no
        thread that ran old code is reused by the new."""
        for name in ("workers", "scheduler"):
            executor = self._store.get(name)
            if executor is not None and not executor.isShutdown():
                executor.shutdown()
        for key in list(self._store.keySet()):
            if key == "tick" or key.startswith("task:"):
                self._store.remove(key).cancel(False)

    def submit(self, fn):
        self._store.get("workers").execute(_SafeRunnable(fn))

    def start_ticks(self, fn, delay_ms):
        """Standalone only: a fixed-delay tick, like an Ignition gateway timer event."""
        if self._store.get("tick") is None:
            scheduler = self._scheduler()
            self._store.put("tick", scheduler.scheduleWithFixedDelay(_SafeRunnable(fn), delay_ms, delay_ms,
                                                                      TimeUnit.MILLISECONDS))

    def schedule_repeating(self, name, fn, delay_ms):
        """Run fn every delay_ms on the scheduler thread; the same name again replaces the old task."""
        key = "task:" + name
        old = self._store.remove(key)
        if old is not None:
            old.cancel(False)
        self._store.put(key, self._scheduler().scheduleWithFixedDelay(_SafeRunnable(fn), delay_ms, delay_ms,
                                                                       TimeUnit.MILLISECONDS))

    def _scheduler(self):
        scheduler = self._store.get("scheduler")
        if scheduler.isShutdown():
            self._store.put("scheduler", Executors.newSingleThreadScheduledExecutor())
            scheduler = self._store.get("scheduler")
        return scheduler

    def wake(self, fn, delay_ms=0):
        """Run fn on the scheduler thread soon (or after delay_ms); pending wakes of each kind coalesce into one run.

        A delayed wake lets a burst of calls share one run (the in-memory starts of a tag storm, one flush).
        """
        pending = self._store.get("lingerPending" if delay_ms else "wakePending")
        if pending.compareAndSet(False, True):
            key = (fn, bool(delay_ms))
            runnable = self._wake_runnables.get(key)
            if runnable is None:  # one Runnable per function: building a Java proxy per wake is costly
                def once():
                    pending.set(False)
                    fn()
                runnable = self._wake_runnables[key] = _SafeRunnable(once)
            try:
                if delay_ms:
                    self._scheduler().schedule(runnable, int(delay_ms), TimeUnit.MILLISECONDS)
                else:
                    self._scheduler().execute(runnable)
            except Throwable:
                pending.set(False)
                return False
        return True

    def run_later(self, name, fn, delay_ms):
        """A one-shot task on the scheduler thread, kept as a task (retire_threads and shutdown cancel it)."""
        key = "task:once:" + name
        old = self._store.remove(key)
        if old is not None:
            old.cancel(False)
        try:
            self._store.put(key, self._scheduler().schedule(_SafeRunnable(fn), max(0, int(delay_ms)),
                                                            TimeUnit.MILLISECONDS))
        except Throwable:
            return False
        return True

    def shutdown(self, wait_s):
        for key in list(self._store.keySet()):
            if key == "tick" or key.startswith("task:"):
                self._store.remove(key).cancel(False)
        scheduler = self._store.remove("scheduler")
        if scheduler is not None:
            scheduler.shutdown()
            scheduler.awaitTermination(int(wait_s * 1000), TimeUnit.MILLISECONDS)
        pool = self._store.remove("workers")
        if pool is not None:
            pool.shutdown()
            pool.awaitTermination(int(wait_s * 1000), TimeUnit.MILLISECONDS)
            pool.shutdownNow()
