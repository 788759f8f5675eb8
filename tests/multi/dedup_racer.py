# A script for `./gateway console` (Jython, client scope): start one run per deduplication id, racing other clients.
#
# Reads $MULTI_RACE_GO (a file to wait for, so every racer starts together; <go>.ready-<pid> says it is up), $MULTI_RACE_IDS (comma-separated
# deduplication ids, tried in this order) and $MULTI_RACE_QUEUE; prints one JSON line per start:
# {"dedup": id, "code": envelope code, "workflowId": id the envelope names}.
import json
import os
import time

go = os.environ["MULTI_RACE_GO"]
open("%s.ready-%d" % (go, os.getpid()), "w").close()  # this racer is up: the test says go when all are
deadline = time.time() + 120
while not os.path.exists(go) and time.time() < deadline:
    time.sleep(0.01)
for dedup in os.environ["MULTI_RACE_IDS"].split(","):
    resp = exchange.workflows.api.service.start(  # noqa: F821 - the console provides `exchange`
        workflowName="m.quick", inputs={"resolved": {}},
        queueName=os.environ["MULTI_RACE_QUEUE"], deduplicationId=dedup, actor="racer-%d" % os.getpid())
    print(json.dumps({"dedup": dedup, "code": resp["code"], "workflowId": (resp["data"] or {}).get("workflowId")}))
