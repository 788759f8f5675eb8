"""The settings a gateway starts with unless told otherwise, stated once.

The standalone gateway's options, the Ignition startup (admin.startGateway) and EngineConfig all read these;
the Ignition timer event's delay (gateway_scripts/ignition/timer/...) is checked against TICK_MS by a test.
"""

WORKERS = 8  # worker threads: the most runs one gateway executes at once
TICK_MS = 1000  # the dispatcher timer: heartbeat, recovery, claims
LEASE_MS = 30000  # how old a heartbeat may be before other gateways recover that gateway's runs
MAX_RECOVERY_ATTEMPTS = 10  # recoveries of one run before it is given up
SHUTDOWN_GRACE_S = 10.0  # a clean stop waits this long for running steps to finish
