"""Demo workflows: loaded by ./gateway run, used by the README, the console walkthrough and the tests.

demo.commands_60s  about 60 one-second steps; honours HOLD / RESUME / STOP, and RESET resets its counter
demo.quick         three short steps, for quick tries
demo.procedure     a batch procedure: one demo.unit_procedure per unit (its partition key), side by side, awaited
                   together; HOLD / RESUME / STOP of the procedure go on to its unit procedures
demo.unit_procedure  about 20 one-second steps on one unit
demo.reactor_charge  plant I/O: write and confirm a setpoint, open a valve, wait for the level tag (the standalone
                     gateway simulates the reactor, see demo/plant.py)
"""
import time

from exchange.workflows.engine.context import getWorkflows
from exchange.workflows.engine.decorators import step, workflow


@step(name="prepare")
def prepare(batch, mode):
    return {"batch": batch, "mode": mode}


@step(name="tick")
def tick(index, counter):
    time.sleep(1.0)
    return counter + 1


@step(name="report")
def report(batch, counter):
    return "batch %s finished after %d ticks" % (batch, counter)


def _cleanup_after_stop():
    getWorkflows().progress("stopped: equipment returned to a safe state")
    return "safe"


@workflow(name="demo.commands_60s",
          params={"paramOne": {"type": "str", "label": "Batch id"},
                  "paramTwo": {"type": "str", "label": "Mode", "choices": ["AUTO", "MANUAL"]}},
          templates={"default": {"paramOne": "BATCH-001", "paramTwo": "AUTO"}},
          commands=["RESET"],
          on_stop=_cleanup_after_stop)
def commands_60s(paramOne="BATCH-001", paramTwo="AUTO"):
    """About 60 one-second steps an operator can hold, resume, stop and reset."""
    wf = getWorkflows()
    prepare(paramOne, paramTwo)
    counter = 0
    for index in range(60):
        command = wf.recvCommand(topic="cmd", timeoutSeconds=0)
        if command is not None and command["cmd"] == "RESET":
            counter = 0
            wf.progress("counter reset by %s" % command["actor"], {"reason": command["reason"]})
        counter = tick(index, counter)
        wf.setEvent("counter", counter)
    return {"batch": paramOne, "mode": paramTwo, "ticks": counter, "summary": report(paramOne, counter)}


@step(name="first")
def first(paramOne):
    return "first:%s" % paramOne


@step(name="second")
def second(value):
    return value + ":second"


@step(name="third")
def third(value, paramTwo):
    return "%s:third:%s" % (value, paramTwo)


@workflow(name="demo.quick", templates={"default": {"paramOne": "BATCH-001", "paramTwo": "AUTO"}})
def quick(paramOne="BATCH-001", paramTwo="AUTO"):
    """Three short steps."""
    value = third(second(first(paramOne)), paramTwo)
    getWorkflows().setEvent("result", value)
    return value


@step(name="phase")
def unit_phase(unit, index):
    time.sleep(1.0)
    return {"unit": unit, "phase": index + 1}


def _unit_safe_state():
    getWorkflows().progress("unit stopped: valves closed, agitator off")
    return "safe"


@workflow(name="demo.unit_procedure",
          params={"batch": {"type": "str", "label": "Batch id"}, "unit": {"type": "str", "label": "Unit"},
                  "phases": {"type": "int", "label": "Phases"}},
          templates={"default": {"batch": "BATCH-001", "unit": "line-1/reactor-a", "phases": 20}},
          on_stop=_unit_safe_state)
def unit_procedure(batch="BATCH-001", unit="line-1/reactor-a", phases=20):
    """About 20 one-second steps on one unit of a batch."""
    wf = getWorkflows()
    done = 0
    for index in range(phases):
        unit_phase(unit, index)
        done += 1
        wf.setEvent("phase", done)
    return {"batch": batch, "unit": unit, "phases": done}


def _procedure_safe_state():
    getWorkflows().progress("procedure stopped after its unit procedures")
    return "safe"


@workflow(name="demo.procedure",
          params={"batch": {"type": "str", "label": "Batch id"},
                  "units": {"type": "json", "label": "Units (a list of partition keys)"}},
          templates={"default": {"batch": "BATCH-001", "units": ["line-1/reactor-a", "line-1/reactor-b"]}},
          on_stop=_procedure_safe_state)
def procedure(batch="BATCH-001", units=None):
    """A batch procedure: one unit procedure per unit, run side by side and awaited together."""
    wf = getWorkflows()
    units = list(units or ["line-1/reactor-a", "line-1/reactor-b"])
    children = [wf.startChild("demo.unit_procedure", {"batch": batch, "unit": unit, "phases": 20}, partitionKey=unit)
                for unit in units]
    wf.progress("started %d unit procedures" % len(children), {"children": children})
    outputs = wf.awaitAll(children)
    return {"batch": batch, "units": outputs}


# -- plant I/O: a reactor charge on the simulated tags of demo/plant.py ------------------------------------------------

@step(name="empty reactor")
def _empty_reactor(level_path):
    from exchange.workflows.steps import tags

    tags.write(level_path, 0.0)
    return 0.0


def _valve_closed():
    from exchange.workflows.steps import tags

    reactor = getWorkflows().inputs.get("resolved", {}).get("reactor", "R1")
    tags.write("[default]Demo/%s/InletValve" % reactor, False)
    getWorkflows().progress("stopped: inlet valve closed")
    return "safe"


@workflow(name="demo.reactor_charge",
          params={"reactor": {"type": "str", "label": "Reactor"},
                  "targetKg": {"type": "float", "label": "Charge (kg)"}},
          templates={"default": {"reactor": "R1", "targetKg": 500.0}},
          on_stop=_valve_closed)
def reactor_charge(reactor="R1", targetKg=500.0):
    """Write the setpoint and confirm it, open the inlet valve, wait (holding no worker thread) until the level
    reaches the setpoint, close the valve. The standalone gateway's simulated plant fills the reactor."""
    from exchange.workflows.demo.plant import reactor_tags
    from exchange.workflows.steps import tags

    wf = getWorkflows()
    named = reactor_tags(reactor)
    _empty_reactor(named["level"])
    tags.writeConfirm(named["setpoint"], float(targetKg), timeoutSeconds=10)
    tags.write(named["valve"], True)
    wf.progress("charging %s: inlet valve open, waiting for %s kg" % (reactor, targetKg))
    reached = wf.waitForTag(named["level"], equals=float(targetKg), tolerance=0.05, timeoutSeconds=600)
    tags.write(named["valve"], False)
    wf.progress("charged %s kg into %s" % (reached["value"], reactor))
    return {"reactor": reactor, "targetKg": targetKg, "levelKg": reached["value"]}
