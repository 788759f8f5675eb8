"""The timer tick survives a busy dispatcher: wakes and light ticks never starve the heartbeat.

A queue under load wakes the dispatcher many times a second (every start and every finished run). The full tick
(heartbeat, recovery, the command poll) must still run every period: a gateway that stops heartbeating makes its
own workers verify ownership before every step, and past the lease the other gateways take its runs.
"""
import threading
import time

from exchange.workflows.util.clock import now_ms


def heartbeat_at(engine):
    rows = engine.store.db.query("SELECT heartbeat_at FROM workflows.executors WHERE executor_id = ?",
                                 (engine.executor_id,))
    return int(rows[0][0])


def test_a_dispatcher_woken_all_the_time_still_heartbeats_every_tick(make_engine):
    engine = make_engine(executor_id="gw-busy", tick_ms=100)
    stop = threading.Event()

    def wake_constantly():
        while not stop.is_set():
            engine.wake()
            time.sleep(0.002)

    waker = threading.Thread(target=wake_constantly)
    waker.start()
    try:
        ages = []
        for _ in range(10):
            time.sleep(0.1)
            ages.append(now_ms() - heartbeat_at(engine))
    finally:
        stop.set()
        waker.join()
    assert max(ages) < 600, ages  # a heartbeat every 100 ms tick, whatever the wakes


def test_a_full_tick_that_finds_a_light_one_running_is_run_after_it(make_engine):
    engine = make_engine(executor_id="gw-tick", tick_ms=60000)  # no timer tick during the test
    before = heartbeat_at(engine)
    time.sleep(0.01)
    assert engine.kernel.try_dispatch_lock()  # a light tick is running
    try:
        assert engine.dispatcher.tick(full=True) is False  # the timer's tick cannot run now
    finally:
        engine.kernel.release_dispatch_lock()
    assert heartbeat_at(engine) == before
    engine.dispatcher.tick(full=False)  # the next tick of any kind carries the full tick's work
    assert heartbeat_at(engine) > before
