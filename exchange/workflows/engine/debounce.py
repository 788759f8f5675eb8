"""Debounced starts: calls with one key collapse into one run that starts once the calls stop for a quiet time
(or once maxWait has passed since the burst's first call), with the latest call's inputs.

Durable: the burst is a DELAYED run whose row each call updates (store: transitions.debounce). In memory: the
burst lives in the kernel's `debounces` map (no database I/O on the caller's thread) and becomes an in-memory
start when it is due; a clean stop writes the bursts still open as durable ones, a hard crash loses them.
"""
from exchange.workflows.engine import starts
from exchange.workflows.util.compat import string_types
from exchange.workflows.util.errors import InvalidArgument

_SEP = u"\t"


def check(debounceKey, quietSeconds, maxWaitSeconds):
    """(key, quiet ms, max wait ms or None), each checked."""
    if not isinstance(debounceKey, string_types) or not debounceKey.strip() or \
            len(debounceKey) > starts.MAX_KEY_LENGTH or u"\x00" in debounceKey or _SEP in debounceKey:
        raise InvalidArgument("debounceKey must be a non-empty string of at most %d characters (no tab or NUL)"
                              % starts.MAX_KEY_LENGTH, field="debounceKey")
    if quietSeconds is None:
        raise InvalidArgument("quietSeconds is required", field="quietSeconds")
    quiet = starts.delay_ms(quietSeconds, "quietSeconds", zero_ok=False)
    most = starts.delay_ms(maxWaitSeconds, "maxWaitSeconds", zero_ok=False)
    if most is not None and most < quiet:
        raise InvalidArgument("maxWaitSeconds must not be shorter than quietSeconds", field="maxWaitSeconds")
    return debounceKey, quiet, most


def start_durable(engine, row, key, quiet_ms, max_wait_ms, now):
    """One call of a durable burst; returns ('joined' | 'started', run id, start time)."""
    row = dict(row)
    row["debounce_key"] = key
    outcome, wid, starts_at = engine.store.transitions.debounce(row, quiet_ms, max_wait_ms, now,
                                                               starts.notify_payload(engine, row))
    engine.timed_work_added(starts_at)
    return outcome, wid, starts_at


def _entry(wid, due, until, packed):
    return u"%s%s%d%s%d%s%s" % (wid, _SEP, due, _SEP, until, _SEP, packed)


def _parse(text):
    wid, due, until, packed = text.split(_SEP, 3)
    return wid, int(due), int(until), packed


def _with_id(packed, wid):
    """A packed start row with the burst's id in place of its own (both are UUIDs, so the length is the same)."""
    start = len(starts.PACKED_PREFIX)
    return packed[:start] + wid + packed[start + len(wid):]


def offer_in_memory(engine, row, key, quiet_ms, max_wait_ms, now):
    """One call of an in-memory burst; returns ('joined' | 'started', run id, start time)."""
    bursts = engine.kernel.debounces
    slot = u"%s%s%s" % (row["name"], _SEP, key)
    packed = starts.pack(row)
    while True:
        old = bursts.get(slot)
        if old is None:
            until = now + max_wait_ms if max_wait_ms is not None else -1
            due = now + quiet_ms if until < 0 else min(now + quiet_ms, until)
            if bursts.put_if_absent(slot, _entry(row["workflow_uuid"], due, until, packed)):
                return "started", row["workflow_uuid"], due
            continue
        wid, _, until, _ = _parse(old)
        due = now + quiet_ms if until < 0 else min(now + quiet_ms, until)
        if bursts.replace(slot, old, _entry(wid, due, until, _with_id(packed, wid))):
            return "joined", wid, due


def take_due(engine, now):
    """The packed starts of the in-memory bursts due by now (taken out of the map), and the next due time."""
    bursts = engine.kernel.debounces
    if not bursts.size():
        return [], None
    due_rows = []
    next_at = None
    for slot in bursts.keys():
        text = bursts.get(slot)
        if text is None:
            continue
        _, due, _, packed = _parse(text)
        if due <= now:
            if bursts.remove_if(slot, text):
                due_rows.append(packed)
        else:
            next_at = due if next_at is None else min(next_at, due)
    return due_rows, next_at


def write_open_bursts(engine, now):
    """At a clean stop: the bursts still open become durable ones (DELAYED runs with their key and time)."""
    bursts = engine.kernel.debounces
    written = 0
    for slot in bursts.keys():
        text = bursts.get(slot)
        if text is None or not bursts.remove_if(slot, text):
            continue
        wid, due, until, packed = _parse(text)
        row = starts.unpack(packed)
        row["status"] = starts.DELAYED
        row["wake_at"] = due
        row["debounce_key"] = slot.split(_SEP, 1)[1]
        row["debounce_until"] = until if until >= 0 else None
        engine.store.transitions.enqueue(row)
        written += 1
    return written
