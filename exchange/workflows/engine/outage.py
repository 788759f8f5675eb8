"""Waiting out a database that cannot be reached: the one retry loop of the engine.

A step that finished while PostgreSQL restarts must still record its checkpoint, and a worker that begins a run
must still write its begin: they wait with a growing pause and try again, for as long as it takes. Errors other
than "unreachable" are raised at once (a retry would not change their answer).
"""
from exchange.workflows.util.errors import DatabaseError

FIRST_PAUSE_S = 0.05
LONGEST_PAUSE_S = 2.0


def retrying(engine, fn, args=(), pause=None, when_stopping=None):
    """fn(*args), called again after each pause while the database is unreachable.

    pause(seconds) waits between attempts (default: engine.sleep). Once the gateway is stopping, the wait ends:
    `when_stopping()` gives the exception to raise (the database error itself when None)."""
    delay = FIRST_PAUSE_S
    while True:
        try:
            return fn(*args)
        except DatabaseError as exc:
            if not exc.unavailable:
                raise
            engine.note_db_outage(exc)
            if engine.stopping():
                if when_stopping is not None:
                    raise when_stopping()
                raise
            (pause or engine.sleep)(delay)
            delay = min(delay * 2, LONGEST_PAUSE_S)
