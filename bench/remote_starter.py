"""Starts runs from another process (a client scope) and reports start() returning -> first step running.

Run by workloads.remote_start_to_running while a gateway executes; prints one JSON line.
"""
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

import workloads  # noqa: E402,F401 - registers the b.* workflows for validation
from exchange.workflows.api import service  # noqa: E402
from exchange.workflows.engine.engine import Engine, EngineConfig  # noqa: E402
from exchange.workflows.host import hosts, runtime  # noqa: E402


def main(url, count):
    host = hosts.cpython_host(url, executes=False)
    runtime.install(Engine(host, EngineConfig(executor_id="remote-starter", migrate=False)))
    delays = []
    for _ in range(count):
        resp = service.start(workflowName="b.first")
        returned = time.time()
        run = workloads.wait_done(resp["data"]["workflowId"])
        delays.append(max(0.0, run["output"] - returned))
        time.sleep(0.02)
    host.close()
    print(json.dumps({"start_to_running_ms_other_process": workloads.median(delays) * 1000}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
