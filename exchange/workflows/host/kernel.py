"""The contract of a kernel: the state and threads of a gateway that must outlive a script reload.

Two kernels keep it: kernel_java.JavaKernel (Jython: Java objects kept in a globals map, so Ignition's new script
interpreter after a project save finds them) and kernel_py.PyKernel (CPython tests and tools). Besides the methods
below, a kernel has these attributes:

    instance      a text id of this JVM's (or process's) kernel, new at each start of the process
    hints         set of run ids with a command waiting: add(id), take(id) -> bool, peek(id) -> bool
    active        map run id -> generation of the runs executing here: put, put_if_absent -> bool, remove,
                  contains, get, size, keys
    memory_queue  queue of texts (packed in-memory starts): offer(text), drain(limit) -> list, size()
    debounces     map of texts (in-memory debounce bursts): get, put_if_absent -> bool, replace(key, old, new) ->
                  bool, remove_if(key, old) -> bool, size, keys
"""


class Kernel(object):
    """Base class of the kernels; the methods below say what each must do."""

    def generation(self):
        """The number of the newest interpreter that executes workflows here."""
        raise NotImplementedError

    def new_generation(self):
        """Start a new generation (an interpreter begins executing); returns its number."""
        raise NotImplementedError

    def flag(self, name):
        """A named boolean shared by every generation (stopping, draining, usurped, ...); False when unset."""
        raise NotImplementedError

    def set_flag(self, name, value):
        raise NotImplementedError

    def take_flag(self, name):
        """Read and clear a flag in one step."""
        raise NotImplementedError

    def count(self, name, delta=1):
        """Add to a named counter; returns the new value."""
        raise NotImplementedError

    def counters(self):
        """{name: value} of every counter."""
        raise NotImplementedError

    def try_dispatch_lock(self):
        """Take the dispatcher's lock if free (one tick at a time, across generations); True when taken."""
        raise NotImplementedError

    def release_dispatch_lock(self):
        raise NotImplementedError

    def ensure_workers(self, size):
        """A bounded pool of worker threads (made once; made again after shutdown); returns its size."""
        raise NotImplementedError

    def retire_threads(self):
        """A new generation begins: threads that ran older code finish what they run, then end."""
        raise NotImplementedError

    def submit(self, fn):
        """Run fn() on a worker thread; raises when the pool cannot take it (shut down)."""
        raise NotImplementedError

    def start_ticks(self, fn, delay_ms):
        """Call fn every delay_ms with a fixed delay, like an Ignition gateway timer event (once per kernel)."""
        raise NotImplementedError

    def schedule_repeating(self, name, fn, delay_ms):
        """Call fn every delay_ms on a scheduler thread; the same name again replaces the previous task."""
        raise NotImplementedError

    def wake(self, fn, delay_ms=0):
        """Run fn on the dispatcher's thread soon (or after delay_ms); pending wakes of each kind coalesce into
        one call. Returns False when nothing can run it (no scheduler)."""
        raise NotImplementedError

    def run_later(self, name, fn, delay_ms):
        """Run fn once on the dispatcher's thread after delay_ms; the same name again replaces a pending one (the
        dispatcher's timer for the next delayed start or schedule fire, finer than the tick)."""
        raise NotImplementedError

    def shutdown(self, wait_s):
        """Stop the ticks, the scheduled tasks and the workers, waiting up to wait_s for running work."""
        raise NotImplementedError
