"""A small simulated plant for the demo workflows of the standalone gateway: every reactor folder under
[default]Demo fills while its InletValve tag is true, its Level tag rising toward its Setpoint.

demo.reactor_charge writes the setpoint and opens the valve, then waits (durably) for the level: the simulation
lets it finish by itself. The level is computed from the time of its last write, so several gateways simulating
on one database agree instead of filling twice as fast.
"""
from exchange.workflows.util.clock import now_ms

FOLDER = "[default]Demo"
FILL_SECONDS = 10.0  # a charge takes about this long, whatever its size
SMALLEST_RATE = 5.0  # kg per second
EVERY_MS = 250
TAGS_AT_MOST = 3000  # what one simulation step reads (three tags a reactor)


def reactor_tags(reactor):
    base = "%s/%s/" % (FOLDER, reactor)
    return {"setpoint": base + "Setpoint", "valve": base + "InletValve", "level": base + "Level"}


def simulate(tags, now=None):
    """One step of the simulation (one read of every tag under the folder); returns how many levels it wrote."""
    now = now if now is not None else now_ms()
    writes = []
    for named in _reactors(tags.tags_under(FOLDER, TAGS_AT_MOST)):
        valve, level, setpoint = named.get("inletvalve"), named.get("level"), named.get("setpoint")
        if valve is None or level is None or setpoint is None:
            continue
        if valve["value"] is not True or not level["good"] or not setpoint["good"]:
            continue
        current, target = level["value"] or 0.0, setpoint["value"] or 0.0
        elapsed = (now - (level["timestamp"] or now)) / 1000.0
        if current >= target or elapsed < (EVERY_MS - 50) / 1000.0:
            continue
        rate = max(SMALLEST_RATE, target / FILL_SECONDS)
        writes.append((level["path"], min(float(target), round(current + rate * elapsed, 3))))
    if writes:
        tags.write([p for p, _ in writes], [v for _, v in writes])
    return len(writes)


def _reactors(readings):
    """The readings of the folder's tags grouped by reactor: [{tag name in lower case: reading}]."""
    prefix = (FOLDER + "/").lower()
    by_reactor = {}
    for current in readings:
        parts = current["path"][len(prefix):].split("/") if current["path"].lower().startswith(prefix) else []
        if len(parts) == 2:
            by_reactor.setdefault(parts[0].lower(), {})[parts[1].lower()] = current
    return [by_reactor[name] for name in sorted(by_reactor)]


def start(engine):
    """Run the simulation on the gateway's scheduler (the standalone gateway with the demo workflows)."""
    log = engine.logger("demo")

    def step():
        try:
            simulate(engine.host.tags)
        except:  # noqa: E722 - Python or Java: the simulation never stops the scheduler
            import sys

            log.warn("demo plant simulation: %s" % (sys.exc_info()[1],))
    engine.kernel.schedule_repeating("demoPlant", step, EVERY_MS)
