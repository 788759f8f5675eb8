"""The kernel for CPython hosts (tests and tools): threads and shared state as plain Python objects.

It keeps the host.kernel.Kernel contract, like kernel_java.JavaKernel.
"""
import threading
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from exchange.workflows.host.kernel import Kernel


class _Set(object):
    def __init__(self):
        self._items = set()
        self._lock = threading.Lock()

    def add(self, item):
        with self._lock:
            self._items.add(item)

    def take(self, item):
        with self._lock:
            if item in self._items:
                self._items.discard(item)
                return True
            return False

    def peek(self, item):
        return item in self._items


class _Map(object):
    def __init__(self):
        self._items = {}
        self._lock = threading.Lock()

    def put(self, key, value):
        with self._lock:
            self._items[key] = value

    def put_if_absent(self, key, value):
        with self._lock:
            if key in self._items:
                return False
            self._items[key] = value
            return True

    def remove(self, key):
        with self._lock:
            self._items.pop(key, None)

    def replace(self, key, old, new):
        """Set key to new only while it still holds old; True when it did."""
        with self._lock:
            if self._items.get(key) != old:
                return False
            self._items[key] = new
            return True

    def remove_if(self, key, old):
        with self._lock:
            if self._items.get(key) != old:
                return False
            del self._items[key]
            return True

    def contains(self, key):
        return key in self._items

    def get(self, key):
        return self._items.get(key)

    def size(self):
        return len(self._items)

    def keys(self):
        with self._lock:
            return list(self._items)


class _Queue(object):
    def __init__(self):
        self._items = deque()

    def offer(self, item):
        self._items.append(item)

    def drain(self, limit):
        out = []
        while len(out) < limit:
            try:
                out.append(self._items.popleft())
            except IndexError:
                break
        return out

    def size(self):
        return len(self._items)


class _Loop(object):
    """One daemon thread running a function every `delay_ms` (fixed delay), and woken functions in between.

    Wakes never push the periodic run back: on a busy queue the dispatcher is woken many times a second, and the
    timer tick (heartbeat, recovery, command poll) must still run every period."""

    def __init__(self, name, fn, delay_ms):
        self._fn = fn
        self._delay = delay_ms / 1000.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._soon = []
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name=name)
        self.thread.daemon = True
        self.thread.start()

    def _run(self):
        due = time.time() + self._delay
        while not self._stop.is_set():
            self._wake.wait(max(0.0, due - time.time()))
            self._wake.clear()
            if self._stop.is_set():
                break
            with self._lock:
                soon, self._soon = self._soon, []
            for fn in soon:
                _quietly(fn)
            if time.time() >= due:
                _quietly(self._fn)
                due = time.time() + self._delay

    def run_soon(self, fn):
        with self._lock:
            self._soon.append(fn)
        self._wake.set()

    def cancel(self):
        self._stop.set()
        self._wake.set()


def _quietly(fn):
    try:
        fn()
    except Exception:  # a scheduled task never kills its thread
        pass


class PyKernel(Kernel):
    def __init__(self):
        self.instance = str(uuid.uuid4())
        self._generation = 0
        self._gen_lock = threading.Lock()
        self.hints = _Set()
        self.active = _Map()
        self.memory_queue = _Queue()
        self.debounces = _Map()
        self._flags = {}
        self._counters = {}
        self._dispatch_lock = threading.Lock()
        self._wake_pending = threading.Event()
        self._linger_pending = threading.Event()
        self._workers = None
        self._pool_size = 0
        self._loop = None
        self._tasks = {}
        self._timers = {}

    def generation(self):
        return self._generation

    def new_generation(self):
        with self._gen_lock:
            self._generation += 1
            return self._generation

    def flag(self, name):
        return bool(self._flags.get(name))

    def set_flag(self, name, value):
        self._flags[name] = bool(value)

    def take_flag(self, name):
        """Read and clear a flag in one step."""
        return bool(self._flags.pop(name, False))

    def count(self, name, delta=1):
        with self._gen_lock:
            self._counters[name] = self._counters.get(name, 0) + delta
            return self._counters[name]

    def counters(self):
        return dict(self._counters)

    def try_dispatch_lock(self):
        return self._dispatch_lock.acquire(False)

    def release_dispatch_lock(self):
        self._dispatch_lock.release()

    def ensure_workers(self, size):
        if self._workers is None:
            self._workers = ThreadPoolExecutor(max_workers=size, thread_name_prefix="workflows-worker")
            self._pool_size = size
        return self._pool_size

    def retire_threads(self):
        """CPython hosts have no script reloads; a new engine on this kernel simply reuses its threads."""

    def submit(self, fn):
        self._workers.submit(fn)

    def start_ticks(self, fn, delay_ms):
        if self._loop is None:
            self._loop = _Loop("workflows-dispatcher", fn, delay_ms)

    def schedule_repeating(self, name, fn, delay_ms):
        """Run fn every delay_ms on its own thread; scheduling the same name again replaces the previous task."""
        old = self._tasks.pop(name, None)
        if old is not None:
            old.cancel()
        self._tasks[name] = _Loop("workflows-" + name, fn, delay_ms)

    def wake(self, fn, delay_ms=0):
        """Run fn on the dispatcher thread soon (or after delay_ms); pending wakes of each kind coalesce."""
        if self._loop is None:
            return False
        pending = self._linger_pending if delay_ms else self._wake_pending
        if not pending.is_set():
            pending.set()

            def once():
                pending.clear()
                fn()
            if delay_ms:
                loop = self._loop
                timer = threading.Timer(delay_ms / 1000.0, lambda: loop.run_soon(once))
                timer.daemon = True
                timer.start()
            else:
                self._loop.run_soon(once)
        return True

    def run_later(self, name, fn, delay_ms):
        if self._loop is None:
            return False
        old = self._timers.pop(name, None)
        if old is not None:
            old.cancel()
        loop = self._loop
        timer = threading.Timer(max(0, delay_ms) / 1000.0, lambda: loop.run_soon(fn))
        timer.daemon = True
        self._timers[name] = timer
        timer.start()
        return True

    def shutdown(self, wait_s):
        for task in self._tasks.values():
            task.cancel()
        self._tasks = {}
        for timer in self._timers.values():
            timer.cancel()
        self._timers = {}
        if self._loop is not None:
            self._loop.cancel()
            self._loop.thread.join(wait_s)
            self._loop = None
        # a wake that was pending will never run now: do not let it swallow the wakes of a restart
        self._wake_pending.clear()
        self._linger_pending.clear()
        if self._workers is not None:
            self._workers.shutdown(wait=False)
            deadline = wait_s
            start = time.time()
            while self.active.size() and time.time() - start < deadline:
                time.sleep(0.02)
            self._workers = None
