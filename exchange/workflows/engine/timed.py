"""The dispatcher's timed work: delayed runs whose time came, schedule fires, in-memory debounce bursts that are
due, waiting runs whose wake time came (a sleep's end, a wait's timeout), and a timer for the next of them that
falls within the coming tick.

A full tick asks the database for what is due within one tick; a timer set for the earliest of those runs a
light tick at that moment, so a delayed start or a fire is claimed within milliseconds of its time rather than
at the next tick. A start or schedule change in this process sets the timer too (timed_work_added).
"""
from exchange.workflows.engine import debounce, schedules
from exchange.workflows.util.clock import now_ms

TIMER = "timed"
RELEASE_BATCH = 200


class TimedWork(object):
    def __init__(self, engine, dispatcher):
        self.engine = engine
        self.dispatcher = dispatcher
        self.next_at = None  # the earliest timed work known in this process
        self._timer_at = None

    def due(self, now):
        return self.next_at is not None and now >= self.next_at

    def run(self, now, full):
        """Do what is due; on a full tick (or when told something changed) look in the database again."""
        engine = self.engine
        horizon = engine.config.tick_ms
        look = full or engine.kernel.take_flag("timedWork") or self.due(now)
        if not look and not engine.kernel.debounces.size():
            self._arm(now)  # a timer that fired early, or for a time that moved on: set it for the next
            return
        candidates = []
        packed, memory_next = debounce.take_due(engine, now)
        if packed:
            for text in packed:
                engine.kernel.memory_queue.offer(text)
            self.dispatcher.flush_memory_queue(now)
        candidates.append(memory_next)
        if look:
            candidates.append(self._release_delayed(now, horizon))
            candidates.append(self._waits_due(now, horizon))
            _, fire_next, queues = schedules.fire_due(engine, now, horizon)
            for queue_name in queues:
                self.dispatcher.revisit(queue_name)
            candidates.append(fire_next)
            if queues:
                engine.kernel.set_flag("newWork", True)
        else:
            candidates.append(self.next_at if self.next_at is not None and self.next_at > now else None)
        known = [c for c in candidates if c is not None]
        self.next_at = min(known) if known else None
        self._arm(now)

    def _release_delayed(self, now, horizon):
        transitions = self.engine.store.transitions
        upcoming = None
        rows = transitions.delayed_due(now + horizon, RELEASE_BATCH)
        for workflow_uuid, wake_at in rows:
            if wake_at > now:
                upcoming = wake_at if upcoming is None else min(upcoming, wake_at)
                continue
            queue_name = transitions.release_delayed(workflow_uuid, now)
            if queue_name is not None:
                self.dispatcher.revisit(queue_name)
        if len(rows) == RELEASE_BATCH and upcoming is None:
            upcoming = now  # more are due: the next light tick takes them
        return upcoming

    def _waits_due(self, now, horizon):
        """Waiting runs whose wake time came (a sleep's end, a wait's timeout) are claimed in this tick; the next
        one within the horizon gets the timer."""
        woken, upcoming = self.engine.store.waits_waking(now, now + horizon)
        if woken:
            self.engine.kernel.set_flag("waitsWoken", True)
        return upcoming

    def added(self, at_ms):
        """Timed work was added in this process (a delayed start, a burst, a schedule made or changed)."""
        if at_ms is None:
            self.engine.kernel.set_flag("timedWork", True)
            self.engine.wake(new_work=False)
            return
        if self.next_at is None or at_ms < self.next_at:
            self.next_at = at_ms
        self._arm(now_ms())

    def _arm(self, now):
        """A timer for the next timed work if it comes before the next tick would see it."""
        at = self.next_at
        if at is None or (self._timer_at is not None and now < self._timer_at <= at):
            return
        if at - now > self.engine.config.tick_ms * 2:
            return  # a later full tick sees it within its horizon
        self._timer_at = at
        engine = self.engine
        if engine.host.executes and not engine.stopping():
            engine.kernel.run_later(TIMER, self._fired, max(0, at - now_ms()))  # the tick took time already

    def _fired(self):
        self._timer_at = None
        self.engine.wake(new_work=False)
